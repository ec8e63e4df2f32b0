"""The periodic passes that fill the outbox: reminders, overdue escalations, policy escalations,
survey invitations and reminders, and the optional team digest.

Each pass is idempotent: it computes which nudges should exist by now and inserts them with their
de-duplication keys, so running it twice, late, or from two processes adds nothing twice. A
watermark per pass remembers how far it looked, so each run reads only the touchpoints whose
moment arrived since (through the status/due-date index), and a reminder whose moment passed
long ago while nothing ran is skipped rather than sent late.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from functools import lru_cache
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import aliased

from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.calendar import WorkCalendar, zone
from touchpoints.journeys.models import OPEN_STATUSES, Touchpoint, TouchpointKind
from touchpoints.nudges.models import DeliveryChannel, NudgeKind, PassWatermark, TeamChannel
from touchpoints.nudges.services import enqueue_many, preferred_channel
from touchpoints.nudges.settings import NudgeSettings
from touchpoints.people.models import Employee, Team

LEAD = re.compile(r"^(?:(\d+)(wd|h)|morning)$")


@dataclass(frozen=True)
class Lead:
    """A reminder lead time: N working days before (at the start of the day), N hours, or the same morning."""

    text: str
    amount: int
    unit: str  # "wd", "h" or "morning"

    @classmethod
    def parse(cls, text: str) -> Lead:
        match = LEAD.match(text.strip().lower())
        if not match:
            raise ValueError(f"unknown reminder lead {text!r} (use e.g. 2wd, 24h, morning)")
        if text.strip().lower() == "morning":
            return cls("morning", 0, "morning")
        return cls(text.strip().lower(), int(match.group(1)), match.group(2))

    @property
    def span(self) -> tuple[timedelta, timedelta]:
        """The shortest and longest time between a reminder moment and the due time, whatever the calendar."""
        if self.unit == "h":
            return timedelta(hours=self.amount), timedelta(hours=self.amount)
        if self.unit == "morning":
            return timedelta(0), timedelta(days=1)
        # N working days back: weekends and up to a week of holidays in between.
        return timedelta(days=max(0, self.amount - 1)), timedelta(
            days=self.amount + 2 * (self.amount // 5 + 1) + 7
        )


@lru_cache(maxsize=65536)
def _calendar(country: str, subdivision: str, work_days: str) -> WorkCalendar:
    return WorkCalendar(country or "GB", subdivision or "", work_days or "12345")


def reminder_moment(
    lead: Lead,
    due_at: datetime,
    *,
    timezone: str,
    work_start: dtime,
    country: str,
    subdivision: str,
    work_days: str,
) -> datetime | None:
    """When the reminder of this lead goes out for a touchpoint due at due_at, in the owner's calendar."""
    if lead.unit == "h":
        return due_at - timedelta(hours=lead.amount)
    tz = zone(timezone)
    due_local = due_at.astimezone(tz)
    if lead.unit == "morning":
        start = datetime.combine(due_local.date(), work_start, tzinfo=tz).astimezone(UTC)
        # A meeting at the very start of the day is reminded an hour before instead.
        return start if start <= due_at - timedelta(hours=1) else due_at - timedelta(hours=1)
    day = _calendar(country, subdivision, work_days).add_working_days(due_local.date(), -lead.amount)
    return datetime.combine(day, work_start, tzinfo=tz).astimezone(UTC)


def _watermark(name: str) -> datetime | None:
    row = db.session.get(PassWatermark, name)
    return row.reached if row is not None else None


def _set_watermark(name: str, reached: datetime) -> None:
    row = db.session.get(PassWatermark, name)
    if row is None:
        db.session.add(PassWatermark(name=name, reached=reached))
    elif row.reached < reached:
        row.reached = reached


def _kinds_with_lead(settings: NudgeSettings, lead: str) -> tuple[list[str], list[str]]:
    """(kinds named with this lead, kinds named without it): the default covers every other kind."""
    named_with = [k for k, leads in settings.leads.items() if k != "default" and lead in leads]
    named_without = [k for k, leads in settings.leads.items() if k != "default" and lead not in leads]
    return named_with, named_without


