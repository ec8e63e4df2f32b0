"""Team rituals: touchpoints that belong to a team (team meetings, town halls, retreats), their
occurrences, and who attended each one."""
from __future__ import annotations

import enum
from datetime import date, datetime, time

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from touchpoints.db_types import UTCDateTime, string_enum, utcnow
from touchpoints.extensions import db
from touchpoints.journeys.models import Mode, TouchpointKind

RITUAL_KINDS = (TouchpointKind.TEAM_MEETING, TouchpointKind.TOWN_HALL, TouchpointKind.TEAM_RETREAT)


class Audience(enum.StrEnum):
    """Who a ritual is for."""

    TEAM = "team"
    TEAM_AND_SUBTEAMS = "team_and_subteams"
    EVERYONE = "everyone"

    @property
    def label(self) -> str:
        return {"team": "The team", "team_and_subteams": "The team and its sub-teams",
                "everyone": "Everyone in the company"}[self.value]


class OccurrenceStatus(enum.StrEnum):
    PLANNED = "planned"
    HELD = "held"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def badge(self) -> str:
        return {"planned": "info", "held": "ok", "cancelled": "neutral"}[self.value]


class Presence(enum.StrEnum):
    """How one person took part in one occurrence."""

    IN_PERSON = "in_person"
    REMOTE = "remote"
    ABSENT = "absent"

    @property
    def label(self) -> str:
        return {"in_person": "In person", "remote": "Remote", "absent": "Absent"}[self.value]


class Ritual(db.Model):
    """A recurring (or one-off) moment of a team: the plan its occurrences are made from."""

    __tablename__ = "rituals"
    __table_args__ = (Index("ix_rituals_team", "team_id"), Index("ix_rituals_organiser", "organiser_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    # Null only for a company-wide audience.
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    audience: Mapped[Audience] = mapped_column(string_enum(Audience, 20), default=Audience.TEAM)
    kind: Mapped[TouchpointKind] = mapped_column(string_enum(TouchpointKind, 24))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    planned_mode: Mapped[Mode] = mapped_column(string_enum(Mode, 24))
    # RFC 5545 RRULE body (FREQ=MONTHLY;BYDAY=1TU); null for a one-off (a retreat).
    rrule: Mapped[str | None] = mapped_column(String(255))
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]
    # Local time in `timezone`: 10:00 stays 10:00 across daylight-saving changes.
    time_of_day: Mapped[time] = mapped_column(default=time(10, 0))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    duration_minutes: Mapped[int] = mapped_column(default=60)
    location: Mapped[str] = mapped_column(String(200), default="")
    organiser_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(default=True)
    # How far ahead the series is materialised (the scheduler extends it).
    materialised_until: Mapped[date | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    team = relationship("Team", foreign_keys=[team_id])
    organiser = relationship("Employee", foreign_keys=[organiser_id])

    def __repr__(self) -> str:
        return f"<Ritual {self.title}>"


class RitualOccurrence(db.Model):
    """One occurrence of a ritual: a team touchpoint with a due time and, once logged, how it went."""

    __tablename__ = "ritual_occurrences"
    __table_args__ = (
        # The same slot of a series exists once, however often the scheduler runs.
        UniqueConstraint("ritual_id", "due_at", name="uq_ritual_occurrences_ritual_due"),
        Index("ix_ritual_occurrences_status_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ritual_id: Mapped[int] = mapped_column(ForeignKey("rituals.id", ondelete="CASCADE"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[OccurrenceStatus] = mapped_column(string_enum(OccurrenceStatus, 12),
                                                     default=OccurrenceStatus.PLANNED)
    actual_mode: Mapped[Mode | None] = mapped_column(string_enum(Mode, 24))
    location: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    logged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    logged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    ritual = relationship("Ritual", foreign_keys=[ritual_id])


class RitualAttendance(db.Model):
    """Whether one person was at one occurrence, in person or remotely."""

    __tablename__ = "ritual_attendance"
    __table_args__ = (Index("ix_ritual_attendance_employee", "employee_id"),)

    occurrence_id: Mapped[int] = mapped_column(
        ForeignKey("ritual_occurrences.id", ondelete="CASCADE"), primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"),
                                             primary_key=True)
    presence: Mapped[Presence] = mapped_column(string_enum(Presence, 12))
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
