"""People: employees, the teams they belong to, and staged CSV imports."""
from __future__ import annotations

import enum
from datetime import date, datetime, time

from sqlalchemy import ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from touchpoints.db_types import UTCDateTime, string_enum, utcnow
from touchpoints.extensions import db


class LifecycleStatus(enum.StrEnum):
    PRE_BOARDING = "pre_boarding"
    ONBOARDING = "onboarding"
    ACTIVE = "active"
    ON_LEAVE = "on_leave"
    OFFBOARDING = "offboarding"
    ALUMNI = "alumni"

    @property
    def label(self) -> str:
        return self.value.replace("_", "-").capitalize() if self is LifecycleStatus.PRE_BOARDING \
            else self.value.replace("_", " ").capitalize()


class Channel(enum.StrEnum):
    SLACK = "slack"
    TEAMS = "teams"
    EMAIL = "email"
    IN_APP = "in_app"

    @property
    def label(self) -> str:
        return {"slack": "Slack", "teams": "Microsoft Teams", "email": "Email",
                "in_app": "In the app"}[self.value]


class WorkPattern(enum.StrEnum):
    """Where a team mostly works; human-touch policies can ask hybrid teams to meet in person."""

    ON_SITE = "on_site"
    HYBRID = "hybrid"
    REMOTE = "remote"

    @property
    def label(self) -> str:
        return {"on_site": "On site", "hybrid": "Hybrid", "remote": "Remote"}[self.value]


class Team(db.Model):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # The HR partner who looks after this team: escalations and orphaned touchpoints go here.
    hr_partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL", use_alter=True)
    )
    # How often managers meet each member one-on-one (journeys); null follows the company default.
    one_on_one_cadence_days: Mapped[int | None]
    # Where the team mostly works (rituals and the team_meets_in_person policy); null: not recorded.
    work_pattern: Mapped[WorkPattern | None] = mapped_column(string_enum(WorkPattern, 10))
    # The team this one is part of (town halls for "a team and its sub-teams"; managers see sub-teams).
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    # The manager who leads the team: runs its rituals and logs their attendance.
    manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL", use_alter=True)
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # post_update breaks the insert cycle between a team and the employee who looks after it.
    hr_partner: Mapped[Employee | None] = relationship(foreign_keys=[hr_partner_id], post_update=True)
    manager: Mapped[Employee | None] = relationship(foreign_keys=[manager_id], post_update=True)
    parent: Mapped[Team | None] = relationship(remote_side=[id], foreign_keys=[parent_id])

    def __repr__(self) -> str:
        return f"<Team {self.name}>"


class Employee(db.Model):
    __tablename__ = "employees"
    __table_args__ = (
        Index("ix_employees_manager_id", "manager_id"),
        Index("ix_employees_team_status", "team_id", "status"),
        Index("ix_employees_full_name", "full_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    full_name: Mapped[str] = mapped_column(String(200))
    job_title: Mapped[str] = mapped_column(String(200), default="")
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )
    location: Mapped[str] = mapped_column(String(120), default="")
    # ISO 3166 country (and optional subdivision) whose public holidays apply to this person.
    country_code: Mapped[str] = mapped_column(String(2), default="GB")
    subdivision: Mapped[str] = mapped_column(String(10), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    work_start: Mapped[time] = mapped_column(default=time(9, 0))
    work_end: Mapped[time] = mapped_column(default=time(17, 30))
    # ISO weekdays worked, e.g. "12345" for Monday to Friday.
    work_days: Mapped[str] = mapped_column(String(7), default="12345")
    hire_date: Mapped[date | None]
    start_date: Mapped[date | None]
    exit_date: Mapped[date | None]
    status: Mapped[LifecycleStatus] = mapped_column(
        string_enum(LifecycleStatus, 20),
        default=LifecycleStatus.ACTIVE,
    )
    preferred_channel: Mapped[Channel] = mapped_column(
        string_enum(Channel, 10),
        default=Channel.IN_APP,
    )
    quiet_hours_start: Mapped[time | None]
    quiet_hours_end: Mapped[time | None]
    slack_user_id: Mapped[str | None] = mapped_column(String(32))
    # This person's own one-on-one cadence (journeys); wins over the team's and the company's.
    one_on_one_cadence_days: Mapped[int | None]
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    team: Mapped[Team | None] = relationship(foreign_keys=[team_id])
    manager: Mapped[Employee | None] = relationship(remote_side=[id], foreign_keys=[manager_id])

    @property
    def is_deactivated(self) -> bool:
        return self.deactivated_at is not None

    def __repr__(self) -> str:
        return f"<Employee {self.email}>"


# Work emails are unique whatever their case; lookups use lower(email) and hit this index.
Index("uq_employees_email_lower", func.lower(Employee.email), unique=True)


class ImportBatch(db.Model):
    """An uploaded people CSV waiting between preview and commit."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    committed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