def remind_owners(now: datetime | None = None, settings: NudgeSettings | None = None) -> dict[str, int]:
    """Scheduler job: queue the reminders whose moment arrived since the last pass. Commits.

    For each lead time, one index range read over open touchpoints due in the window where that
    lead's moment can fall; each candidate's exact moment is computed in its owner's calendar and
    zone. A moment older than the grace period (the scheduler was down) is skipped.
    """
    settings = settings or NudgeSettings.current()
    now = now or utcnow()
    grace = timedelta(hours=settings.reminder_grace_hours)
    since = max(_watermark("reminders") or now - grace, now - grace)
    owner = aliased(Employee)
    rows: list[dict[str, Any]] = []
    read = 0
    leads = sorted({lead for values in settings.leads.values() for lead in values})
    for text in leads:
        lead = Lead.parse(text)
        shortest, longest = lead.span
        named_with, named_without = _kinds_with_lead(settings, text)
        default_has = text in settings.leads.get("default", ())
        kind_filter = Touchpoint.kind.in_(named_with)
        if default_has:
            kind_filter = or_(kind_filter, Touchpoint.kind.not_in(named_with + named_without))
        query = (
            select(
                Touchpoint.id,
                Touchpoint.due_at,
                Touchpoint.owner_id,
                owner.timezone,
                owner.work_start,
                owner.country_code,
                owner.subdivision,
                owner.work_days,
                owner.preferred_channel,
            )
            .join(owner, owner.id == Touchpoint.owner_id)
            .where(
                Touchpoint.status.in_(OPEN_STATUSES),
                Touchpoint.due_at > now,
                Touchpoint.due_at >= since + shortest,
                Touchpoint.due_at <= now + longest,
                kind_filter,
                owner.deactivated_at.is_(None),
            )
        )
        for (
            tp_id,
            due_at,
            owner_id,
            tz,
            work_start,
            country,
            subdivision,
            work_days,
            channel,
        ) in db.session.execute(query):
            read += 1
            moment = reminder_moment(
                lead,
                due_at,
                timezone=tz,
                work_start=work_start,
                country=country,
                subdivision=subdivision,
                work_days=work_days,
            )
            if moment is None or not since < moment <= now or moment >= due_at:
                continue
            rows.append(
                {
                    "dedup_key": f"reminder:{tp_id}:{text}:{owner_id}:{due_at:%Y%m%dT%H%M}",
                    "kind": NudgeKind.REMINDER,
                    "recipient_id": owner_id,
                    "touchpoint_id": tp_id,
                    "channel": preferred_channel(channel),
                    "next_attempt_at": moment,
                    "expires_at": due_at,
                    "payload": {"lead": text, "due_at": due_at.isoformat(), "at": moment.isoformat()},
                }
            )
    added = enqueue_many(rows)
    _set_watermark("reminders", now)
    db.session.commit()
    return {"read": read, "queued": added}


def _first_hr_partner() -> int | None:
    from touchpoints.auth.models import Role, User, UserRole

    return db.session.scalar(
        select(User.employee_id)
        .join(UserRole, UserRole.user_id == User.id)
        .join(Employee, Employee.id == User.employee_id)
        .where(UserRole.role == Role.HR_PARTNER.value, Employee.deactivated_at.is_(None))
        .order_by(User.employee_id)
        .limit(1)
    )


def escalate_overdue(now: datetime | None = None, settings: NudgeSettings | None = None) -> dict[str, int]:
    """Scheduler job: tell the HR partner about touchpoints overdue for N days (once each). Commits.

    A touchpoint becomes due for escalation N days after its due time; each pass reads only those
    that crossed that line since the last one. HR partners get them bundled when several are due.
    """
    settings = settings or NudgeSettings.current()
    now = now or utcnow()
    after = timedelta(days=settings.escalate_after_days)
    expiry = timedelta(days=settings.escalation_expiry_days)
    since = max(_watermark("escalations") or now - expiry, now - expiry)
    person = aliased(Employee)
    rows = db.session.execute(
        select(Touchpoint.id, Touchpoint.due_at, person.team_id, Team.hr_partner_id)
        .join(person, person.id == Touchpoint.employee_id)
        .outerjoin(Team, Team.id == person.team_id)
        .where(
            Touchpoint.status.in_(OPEN_STATUSES),
            Touchpoint.due_at > since - after,
            Touchpoint.due_at <= now - after,
        )
    ).all()
    fallback = _first_hr_partner() if rows else None
    hr_ids = {hr for *_, hr in rows if hr} | ({fallback} if fallback else set())
    channels = (
        dict(
            db.session.execute(
                select(Employee.id, Employee.preferred_channel).where(Employee.id.in_(hr_ids))
            ).all()
        )
        if hr_ids
        else {}
    )
    nudges = []
    for tp_id, due_at, _team_id, hr_id in rows:
        recipient = hr_id or fallback
        if recipient is None:
            continue
        moment = due_at + after
        nudges.append(
            {
                "dedup_key": f"escalation:{tp_id}:{recipient}",
                "kind": NudgeKind.ESCALATION,
                "recipient_id": recipient,
                "touchpoint_id": tp_id,
                "channel": preferred_channel(channels.get(recipient)),
                "next_attempt_at": max(moment, now - expiry),
                "expires_at": moment + expiry,
                "payload": {"overdue_days": settings.escalate_after_days, "at": moment.isoformat()},
            }
        )
    added = enqueue_many(nudges)
    _set_watermark("escalations", now)
    db.session.commit()
    return {"read": len(rows), "queued": added}


