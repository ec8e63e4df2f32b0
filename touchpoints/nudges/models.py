"""The nudge outbox, people's delivery settings, team channels, and the state of each channel."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from touchpoints.db_types import UTCDateTime, string_enum, utcnow
from touchpoints.extensions import db


class NudgeStatus(enum.StrEnum):
    """Where a nudge is on its way to a person."""

    PENDING = "pending"  # waiting for its moment (quiet hours, digest time, backoff)
    SENDING = "sending"  # claimed by a delivery run under a lease
    SENT = "sent"
    FAILED = "failed"  # did surely not arrive; retried later
    UNKNOWN = "unknown"  # may have arrived (the answer was lost): a person decides
    DEAD = "dead"  # permanent error or too many attempts
    EXPIRED = "expired"  # went stale before it could go out
    CANCELLED = "cancelled"  # no longer needed (the touchpoint was logged or called off)
    DISMISSED = "dismissed"  # HR looked at a problem and closed it

    @property
    def label(self) -> str:
        return {
            "pending": "Waiting",
            "sending": "Sending",
            "sent": "Sent",
            "failed": "Failed, will retry",
            "unknown": "Unknown",
            "dead": "Dead",
            "expired": "Expired",
            "cancelled": "Not needed",
            "dismissed": "Dismissed",
        }[self.value]

    @property
    def badge(self) -> str:
        """The design system's badge modifier for this state."""
        return {
            "pending": "neutral",
            "sending": "info",
            "sent": "ok",
            "failed": "warn",
            "unknown": "warn",
            "dead": "bad",
            "expired": "neutral",
            "cancelled": "neutral",
            "dismissed": "neutral",
        }[self.value]


DUE_STATUSES = (NudgeStatus.PENDING, NudgeStatus.FAILED)
PROBLEM_STATUSES = (NudgeStatus.FAILED, NudgeStatus.UNKNOWN, NudgeStatus.DEAD)


class NudgeKind(enum.StrEnum):
    """Why a nudge exists."""

    REMINDER = "reminder"  # a touchpoint the recipient owns is coming up
    ESCALATION = "escalation"  # a touchpoint is overdue: to the HR partner
    POLICY_ESCALATION = "policy_escalation"  # someone is out of a blocking human-touch policy
    CONFIRMATION = "confirmation"  # someone logged a touchpoint with you: confirm it
    SURVEY_INVITATION = "survey_invitation"
    SURVEY_REMINDER = "survey_reminder"
    TEAM_DIGEST = "team_digest"  # the week's touchpoints of a team, to its channel
    NOTICE = "notice"  # an operational notice to HR (Slack paused ...)
    CALENDAR_INVITE = "calendar_invite"  # an .ics invitation (or cancellation) by email
    COFFEE_INTRODUCTION = "coffee_introduction"  # who one is paired with for a coffee chat
    RITUAL_REMINDER = "ritual_reminder"  # a team ritual the recipient organises is coming up

    @property
    def label(self) -> str:
        return {
            "reminder": "Reminder",
            "escalation": "Overdue escalation",
            "policy_escalation": "Policy escalation",
            "confirmation": "Confirmation request",
            "survey_invitation": "Survey invitation",
            "survey_reminder": "Survey reminder",
            "team_digest": "Team digest",
            "notice": "Notice",
            "coffee_introduction": "Coffee introduction",
            "ritual_reminder": "Team ritual reminder",
        }[self.value]


class DeliveryChannel(enum.StrEnum):
    """Where a nudge goes; a person's preference picks it, with fallbacks."""

    SLACK = "slack"
    TEAMS = "teams"
    EMAIL = "email"
    IN_APP = "in_app"

    @property
    def label(self) -> str:
        return {"slack": "Slack", "teams": "Microsoft Teams", "email": "Email", "in_app": "In the app"}[
            self.value
        ]


