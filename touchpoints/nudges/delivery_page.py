"""Read models of the nudge pages: HR's delivery overview and a person's notification list."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from math import ceil
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from touchpoints.extensions import db
from touchpoints.journeys.calendar import to_local
from touchpoints.journeys.models import Touchpoint
from touchpoints.nudges import compose
from touchpoints.nudges.invitations import invitation_item
from touchpoints.nudges.models import (
    PROBLEM_STATUSES,
    DeliveryChannel,
    DeliveryProfile,
    Nudge,
    NudgeKind,
    NudgeStatus,
    TeamChannel,
)
from touchpoints.nudges.services import facts_for, paused_channels, status_counts
from touchpoints.nudges.settings import NudgeSettings
from touchpoints.people.models import Employee, Team

PER_PAGE = 50
FILTERS = {
    "problems": ("Needs a decision", PROBLEM_STATUSES),
    "pending": ("Waiting", (NudgeStatus.PENDING, NudgeStatus.SENDING)),
    "sent": ("Sent", (NudgeStatus.SENT,)),
    "expired": ("Expired or not needed", (NudgeStatus.EXPIRED, NudgeStatus.CANCELLED, NudgeStatus.DISMISSED)),
}


@dataclass
class JobRow:
    id: str
    description: str
    interval: str
    last_run: datetime | None
    next_run: datetime | None
    duration_ms: int | None
    result: str
    last_error: str
    last_error_at: datetime | None
    runs: int
    failures: int
    runner: str


@dataclass
class ChannelRow:
    channel: DeliveryChannel
    ready: bool
    state: str
    note: str = ""
    paused: bool = False


@dataclass
class DeliveryOverview:
    counts: dict[NudgeStatus, int]
    channels: list[ChannelRow]
    jobs: list[JobRow]
    nudges: list[Nudge]
    total: int
    page: int
    pages: int
    filters: dict[str, tuple[str, Any]]
    marked_people: list[tuple[Employee, DeliveryProfile]]
    teams: list[tuple[Team, TeamChannel | None]]
    preferences: dict[str, int] = field(default_factory=dict)

    @property
    def problems(self) -> int:
        return sum(self.counts.get(s, 0) for s in PROBLEM_STATUSES)

    @property
    def filter_counts(self) -> dict[str, int]:
        return {
            key: sum(self.counts.get(s, 0) for s in statuses) for key, (_, statuses) in self.filters.items()
        }


def _interval(seconds: int) -> str:
    if seconds % 3600 == 0:
        return f"every {seconds // 3600} h"
    if seconds % 60 == 0:
        return f"every {seconds // 60} min"
    return f"every {seconds} s"


def job_rows() -> list[JobRow]:
    """Each registered job with what the table says about its last run (from any process)."""
    from touchpoints.scheduling.models import JobRun
    from touchpoints.scheduling.scheduler import JOBS

    runs = {r.job_id: r for r in db.session.scalars(select(JobRun))}
    rows = []
    for spec in JOBS:
        run = runs.get(spec.id)
        rows.append(
            JobRow(
                id=spec.id,
                description=spec.description,
                interval=_interval(spec.seconds),
                last_run=run.last_started_at if run else None,
                next_run=run.next_run_at if run else None,
                duration_ms=run.last_duration_ms if run else None,
                result=run.last_result if run else "",
                last_error=run.last_error if run else "",
                last_error_at=run.last_error_at if run else None,
                runs=run.runs if run else 0,
                failures=run.failures if run else 0,
                runner=run.last_runner if run else "",
            )
        )
    return rows


def channel_rows(settings: NudgeSettings) -> list[ChannelRow]:
    """Whether each channel can deliver, and why not."""
    paused = paused_channels()
    rows = []
    slack_paused = paused.get("slack")
    if not settings.slack_enabled:
        rows.append(
            ChannelRow(
                DeliveryChannel.SLACK,
                False,
                "Not set up",
                "No SLACK_BOT_TOKEN: people who prefer Slack get email (or the app) instead.",
            )
        )
    elif slack_paused is not None:
        rows.append(
            ChannelRow(
                DeliveryChannel.SLACK,
                False,
                "Paused",
                f"{slack_paused.pause_reason} Since {slack_paused.paused_at:%-d %b %Y, %H:%M} UTC. "
                "The queue is kept.",
                paused=True,
            )
        )
    else:
        note = (
            ""
            if settings.slack_signing_secret
            else "No SLACK_SIGNING_SECRET: buttons in Slack cannot be answered."
        )
        rows.append(ChannelRow(DeliveryChannel.SLACK, True, "Ready", note))
    teams_people = (
        db.session.scalar(
            select(func.count())
            .select_from(DeliveryProfile)
            .where(DeliveryProfile.teams_webhook_url.is_not(None))
        )
        or 0
    )
    teams_teams = (
        db.session.scalar(
            select(func.count()).select_from(TeamChannel).where(TeamChannel.teams_webhook_url.is_not(None))
        )
        or 0
    )
    rows.append(
        ChannelRow(
            DeliveryChannel.TEAMS,
            bool(teams_people or teams_teams),
            "Ready" if teams_people or teams_teams else "No workflows",
            f"{teams_people} personal and {teams_teams} team workflow addresses.",
        )
    )
    rows.append(
        ChannelRow(
            DeliveryChannel.EMAIL,
            settings.email_enabled,
            "Ready" if settings.email_enabled else "Not set up",
            f"Through {settings.smtp_host}:{settings.smtp_port}"
            if settings.email_enabled
            else "No SMTP_HOST: email-preferring people get notifications in the app.",
        )
    )
    rows.append(ChannelRow(DeliveryChannel.IN_APP, True, "Ready", "Always on: the notification list."))
    return rows


def delivery_overview(*, status: str, page: int, viewer_tz: str) -> DeliveryOverview:
    """Everything the HR delivery page shows, in a fixed number of queries."""
    settings = NudgeSettings.current()
    _label, statuses = FILTERS.get(status, FILTERS["problems"])
    condition = Nudge.status.in_(statuses)
    total = db.session.scalar(select(func.count()).select_from(Nudge).where(condition)) or 0
    pages = max(1, ceil(total / PER_PAGE))
    page = min(page, pages)
    nudges = db.session.scalars(
        select(Nudge)
        .options(
            joinedload(Nudge.recipient),
            joinedload(Nudge.team),
            joinedload(Nudge.touchpoint).joinedload(Touchpoint.employee),
        )
        .where(condition)
        .order_by(Nudge.updated_at.desc(), Nudge.id.desc())
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE)
    ).all()
    marked = db.session.execute(
        select(Employee, DeliveryProfile)
        .join(DeliveryProfile, DeliveryProfile.employee_id == Employee.id)
        .where(
            (DeliveryProfile.slack_not_found_at.is_not(None))
            | (DeliveryProfile.teams_webhook_broken_at.is_not(None))
        )
        .order_by(Employee.full_name)
        .limit(100)
    ).all()
    teams = db.session.execute(
        select(Team, TeamChannel).outerjoin(TeamChannel, TeamChannel.team_id == Team.id).order_by(Team.name)
    ).all()
    preferences = {
        str(c.value if hasattr(c, "value") else c): n
        for c, n in db.session.execute(
            select(Employee.preferred_channel, func.count())
            .where(Employee.deactivated_at.is_(None))
            .group_by(Employee.preferred_channel)
        ).all()
    }
    return DeliveryOverview(
        counts=status_counts(),
        channels=channel_rows(settings),
        jobs=job_rows(),
        nudges=list(nudges),
        total=total,
        page=page,
        pages=pages,
        filters=FILTERS,
        marked_people=[(e, p) for e, p in marked],
        teams=[(t, c) for t, c in teams],
        preferences=preferences,
    )


def describe_nudge(nudge: Nudge) -> str:
    """One line for HR: what it is about, without the content of sensitive moments."""
    tp = nudge.touchpoint
    if tp is not None:
        who = tp.employee.full_name if tp.employee else "someone"
        what = "A private conversation" if tp.sensitive or tp.kind.is_sensitive else tp.title
        return f"{nudge.kind.label}: {what} with {who}"
    payload = nudge.payload or {}
    return f"{nudge.kind.label}: " + str(
        payload.get("headline") or payload.get("survey_title") or payload.get("policy_name") or ""
    )


@dataclass
class NotificationRow:
    nudge: Nudge
    headline: str
    facts: tuple[tuple[str, str], ...]
    link: str | None
    sent_local: datetime | None
    unread: bool


def notification_rows(nudges: list[Nudge], tz: str, settings: NudgeSettings) -> list[NotificationRow]:
    """The notification list: each nudge as the app would say it, with a link into the app."""
    rows = []
    for nudge in nudges:
        if nudge.kind is NudgeKind.CALENDAR_INVITE and nudge.touchpoint is not None:
            item = invitation_item(
                nudge.touchpoint, nudge_id=nudge.id, recipient_id=nudge.recipient_id or 0, timezone=tz,
                settings=settings,
            )
        else:
            facts = facts_for(nudge, nudge.touchpoint, tz, settings, DeliveryChannel.IN_APP)
            item = (compose.touchpoint_item(facts, content_allowed=True, policy_text=None, buttons=False)
                    if nudge.touchpoint is not None else compose.other_item(facts))
        link = next((a.url for a in item.actions if a.url), None)
        if link and link.startswith(settings.base_url):
            link = link[len(settings.base_url) :] or "/"
        rows.append(
            NotificationRow(
                nudge,
                item.headline,
                item.facts,
                link,
                to_local(nudge.sent_at, tz) if nudge.sent_at else None,
                nudge.read_at is None and nudge.channel is DeliveryChannel.IN_APP,
            )
        )
    return rows