def raise_policy_escalations(now: datetime | None = None) -> dict[str, int]:
    """Scheduler job: tell the HR partner, once, about each new breach of a blocking policy. Commits.

    Grievance-related findings name the person only: their detail stays on the compliance page.
    """
    from touchpoints.policies.engine.evaluation import evaluate
    from touchpoints.policies.models import Severity

    now = now or utcnow()
    report = evaluate(now=now)
    teams = [f for f in report.team_violations if f.severity is Severity.BLOCK]
    counts = {"team_violations": len(teams), "team_queued": _escalate_team_violations(teams)}
    blocking = [v for v in report.violations if v.severity is Severity.BLOCK]
    if not blocking:
        db.session.commit()
        return {"violations": 0, "queued": 0, **counts}
    employee_ids = {v.employee_id for v in blocking}
    team_hr = dict(
        db.session.execute(
            select(Employee.id, Team.hr_partner_id)
            .outerjoin(Team, Team.id == Employee.team_id)
            .where(Employee.id.in_(employee_ids))
        ).all()
    )
    fallback = _first_hr_partner()
    names = {i: p.full_name for i, p in report.people.items()}
    nudges = []
    for v in blocking:
        recipient = team_hr.get(v.employee_id) or fallback
        if recipient is None:
            continue
        nudges.append(
            {
                "dedup_key": f"policy:{v.policy_id}:{v.employee_id}:{v.touchpoint_id or 0}:"
                f"{v.since.isoformat()}",
                "kind": NudgeKind.POLICY_ESCALATION,
                "recipient_id": recipient,
                "touchpoint_id": None,
                "channel": DeliveryChannel.IN_APP,
                "next_attempt_at": now,
                "expires_at": now + timedelta(days=14),
                "payload": {
                    "policy_name": v.policy_name,
                    "employee_name": names.get(v.employee_id, ""),
                    "detail": "" if v.hr_only else v.detail,
                    "hr_only": v.hr_only,
                    "link": "/compliance",
                    "at": now.isoformat(),
                },
            }
        )
    channels = (
        dict(
            db.session.execute(
                select(Employee.id, Employee.preferred_channel).where(
                    Employee.id.in_({n["recipient_id"] for n in nudges})
                )
            ).all()
        )
        if nudges
        else {}
    )
    for nudge in nudges:
        nudge["channel"] = preferred_channel(channels.get(nudge["recipient_id"]))
    added = enqueue_many(nudges)
    db.session.commit()
    return {"violations": len(blocking), "queued": added, **counts}


def _escalate_team_violations(findings: list) -> int:
    """Tell the HR partners, once per team and period, about a team out of a blocking team policy
    (a hybrid team that did not meet in person last quarter); returns how many notices were queued."""
    from touchpoints.nudges.services import alert_hr

    return sum(
        alert_hr(f"team-policy:{f.policy_id}:{f.team_id}:{f.since.isoformat()}",
                 f"{f.team_name} is out of the policy “{f.policy_name}”", f.detail,
                 link=f"/rituals?team={f.team_id}")
        for f in findings
    )


def queue_survey_nudges(now: datetime | None = None) -> dict[str, int]:
    """Scheduler job: deliver survey invitations and reminders through the outbox (once each). Commits.

    Reads only rounds opened or reminded since the last pass; the survey services keep who was
    invited and who has not answered, never what anyone answered.
    """
    from touchpoints.surveys.models import RoundStatus, Survey, SurveyRound
    from touchpoints.surveys.services import invitation_recipients, reminder_recipients
    from touchpoints.surveys.slack_answers import round_fits_a_dialog

    now = now or utcnow()
    since = _watermark("surveys") or now - timedelta(days=2)
    rounds = db.session.execute(
        select(
            SurveyRound.id,
            SurveyRound.opened_at,
            SurveyRound.reminders_sent_at,
            SurveyRound.closes_at,
            Survey.title,
        )
        .join(Survey, Survey.id == SurveyRound.survey_id)
        .where(
            SurveyRound.status == RoundStatus.OPEN,
            SurveyRound.closes_at > now,
            or_(SurveyRound.opened_at > since, SurveyRound.reminders_sent_at > since),
        )
    ).all()
    queued = 0
    for round_id, opened_at, reminded_at, closes_at, title in rounds:
        batches = []
        if opened_at is not None and opened_at > since:
            batches.append((NudgeKind.SURVEY_INVITATION, "survey-invite", invitation_recipients(round_id)))
        if reminded_at is not None and reminded_at > since:
            batches.append((NudgeKind.SURVEY_REMINDER, "survey-remind", reminder_recipients(round_id)))
        # A short survey is answered in a Slack dialog ("Answer here"); every channel has the link.
        in_chat = bool(batches) and round_fits_a_dialog(round_id)
        for kind, prefix, people in batches:
            channels = {}
            for start in range(0, len(people), 900):
                chunk = people[start : start + 900]
                channels.update(
                    db.session.execute(
                        select(Employee.id, Employee.preferred_channel).where(Employee.id.in_(chunk))
                    ).all()
                )
            queued += enqueue_many(
                [
                    {
                        "dedup_key": f"{prefix}:{round_id}:{employee_id}",
                        "kind": kind,
                        "recipient_id": employee_id,
                        "channel": preferred_channel(channels.get(employee_id)),
                        "next_attempt_at": now,
                        "expires_at": closes_at,
                        "payload": {
                            "survey_title": title,
                            "closes_at": closes_at.isoformat(),
                            "round_id": round_id,
                            "answer_in_chat": in_chat,
                            "link": f"/surveys/rounds/{round_id}/answer",
                            "at": now.isoformat(),
                        },
                    }
                    for employee_id in people
                ]
            )
    _set_watermark("surveys", now)
    db.session.commit()
    return {"rounds": len(rounds), "queued": queued}


