"""Human-touch policies: versioned rules, the overrides HR granted, and weekly compliance snapshots."""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from touchpoints.db_types import UTCDateTime, string_enum, utcnow
from touchpoints.extensions import db
from touchpoints.journeys.models import Touchpoint


class Severity(enum.StrEnum):
    """Block refuses the action (HR may override); warn lets it through and counts it."""

    BLOCK = "block"
    WARN = "warn"

    @property
    def label(self) -> str:
        return {"block": "Blocks", "warn": "Warns"}[self.value]


class VersionStatus(enum.StrEnum):
    """Draft while HR edits and reads the dry run; active is enforced; superseded or retired after."""

    DRAFT = "draft"
    ACTIVE = "active"
    SUPERSEDED = "superseded"
    RETIRED = "retired"

    @property
    def label(self) -> str:
        return {"draft": "Draft", "active": "Active", "superseded": "Superseded",
                "retired": "Switched off"}[self.value]


class Policy(db.Model):
    """A human-touch policy; its stable `key` ties the versions together and names it in files."""

    __tablename__ = "policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    # The name of the latest version, kept here for lists and links.
    name: Mapped[str] = mapped_column(String(120))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    versions: Mapped[list[PolicyVersion]] = relationship(
        back_populates="policy", cascade="all, delete-orphan", order_by="PolicyVersion.number",
    )

    def __repr__(self) -> str:
        return f"<Policy {self.key}>"


class PolicyVersion(db.Model):
    """One version of a policy: its rule kind, parameters, scope and severity."""

    __tablename__ = "policy_versions"
    __table_args__ = (
        UniqueConstraint("policy_id", "number", name="uq_policy_versions_policy_number"),
        # One enforced version per policy, and at most one draft being edited.
        Index("uq_policy_versions_active_policy", "policy_id", unique=True,
              sqlite_where=text("status = 'active'"), postgresql_where=text("status = 'active'")),
        Index("uq_policy_versions_draft_policy", "policy_id", unique=True,
              sqlite_where=text("status = 'draft'"), postgresql_where=text("status = 'draft'")),
        Index("ix_policy_versions_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id", ondelete="CASCADE"))
    number: Mapped[int]
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    rule_kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    scope: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    severity: Mapped[Severity] = mapped_column(string_enum(Severity, 8), default=Severity.BLOCK)
    status: Mapped[VersionStatus] = mapped_column(string_enum(VersionStatus, 12), default=VersionStatus.DRAFT)
    # Why this version exists, in HR's words ("Loaded from policies/default.yaml", "Restored v2").
    change_note: Mapped[str] = mapped_column(String(300), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    activated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    policy: Mapped[Policy] = relationship(back_populates="versions")
    created_by = relationship("User", foreign_keys=[created_by_id])
    activated_by = relationship("User", foreign_keys=[activated_by_id])

    @property
    def is_active(self) -> bool:
        return self.status is VersionStatus.ACTIVE

    @property
    def label(self) -> str:
        return f"{self.name} (v{self.number})"

    def __repr__(self) -> str:
        return f"<PolicyVersion {self.policy_id} v{self.number} {self.status}>"


class PolicyOverride(db.Model):
    """An HR partner let something through that a blocking policy refused, and wrote why."""

    __tablename__ = "policy_overrides"
    __table_args__ = (
        Index("ix_policy_overrides_touchpoint", "touchpoint_id"),
        Index("ix_policy_overrides_created_at", "created_at"),
        Index("ix_policy_overrides_policy", "policy_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    touchpoint_id: Mapped[int] = mapped_column(ForeignKey("touchpoints.id", ondelete="CASCADE"))
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id", ondelete="CASCADE"))
    policy_version_id: Mapped[int] = mapped_column(ForeignKey("policy_versions.id", ondelete="CASCADE"))
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # "log" when what happened was recorded, "plan" when a touchpoint was planned that way.
    action: Mapped[str] = mapped_column(String(8), default="log")
    mode: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    justification: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    touchpoint = relationship("Touchpoint")
    policy: Mapped[Policy] = relationship()
    version: Mapped[PolicyVersion] = relationship()
    employee = relationship("Employee")
    actor = relationship("User")


class ComplianceSnapshot(db.Model):
    """How many violations (and people) one policy, or the whole company, had in one week."""

    __tablename__ = "compliance_snapshots"
    __table_args__ = (
        UniqueConstraint("week_start", "subject", name="uq_compliance_snapshots_week_subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The Monday (UTC) the week starts on.
    week_start: Mapped[date]
    # "company" for everyone across every policy (people counted once), else "policy:<id>".
    subject: Mapped[str] = mapped_column(String(32))
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("policies.id", ondelete="CASCADE"))
    violations: Mapped[int] = mapped_column(default=0)
    people: Mapped[int] = mapped_column(default=0)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    policy: Mapped[Policy | None] = relationship()


# The evaluation asks, per person, for the last human touchpoint, the first follow-up after a digital
# moment and the automated ones since: this index answers all three without reading the table.
Index("ix_touchpoints_employee_outcome", Touchpoint.employee_id, Touchpoint.status, Touchpoint.actual_mode,
      Touchpoint.kind, Touchpoint.happened_at)
