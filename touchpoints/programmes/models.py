"""Buddy and mentor programmes, and the matches (pairs) made in them."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from touchpoints.db_types import UTCDateTime, string_enum, utcnow
from touchpoints.extensions import db
from touchpoints.journeys.models import SupportKind


class MatchStatus(enum.StrEnum):
    ACTIVE = "active"
    ENDED = "ended"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class EndReason(enum.StrEnum):
    """Why a pair stopped meeting: a few honest words HR can count, never a verdict on anyone."""

    RAN_ITS_COURSE = "ran_its_course"
    NO_TIME = "no_time"
    NOT_A_FIT = "not_a_fit"
    ROLE_CHANGE = "role_change"
    LEFT_COMPANY = "left_company"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {"ran_its_course": "It ran its course", "no_time": "Not enough time right now",
                "not_a_fit": "Not the right pairing", "role_change": "A change of role or team",
                "left_company": "Someone left the company", "other": "Another reason"}[self.value]


class EndedBy(enum.StrEnum):
    """Which side closed a pair."""

    EMPLOYEE = "employee"
    PARTNER = "partner"
    HR = "hr"

    @property
    def label(self) -> str:
        return {"employee": "The person supported", "partner": "The buddy or mentor",
                "hr": "An HR partner"}[self.value]


class Programme(db.Model):
    """A buddy or mentor programme: who may take part, how many each may support, the pair's journey."""

    __tablename__ = "programmes"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[SupportKind] = mapped_column(string_enum(SupportKind, 10))
    description: Mapped[str] = mapped_column(Text, default="")
    # The journey (by key, so a new version applies to new pairs) whose buddy/mentor touchpoints the pair has.
    journey_key: Mapped[str] = mapped_column(String(64))
    # Nobody supports more than this many people of this kind at once.
    load_cap: Mapped[int] = mapped_column(default=3)
    # Eligibility of buddies/mentors: months since their start (or hire) date.
    min_tenure_months: Mapped[int] = mapped_column(default=6)
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def partner_word(self) -> str:
        """'buddy' or 'mentor'."""
        return self.kind.value

    @property
    def supports_verb(self) -> str:
        """'buddies' or 'mentors', as in 'buddies 1 of 3'."""
        return "buddies" if self.kind is SupportKind.BUDDY else "mentors"

    def __repr__(self) -> str:
        return f"<Programme {self.key}>"


class ProgrammeMatch(db.Model):
    """A pair in a programme: a person and their buddy or mentor, from the day matched until ended."""

    __tablename__ = "programme_matches"
    __table_args__ = (
        Index("ix_programme_matches_programme_status", "programme_id", "status"),
        Index("ix_programme_matches_employee_status", "employee_id", "status"),
        Index("ix_programme_matches_partner_status", "partner_id", "status"),
        # One live pair per person per programme, whatever two requests do at the same moment.
        Index("uq_programme_matches_active_employee", "programme_id", "employee_id", unique=True,
              sqlite_where=text("status = 'active'"), postgresql_where=text("status = 'active'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    assignment_id: Mapped[int | None] = mapped_column(
        ForeignKey("support_assignments.id", ondelete="SET NULL"))
    enrolment_id: Mapped[int | None] = mapped_column(ForeignKey("enrolments.id", ondelete="SET NULL"))
    status: Mapped[MatchStatus] = mapped_column(string_enum(MatchStatus, 10), default=MatchStatus.ACTIVE)
    started_on: Mapped[date]
    ended_on: Mapped[date | None]
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_by: Mapped[EndedBy | None] = mapped_column(string_enum(EndedBy, 10))
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    end_reason: Mapped[EndReason | None] = mapped_column(string_enum(EndReason, 20))
    # A short, kind word for the other side; they and HR read it, nobody else.
    end_note: Mapped[str] = mapped_column(String(280), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    programme: Mapped[Programme] = relationship()
    employee = relationship("Employee", foreign_keys=[employee_id])
    partner = relationship("Employee", foreign_keys=[partner_id])

    @property
    def is_active(self) -> bool:
        return self.status is MatchStatus.ACTIVE

    def __repr__(self) -> str:
        return f"<ProgrammeMatch {self.partner_id} for {self.employee_id} in {self.programme_id}>"