def queue_team_digests(now: datetime | None = None) -> dict[str, int]:
    """Scheduler job: once a week, a team's Slack channel and/or Teams channel get counts of its week
    (no names). A team's Teams workflow carries the digest when HR turned that on for the team. Commits.
    """
    now = now or utcnow()
    year, week, weekday = now.isocalendar()
    monday = datetime.combine((now - timedelta(days=weekday - 1)).date(), dtime(0), tzinfo=UTC)
    rows = db.session.execute(
        select(TeamChannel, Team.name)
        .join(Team, Team.id == TeamChannel.team_id)
        .where(
            (TeamChannel.slack_digest_channel != "")
            | (TeamChannel.teams_webhook_url.is_not(None) & TeamChannel.teams_webhook_broken_at.is_(None))
        )
    ).all()
    targets = []
    for channel, name in rows:
        wanted = []
        if channel.slack_digest_channel:
            wanted.append((DeliveryChannel.SLACK, f"team-digest:{channel.team_id}:{year}-W{week:02d}"))
        teams_ready = channel.teams_webhook_url and channel.teams_webhook_broken_at is None
        if channel.teams_digest and teams_ready:
            wanted.append((DeliveryChannel.TEAMS, f"team-digest-teams:{channel.team_id}:{year}-W{week:02d}"))
        if wanted:
            targets.append((channel.team_id, name, wanted))
    nudges = []
    for team_id, name, wanted in targets:
        lines = _team_week_lines(team_id, monday, now)
        for delivery_channel, key in wanted:
            nudges.append(
                {
                    "dedup_key": key,
                    "kind": NudgeKind.TEAM_DIGEST,
                    "team_id": team_id,
                    "channel": delivery_channel,
                    "next_attempt_at": max(now, monday + timedelta(hours=8)),
                    "expires_at": monday + timedelta(days=2),
                    "payload": {
                        "headline": f"{name}: touchpoints this week",
                        "lines": lines,
                        "link": "/team/touchpoints",
                        "at": now.isoformat(),
                    },
                }
            )
    added = enqueue_many([n for n in nudges if now < n["expires_at"]])
    db.session.commit()
    return {"teams": len(targets), "queued": added}


def _team_week_lines(team_id: int, monday: datetime, now: datetime) -> list[str]:
    """A team's week in counts: what is planned by kind (sensitive ones only as private), and overdue."""
    members = select(Employee.id).where(Employee.team_id == team_id).scalar_subquery()
    open_rows = db.session.execute(
        select(Touchpoint.kind, Touchpoint.due_at).where(
            Touchpoint.employee_id.in_(members),
            Touchpoint.status.in_(OPEN_STATUSES),
            Touchpoint.due_at < monday + timedelta(days=7),
            Touchpoint.due_at >= monday - timedelta(days=90),
        )
    ).all()
    this_week = [k for k, due in open_rows if due >= monday]
    overdue = sum(1 for _, due in open_rows if due < now)
    counts: dict[str, int] = {}
    for kind in this_week:
        label = "private conversations" if kind.is_sensitive else TouchpointKind(kind).label.lower() + "s"
        counts[label] = counts.get(label, 0) + 1
    lines = [f"{count} {label}" for label, count in sorted(counts.items())] or ["Nothing planned"]
    if overdue:
        lines.append(f"{overdue} overdue")
    return lines
