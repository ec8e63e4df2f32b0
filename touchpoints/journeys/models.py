"""Journeys: versioned journey templates, enrolments, touchpoints and the lifecycle events behind them."""
from __future__ import annotations

import enum
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from touchpoints.db_types import UTCDateTime, string_enum, utcnow
from touchpoints.extensions import db


def _label(value: str) -> str:
    return value.replace("_", " ").capitalize()


class HumanTouchLevel(enum.StrEnum):
    """How much of a person a moment carries, from face to face down to fully automated."""

    IN_PERSON = "in_person"
    LIVE_REMOTE = "live_remote"
    ASYNCHRONOUS = "asynchronous"
    AUTOMATED = "automated"

    @property
    def label(self) -> str:
        return {"in_person": "In person", "live_remote": "Live, remote",
                "asynchronous": "Asynchronous", "automated": "Automated"}[self.value]

    @property
    def is_human(self) -> bool:
        return self in (HumanTouchLevel.IN_PERSON, HumanTouchLevel.LIVE_REMOTE)


class Mode(enum.StrEnum):
    """How a touchpoint is planned to happen, or did happen."""

    IN_PERSON = "in_person"
    VIDEO = "video"
    PHONE = "phone"
    CHAT = "chat"
    EMAIL = "email"
    SELF_SERVE = "self_serve"

    @property
    def label(self) -> str:
        return {"in_person": "In person", "video": "Video call", "phone": "Phone call",
                "chat": "Chat", "email": "Email", "self_serve": "Self-serve"}[self.value]

    @property
    def human_touch_level(self) -> HumanTouchLevel:
        return {
            "in_person": HumanTouchLevel.IN_PERSON,
            "video": HumanTouchLevel.LIVE_REMOTE,
            "phone": HumanTouchLevel.LIVE_REMOTE,
            "chat": HumanTouchLevel.ASYNCHRONOUS,
            "email": HumanTouchLevel.ASYNCHRONOUS,
            "self_serve": HumanTouchLevel.AUTOMATED,
        }[self.value]

    @property
    def is_human(self) -> bool:
        """In person or live remote: a real conversation took place."""
        return self.human_touch_level.is_human


HUMAN_MODES = frozenset(m for m in Mode if m.is_human)


class TouchpointKind(enum.StrEnum):
    WELCOME = "welcome"
    BUDDY_INTRO = "buddy_intro"
    ONE_ON_ONE = "one_on_one"
    CHECK_IN = "check_in"
    PERFORMANCE_REVIEW = "performance_review"
    GROWTH_CONVERSATION = "growth_conversation"
    GRIEVANCE_MEETING = "grievance_meeting"
    TERMINATION_MEETING = "termination_meeting"
    TRAINING_MODULE = "training_module"
    LIVE_DISCUSSION = "live_discussion"
    COACHING = "coaching"
    MENTORING = "mentoring"
    KNOWLEDGE_HANDOVER = "knowledge_handover"
    FAREWELL = "farewell"
    EXIT_INTERVIEW = "exit_interview"
    PULSE_SURVEY = "pulse_survey"
    TEAM_MEETING = "team_meeting"
    TOWN_HALL = "town_hall"
    TEAM_RETREAT = "team_retreat"
    COFFEE_CHAT = "coffee_chat"
    RETURN_TO_WORK = "return_to_work"
    OTHER = "other"

    @property
    def label(self) -> str:
        special = {"one_on_one": "One-on-one", "check_in": "Check-in", "buddy_intro": "Buddy introduction",
                   "return_to_work": "Return-to-work conversation"}
        return special.get(self.value, _label(self.value))

    @property
    def is_sensitive(self) -> bool:
        """Moments whose substance stays in the app: never in chat, never in a nudge's text."""
        return self in SENSITIVE_KINDS

    @property
    def hr_only(self) -> bool:
        """Grievances are visible to HR, the person concerned and the owner only, never the line."""
        return self is TouchpointKind.GRIEVANCE_MEETING


SENSITIVE_KINDS = frozenset({
    TouchpointKind.PERFORMANCE_REVIEW, TouchpointKind.GRIEVANCE_MEETING,
    TouchpointKind.TERMINATION_MEETING, TouchpointKind.EXIT_INTERVIEW,
    TouchpointKind.RETURN_TO_WORK,
})


class OwnerRole(enum.StrEnum):
    MANAGER = "manager"
    HR_PARTNER = "hr_partner"
    BUDDY = "buddy"
    MENTOR = "mentor"
    EMPLOYEE = "employee"

    @property
    def label(self) -> str:
        return {"manager": "Manager", "hr_partner": "HR partner", "buddy": "Buddy",
                "mentor": "Mentor", "employee": "The employee"}[self.value]


