"""Delivery settings read from the app's configuration, falling back to the environment.

Every NUDGE_* tunable, SLACK_*, SMTP_* and BASE_URL can be set either way; tests pass them to
create_app, operators set environment variables.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from flask import current_app

# Lead times of reminders before a touchpoint is due, per kind (the default for any kind not named):
# "2wd" is two working days before, at the start of the owner's working day; "morning" is the same
# morning, at the start of their working day; "24h" / "2h" are plain hours before.
DEFAULT_LEADS: dict[str, tuple[str, ...]] = {
    "default": ("2wd", "morning"),
    "performance_review": ("5wd", "2wd", "morning"),
    "exit_interview": ("5wd", "morning"),
    "termination_meeting": ("2wd", "morning"),
    "training_module": ("morning",),
    "pulse_survey": ("morning",),
    # Coffee is opt-in and may be skipped without pressure: the introduction is the only message.
    "coffee_chat": (),
}


def _parse_leads(raw: str) -> dict[str, tuple[str, ...]]:
    """'default=2wd,morning;performance_review=5wd,2wd' as a mapping (unknown parts are ignored)."""
    leads = dict(DEFAULT_LEADS)
    for part in raw.split(";"):
        kind, _, values = part.partition("=")
        if kind.strip() and values.strip():
            leads[kind.strip()] = tuple(v.strip() for v in values.split(",") if v.strip())
    return leads


@dataclass(frozen=True)
class NudgeSettings:
    """The knobs of delivery; build with `NudgeSettings.current()` inside an app context."""

    base_url: str = "http://127.0.0.1:5000"
    slack_token: str | None = None
    slack_signing_secret: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_timeout: float = 10.0
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "Touchpoints <touchpoints@localhost>"
    smtp_starttls: bool = False
    smtp_timeout: float = 10.0
    teams_timeout: float = 10.0
    batch_size: int = 200
    lease_seconds: int = 120
    max_attempts: int = 8
    backoff_base_seconds: float = 30.0
    backoff_max_seconds: float = 6 * 3600.0
    daily_cap: int = 6
    # How long a reminder whose moment passed while nothing ran may still be sent.
    reminder_grace_hours: float = 12.0
    escalate_after_days: int = 3
    escalation_expiry_days: int = 7
    # Links in Teams cards and emails stay valid this long.
    action_link_days: int = 14
    run_seconds: float = 240.0
    send_threads: int = 4
    # Calendar invitations go out for one-on-ones and check-ins due within this many days; later
    # ones get theirs as they come within reach (a 12-month journey does not fill a calendar at once).
    invite_ahead_days: int = 28
    leads: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_LEADS))

    @classmethod
    def current(cls) -> NudgeSettings:
        """The settings of the current app (configuration first, then the environment)."""
        config = current_app.config

        def get(name: str, default: Any = None) -> Any:
            value = config.get(name)
            if value is None:
                value = os.environ.get(name)
            return default if value in (None, "") else value

        def flag(name: str, default: bool) -> bool:
            value = get(name)
            if value is None:
                return default
            return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "on")

        leads = get("NUDGE_LEAD_TIMES")
        return cls(
            base_url=str(get("BASE_URL", cls.base_url)).rstrip("/"),
            slack_token=get("SLACK_BOT_TOKEN"),
            slack_signing_secret=get("SLACK_SIGNING_SECRET"),
            slack_api_url=str(get("SLACK_API_URL", cls.slack_api_url)),
            slack_timeout=float(get("NUDGE_SLACK_TIMEOUT", cls.slack_timeout)),
            smtp_host=get("SMTP_HOST"),
            smtp_port=int(get("SMTP_PORT", cls.smtp_port)),
            smtp_user=get("SMTP_USER"),
            smtp_password=get("SMTP_PASSWORD"),
            smtp_from=str(get("SMTP_FROM", cls.smtp_from)),
            smtp_starttls=flag("SMTP_STARTTLS", cls.smtp_starttls),
            smtp_timeout=float(get("NUDGE_SMTP_TIMEOUT", cls.smtp_timeout)),
            teams_timeout=float(get("NUDGE_TEAMS_TIMEOUT", cls.teams_timeout)),
            batch_size=int(get("NUDGE_BATCH_SIZE", cls.batch_size)),
            lease_seconds=int(get("NUDGE_LEASE_SECONDS", cls.lease_seconds)),
            max_attempts=int(get("NUDGE_MAX_ATTEMPTS", cls.max_attempts)),
            backoff_base_seconds=float(get("NUDGE_BACKOFF_SECONDS", cls.backoff_base_seconds)),
            backoff_max_seconds=float(get("NUDGE_BACKOFF_MAX_SECONDS", cls.backoff_max_seconds)),
            daily_cap=int(get("NUDGE_DAILY_CAP", cls.daily_cap)),
            reminder_grace_hours=float(get("NUDGE_REMINDER_GRACE_HOURS", cls.reminder_grace_hours)),
            escalate_after_days=int(get("NUDGE_ESCALATE_AFTER_DAYS", cls.escalate_after_days)),
            escalation_expiry_days=int(get("NUDGE_ESCALATION_EXPIRY_DAYS", cls.escalation_expiry_days)),
            action_link_days=int(get("NUDGE_ACTION_LINK_DAYS", cls.action_link_days)),
            run_seconds=float(get("NUDGE_RUN_SECONDS", cls.run_seconds)),
            send_threads=int(get("NUDGE_SEND_THREADS", cls.send_threads)),
            invite_ahead_days=max(1, int(get("CALENDAR_INVITE_AHEAD_DAYS", cls.invite_ahead_days))),
            leads=_parse_leads(leads) if isinstance(leads, str) else dict(leads or DEFAULT_LEADS),
        )

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_token)

    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp_host)

    def leads_for(self, kind: str) -> tuple[str, ...]:
        """The reminder lead times of a touchpoint kind."""
        return self.leads.get(kind, self.leads.get("default", ()))

    def link(self, path: str) -> str:
        """An absolute link into the app."""
        return f"{self.base_url}{path if path.startswith('/') else '/' + path}"