class Nudge(db.Model):
    """One message to one person (or one team channel) on one channel: a row of the outbox."""

    __tablename__ = "nudges"
    __table_args__ = (
        # Claiming reads only due rows: status first, then the moment they may go.
        Index("ix_nudges_status_next_attempt", "status", "next_attempt_at"),
        Index("ix_nudges_recipient_created", "recipient_id", "created_at"),
        Index("ix_nudges_touchpoint", "touchpoint_id"),
        # Leases that ran out (a killed scheduler) are found without a scan.
        Index(
            "ix_nudges_sending_lease",
            "lease_until",
            sqlite_where=text("status = 'sending'"),
            postgresql_where=text("status = 'sending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The same reminder for the same touchpoint to the same person exists once, ever.
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[NudgeKind] = mapped_column(string_enum(NudgeKind, 24))
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    # A team digest goes to a team's channel rather than to a person.
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    touchpoint_id: Mapped[int | None] = mapped_column(ForeignKey("touchpoints.id", ondelete="CASCADE"))
    channel: Mapped[DeliveryChannel] = mapped_column(string_enum(DeliveryChannel, 10))
    status: Mapped[NudgeStatus] = mapped_column(string_enum(NudgeStatus, 16), default=NudgeStatus.PENDING)
    # Facts the message is built from (lead time, counts, survey round ...): never private notes.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Earliest moment it may go (its reminder moment, then quiet hours, backoff, digest time).
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # After this it is stale and expires rather than arriving late.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set just before the request leaves: a lost lease with this set means "may have arrived".
    send_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    # The delivered message (Slack channel:ts, message id ...) so a button can update it.
    external_ref: Mapped[str | None] = mapped_column(String(120))
    # Set when several nudges went out as one message (a digest); they share the reference.
    bundled: Mapped[bool] = mapped_column(default=False)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    recipient = relationship("Employee", foreign_keys=[recipient_id])
    team = relationship("Team", foreign_keys=[team_id])
    touchpoint = relationship("Touchpoint", foreign_keys=[touchpoint_id])

    def __repr__(self) -> str:
        return f"<Nudge {self.dedup_key} {self.status}>"


class DeliveryProfile(db.Model):
    """How one person likes to be nudged, and what the channels learnt about them."""

    __tablename__ = "delivery_profiles"

    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), primary_key=True)
    # Bundle the day's nudges into one message at the start of the working day.
    daily_digest: Mapped[bool] = mapped_column(default=False)
    teams_webhook_url: Mapped[str | None] = mapped_column(String(1000))
    teams_webhook_broken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    teams_webhook_error: Mapped[str] = mapped_column(String(300), default="")
    # Slack said users_not_found for this person's email: Slack is skipped until HR clears it.
    slack_not_found_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The direct-message channel conversations.open gave, so later nudges need one call.
    slack_dm_channel: Mapped[str | None] = mapped_column(String(32))
    # Secret of the subscribable calendar feed; a new one revokes the old address.
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    calendar_token_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Calendar invitations (.ics) by email for one-on-ones and check-ins; on unless turned off.
    calendar_invites: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    employee = relationship("Employee", foreign_keys=[employee_id])


class TeamChannel(db.Model):
    """Where a team's nudges may go: a Teams workflow webhook and a Slack channel for the digest."""

    __tablename__ = "team_channels"

    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)
    teams_webhook_url: Mapped[str | None] = mapped_column(String(1000))
    teams_webhook_broken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    teams_webhook_error: Mapped[str] = mapped_column(String(300), default="")
    # A Slack channel id (C…) that gets the team's weekly digest; empty for none.
    slack_digest_channel: Mapped[str] = mapped_column(String(32), default="")
    # The weekly team digest also goes to the team's Teams workflow.
    teams_digest: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    team = relationship("Team", foreign_keys=[team_id])


class ChannelState(db.Model):
    """A whole channel paused (a revoked Slack token): its queue waits until HR resumes it."""

    __tablename__ = "channel_states"

    channel: Mapped[str] = mapped_column(String(10), primary_key=True)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pause_reason: Mapped[str] = mapped_column(String(300), default="")
    resumed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PassWatermark(db.Model):
    """How far a periodic pass (reminders, escalations) has looked, so the next looks only at what is new."""

    __tablename__ = "pass_watermarks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    reached: Mapped[datetime] = mapped_column(UTCDateTime)