class Anchor(enum.StrEnum):
    HIRE_DATE = "hire_date"
    START_DATE = "start_date"
    ENROLMENT = "enrolment"
    EXIT_DATE = "exit_date"

    @property
    def label(self) -> str:
        return {"hire_date": "Hire date", "start_date": "Start date", "enrolment": "Enrolment",
                "exit_date": "Exit date"}[self.value]


class OffsetUnit(enum.StrEnum):
    CALENDAR_DAYS = "calendar_days"
    WORKING_DAYS = "working_days"

    @property
    def label(self) -> str:
        return _label(self.value)


class TouchpointStatus(enum.StrEnum):
    PLANNED = "planned"
    SCHEDULED = "scheduled"
    DONE = "done"
    MISSED = "missed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return _label(self.value)

    @property
    def is_open(self) -> bool:
        return self in OPEN_STATUSES


OPEN_STATUSES = (TouchpointStatus.PLANNED, TouchpointStatus.SCHEDULED)


class Confirmation(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    DISPUTED = "disputed"

    @property
    def label(self) -> str:
        return {"pending": "Awaiting confirmation", "confirmed": "Confirmed",
                "disputed": "Disputed"}[self.value]


class JourneyStage(enum.StrEnum):
    """The part of the employee lifecycle a journey serves."""

    ONBOARDING = "onboarding"
    DEVELOPMENT = "development"
    OFFBOARDING = "offboarding"
    OTHER = "other"

    @property
    def label(self) -> str:
        return _label(self.value)


class JourneyStatus(enum.StrEnum):
    """Draft while HR edits; active takes enrolments; superseded by a newer version; retired."""

    DRAFT = "draft"
    ACTIVE = "active"
    SUPERSEDED = "superseded"
    RETIRED = "retired"

    @property
    def label(self) -> str:
        return _label(self.value)


class EnrolTrigger(enum.StrEnum):
    """The lifecycle moment that enrols a person in a journey automatically."""

    HIRE = "hire"
    EXIT_DATE_SET = "exit_date_set"

    @property
    def label(self) -> str:
        return {"hire": "A new hire", "exit_date_set": "An exit date is set"}[self.value]


class EnrolmentStatus(enum.StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    ENDED = "ended"

    @property
    def label(self) -> str:
        return _label(self.value)


class LifecycleEventKind(enum.StrEnum):
    HIRE = "hire"
    START = "start"
    START_DATE_MOVED = "start_date_moved"
    MANAGER_CHANGE = "manager_change"
    LEAVE = "leave"
    RETURN = "return"
    EXIT_DATE_SET = "exit_date_set"
    EXIT = "exit"
    REHIRE = "rehire"

    @property
    def label(self) -> str:
        return {"hire": "Hired", "start": "Started", "start_date_moved": "Start date moved",
                "manager_change": "Manager changed", "leave": "Went on leave",
                "return": "Returned from leave", "exit_date_set": "Exit date set",
                "exit": "Left", "rehire": "Rehired"}[self.value]


class SupportKind(enum.StrEnum):
    BUDDY = "buddy"
    MENTOR = "mentor"

    @property
    def label(self) -> str:
        return _label(self.value)


class JourneyTemplate(db.Model):
    """One version of a journey; `key` stays the same across versions."""

    __tablename__ = "journey_templates"
    __table_args__ = (
        UniqueConstraint("key", "version", name="uq_journey_templates_key_version"),
        # At most one active version per journey: enrolments always know which to use.
        Index("uq_journey_templates_active_key", "key", unique=True,
              sqlite_where=text("status = 'active'"), postgresql_where=text("status = 'active'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(120))
    stage: Mapped[JourneyStage] = mapped_column(string_enum(JourneyStage, 24), default=JourneyStage.OTHER)
    version: Mapped[int] = mapped_column(default=1)
    status: Mapped[JourneyStatus] = mapped_column(string_enum(JourneyStatus, 24), default=JourneyStatus.DRAFT)
    description: Mapped[str] = mapped_column(Text, default="")
    enrols_on: Mapped[EnrolTrigger | None] = mapped_column(string_enum(EnrolTrigger, 24))
    previous_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("journey_templates.id", ondelete="SET NULL")
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    touchpoint_templates: Mapped[list[TouchpointTemplate]] = relationship(
        back_populates="journey", cascade="all, delete-orphan",
        order_by="TouchpointTemplate.position",
    )
    previous_version: Mapped[JourneyTemplate | None] = relationship(remote_side=[id])

    @property
    def label(self) -> str:
        return f"{self.name} (v{self.version})"

    def __repr__(self) -> str:
        return f"<JourneyTemplate {self.key} v{self.version} {self.status}>"


class TouchpointTemplate(db.Model):
    """One planned moment in a journey: what, how, who, and when relative to an anchor date."""

    __tablename__ = "touchpoint_templates"
    __table_args__ = (
        UniqueConstraint("journey_id", "key", name="uq_touchpoint_templates_journey_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journey_templates.id", ondelete="CASCADE"))
    # Stable across versions of the journey, so figures and migrations follow "the same" moment.
    key: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(default=0)
    # The journey-map stage this moment belongs to, in HR's words ("Before day one", "First week").
    phase: Mapped[str] = mapped_column(String(80), default="")
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[TouchpointKind] = mapped_column(string_enum(TouchpointKind, 24))
    planned_mode: Mapped[Mode] = mapped_column(string_enum(Mode, 24))
    owner_role: Mapped[OwnerRole] = mapped_column(string_enum(OwnerRole, 24))
    anchor: Mapped[Anchor] = mapped_column(string_enum(Anchor, 24))
    offset: Mapped[int] = mapped_column("offset_amount", default=0)
    offset_unit: Mapped[OffsetUnit] = mapped_column(
        string_enum(OffsetUnit, 24), default=OffsetUnit.CALENDAR_DAYS
    )
    # Local wall-clock time in the employee's zone; clamped into their working hours.
    time_of_day: Mapped[time] = mapped_column(default=time(10, 0))
    # RFC 5545 recurrence rule body, e.g. "FREQ=WEEKLY;INTERVAL=2"; null for a one-off.
    rrule: Mapped[str | None] = mapped_column(String(255))
    # One-on-one series may follow the cadence setting (person > team > company) instead of rrule.
    follows_cadence: Mapped[bool] = mapped_column(default=False)
    series_length: Mapped[int | None]
    until_anchor: Mapped[Anchor | None] = mapped_column(string_enum(Anchor, 24))
    duration_minutes: Mapped[int] = mapped_column(default=30)
    description: Mapped[str] = mapped_column(Text, default="")
    sensitive: Mapped[bool] = mapped_column(default=False)

    journey: Mapped[JourneyTemplate] = relationship(back_populates="touchpoint_templates")

    @property
    def is_recurring(self) -> bool:
        return bool(self.rrule) or self.follows_cadence

    @property
    def human_touch_level(self) -> HumanTouchLevel:
        return self.planned_mode.human_touch_level

    def __repr__(self) -> str:
        return f"<TouchpointTemplate {self.key} of journey {self.journey_id}>"


class Enrolment(db.Model):
    """A person following one version of a journey."""

    __tablename__ = "enrolments"
    __table_args__ = (
        Index("ix_enrolments_employee_status", "employee_id", "status"),
        Index("ix_enrolments_journey_status", "journey_id", "status"),
        # Enrolling twice creates nothing twice: one live enrolment per person per journey.
        Index("uq_enrolments_active_employee_journey", "employee_id", "journey_key", unique=True,
              sqlite_where=text("status = 'active'"), postgresql_where=text("status = 'active'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    journey_id: Mapped[int] = mapped_column(ForeignKey("journey_templates.id", ondelete="RESTRICT"))
    journey_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[EnrolmentStatus] = mapped_column(
        string_enum(EnrolmentStatus, 24), default=EnrolmentStatus.ACTIVE
    )
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    enrolled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # How: "hand", "bulk", "rule:hire", "rule:exit_date_set", "api".
    source: Mapped[str] = mapped_column(String(32), default="hand")
    # Recurring series exist up to this date; the scheduler extends it day by day.
    materialised_until: Mapped[date | None]
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str] = mapped_column(String(200), default="")

    journey: Mapped[JourneyTemplate] = relationship()
    employee = relationship("Employee", foreign_keys=[employee_id])

    def __repr__(self) -> str:
        return f"<Enrolment {self.employee_id} in {self.journey_key}>"


class Touchpoint(db.Model):
    """One planned moment for one person, and what actually happened."""

    __tablename__ = "touchpoints"
    __table_args__ = (
        UniqueConstraint("enrolment_id", "template_id", "occurrence",
                         name="uq_touchpoints_enrolment_template_occurrence"),
        Index("ix_touchpoints_owner_status_due", "owner_id", "status", "due_at"),
        Index("ix_touchpoints_employee_due", "employee_id", "due_at"),
        Index("ix_touchpoints_status_due", "status", "due_at"),
        Index("ix_touchpoints_template", "template_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    enrolment_id: Mapped[int | None] = mapped_column(ForeignKey("enrolments.id", ondelete="CASCADE"))
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("touchpoint_templates.id", ondelete="SET NULL")
    )
    # 0 for a one-off; 1, 2, 3 ... for the occurrences of a recurring series.
    occurrence: Mapped[int] = mapped_column(default=0)
    kind: Mapped[TouchpointKind] = mapped_column(string_enum(TouchpointKind, 24))
    title: Mapped[str] = mapped_column(String(200))
    planned_mode: Mapped[Mode] = mapped_column(string_enum(Mode, 24))
    owner_role: Mapped[OwnerRole] = mapped_column(string_enum(OwnerRole, 24))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id", ondelete="SET NULL"))
    # Copied from the template so a moved anchor date finds the touchpoints hanging on it.
    anchor: Mapped[Anchor | None] = mapped_column(string_enum(Anchor, 24))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_minutes: Mapped[int] = mapped_column(default=30)
    sensitive: Mapped[bool] = mapped_column(default=False)
    status: Mapped[TouchpointStatus] = mapped_column(
        string_enum(TouchpointStatus, 16), default=TouchpointStatus.PLANNED
    )
    # Why a touchpoint was cancelled or missed ("on_leave", "exit", "enrolment_ended", free text).
    status_reason: Mapped[str] = mapped_column(String(200), default="")
    actual_mode: Mapped[Mode | None] = mapped_column(string_enum(Mode, 24))
    happened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    logged_by_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id", ondelete="SET NULL"))
    logged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmation: Mapped[Confirmation | None] = mapped_column(string_enum(Confirmation, 16))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmation_comment: Mapped[str] = mapped_column(Text, default="")
    # Bumped on every change of time, owner or status: the SEQUENCE of .ics invites.
    sequence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    employee = relationship("Employee", foreign_keys=[employee_id])
    owner = relationship("Employee", foreign_keys=[owner_id])
    logged_by = relationship("Employee", foreign_keys=[logged_by_id])
    enrolment: Mapped[Enrolment | None] = relationship()
    template: Mapped[TouchpointTemplate | None] = relationship()
    agenda_items: Mapped[list[AgendaItem]] = relationship(
        back_populates="touchpoint", cascade="all, delete-orphan", order_by="AgendaItem.id"
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def human_touch_level(self) -> HumanTouchLevel:
        """The level of what happened when logged, otherwise of what was planned."""
        return (self.actual_mode or self.planned_mode).human_touch_level

    def is_overdue(self, now: datetime | None = None) -> bool:
        """Open and its moment has passed."""
        return self.is_open and self.due_at < (now or utcnow())

    def __repr__(self) -> str:
        return f"<Touchpoint {self.kind} for {self.employee_id} at {self.due_at:%Y-%m-%d %H:%M}>"


class AgendaItem(db.Model):
    """A talking point either side adds before a one-on-one; both sides see it."""

    __tablename__ = "agenda_items"
    __table_args__ = (Index("ix_agenda_items_touchpoint", "touchpoint_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    touchpoint_id: Mapped[int] = mapped_column(ForeignKey("touchpoints.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    done: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    touchpoint: Mapped[Touchpoint] = relationship(back_populates="agenda_items")
    author = relationship("Employee", foreign_keys=[author_id])


class PrivateNote(db.Model):
    """One side's own notes on a touchpoint: visible only to its author, never to HR or the API."""

    __tablename__ = "private_notes"
    __table_args__ = (
        UniqueConstraint("touchpoint_id", "author_id", name="uq_private_notes_touchpoint_author"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    touchpoint_id: Mapped[int] = mapped_column(ForeignKey("touchpoints.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class LifecycleEvent(db.Model):
    """A moment in a person's working life (hire, leave, exit ...) that moves their touchpoints."""

    __tablename__ = "lifecycle_events"
    __table_args__ = (Index("ix_lifecycle_events_employee_on", "employee_id", "effective_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    kind: Mapped[LifecycleEventKind] = mapped_column(string_enum(LifecycleEventKind, 24))
    effective_on: Mapped[date]
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    employee = relationship("Employee", foreign_keys=[employee_id])


class SupportAssignment(db.Model):
    """A buddy or mentor looking after a person for a while."""

    __tablename__ = "support_assignments"
    __table_args__ = (
        Index("ix_support_assignments_employee_kind", "employee_id", "kind"),
        Index("ix_support_assignments_partner", "partner_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    kind: Mapped[SupportKind] = mapped_column(string_enum(SupportKind, 10))
    partner_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    started_on: Mapped[date]
    ended_on: Mapped[date | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    employee = relationship("Employee", foreign_keys=[employee_id])
    partner = relationship("Employee", foreign_keys=[partner_id])
