"""The outbox: nudges written in the caller's transaction, claimed under a lease, delivered once.

- `enqueue` adds a nudge inside the transaction of the change that caused it; its dedup key makes
  the same nudge exist once, ever (an insert that conflicts does nothing).
- `claim_due_nudges` takes due rows with row locks and SKIP LOCKED on PostgreSQL and an atomic
  conditional update on SQLite, under a lease, so two scheduler processes never take the same one.
- `deliver` sends from a small pool of sender threads (NUDGE_SEND_THREADS). A message is marked as
  started (committed) when it is handed to a free thread, and answers are recorded in batches as
  they come back. A run that dies leaves rows in `sending`: once the lease runs out, those never
  started go back to the queue, and those in flight (or whose answer was not yet recorded) become
  `unknown` for a person to resolve, never resent blindly.
- Quiet hours, working hours, digests and the daily cap hold a nudge until its next allowed
  moment; many nudges due for one person at once go out as one message.
"""

from __future__ import annotations

import os
import random
import socket
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from email.message import EmailMessage
from typing import Any

from sqlalchemy import String, bindparam, cast, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload

from touchpoints.audit.services import record
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.calendar import WorkCalendar, zone
from touchpoints.journeys.models import Touchpoint, TouchpointKind
from touchpoints.nudges import compose
from touchpoints.nudges.compose import NudgeFacts, TouchpointFacts
from touchpoints.nudges.email import EmailSender, build_email, build_invitation_email
from touchpoints.nudges.links import sign_action
from touchpoints.nudges.models import (
    DUE_STATUSES,
    PROBLEM_STATUSES,
    ChannelState,
    DeliveryChannel,
    DeliveryProfile,
    Nudge,
    NudgeKind,
    NudgeStatus,
    TeamChannel,
)
from touchpoints.nudges.outcomes import SendResult, Verdict
from touchpoints.nudges.settings import NudgeSettings
from touchpoints.nudges.slack import SlackSender, make_client
from touchpoints.nudges.teams import TeamsSender
from touchpoints.people.models import Channel, Employee

# Kinds a daily-digest person receives bundled at the start of their day.
DIGESTIBLE = frozenset(
    {
        NudgeKind.REMINDER,
        NudgeKind.ESCALATION,
        NudgeKind.POLICY_ESCALATION,
        NudgeKind.CONFIRMATION,
        NudgeKind.SURVEY_INVITATION,
        NudgeKind.SURVEY_REMINDER,
    }
)
# Kinds about one touchpoint that lose their point once it is logged or called off.
ABOUT_OPEN_TOUCHPOINT = frozenset({NudgeKind.REMINDER, NudgeKind.ESCALATION})
DIGEST_TOLERANCE = timedelta(minutes=30)
PAUSED_RECHECK = timedelta(minutes=10)


def worker_name() -> str:
    """A name for this delivery run's process, written on the rows it leases."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{os.urandom(3).hex()}"


# ---------------------------------------------------------------- enqueue


def enqueue_many(rows: list[dict[str, Any]]) -> int:
    """Add nudges (dicts of Nudge columns) in the current transaction; duplicates by key are skipped.

    Returns how many were new. The caller commits, together with the change that caused them.
    One executemany: SQLAlchemy batches it (with RETURNING) into multi-row statements compiled once,
    where building VALUES lists by hand compiled each chunk anew (seconds at 10,000 rows).
    """
    if not rows:
        return 0
    now = utcnow()
    defaults = {"status": NudgeStatus.PENDING, "attempts": 0, "payload": {}, "last_error": "",
                "bundled": False, "created_at": now, "updated_at": now, "expires_at": None,
                "touchpoint_id": None, "team_id": None, "recipient_id": None}
    dialect = db.session.get_bind().dialect.name
    statement = ((postgresql.insert if dialect == "postgresql" else sqlite.insert)(Nudge.__table__)
                 .on_conflict_do_nothing(index_elements=["dedup_key"]).returning(Nudge.__table__.c.id))
    return len(db.session.execute(statement, [{**defaults, **row} for row in rows]).all())


def enqueue(
    *,
    dedup_key: str,
    kind: NudgeKind,
    recipient: Employee | None = None,
    team_id: int | None = None,
    at: datetime | None = None,
    expires_at: datetime | None = None,
    touchpoint_id: int | None = None,
    payload: dict[str, Any] | None = None,
    channel: DeliveryChannel | None = None,
) -> bool:
    """Add one nudge in the caller's transaction; False when one with this key already exists."""
    at = at or utcnow()
    if channel is None:
        channel = (
            preferred_channel(recipient.preferred_channel) if recipient is not None else DeliveryChannel.SLACK
        )
    return (
        enqueue_many(
            [
                {
                    "dedup_key": dedup_key[:200],
                    "kind": kind,
                    "recipient_id": recipient.id if recipient else None,
                    "team_id": team_id,
                    "touchpoint_id": touchpoint_id,
                    "channel": channel,
                    "payload": {"at": at.isoformat(), **(payload or {})},
                    "next_attempt_at": at,
                    "expires_at": expires_at,
                }
            ]
        )
        == 1
    )


def preferred_channel(channel: Channel | str | None) -> DeliveryChannel:
    """A person's preferred channel as a delivery channel (in the app when unset)."""
    try:
        return DeliveryChannel(str(channel.value if isinstance(channel, Channel) else channel))
    except ValueError:
        return DeliveryChannel.IN_APP


def alert_hr(key: str, headline: str, detail: str = "", *, link: str = "/nudges/delivery") -> int:
    """An in-app notice to every HR partner (once per key); the caller commits."""
    from touchpoints.auth.models import Role, User, UserRole

    hr_ids = db.session.scalars(
        select(User.employee_id)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.HR_PARTNER.value)
    ).all()
    now = utcnow()
    return enqueue_many(
        [
            {
                "dedup_key": f"notice:{key}:{employee_id}"[:200],
                "kind": NudgeKind.NOTICE,
                "recipient_id": employee_id,
                "channel": DeliveryChannel.IN_APP,
                "next_attempt_at": now,
                "payload": {"headline": headline, "detail": detail, "link": link, "at": now.isoformat()},
            }
            for employee_id in sorted(set(hr_ids))
        ]
    )


# ---------------------------------------------------------------- channel state


def paused_channels() -> dict[str, ChannelState]:
    """Channels HR must look at before anything more goes out on them."""
    return {
        s.channel: s
        for s in db.session.scalars(select(ChannelState).where(ChannelState.paused_at.is_not(None)))
    }


def pause_channel(channel: DeliveryChannel, reason: str, *, now: datetime | None = None) -> bool:
    """Stop a channel (its queue is kept) and tell HR; False when it was already paused. Caller commits."""
    now = now or utcnow()
    state = db.session.get(ChannelState, channel.value)
    if state is None:
        state = ChannelState(channel=channel.value)
        db.session.add(state)
    if state.paused_at is not None:
        return False
    state.paused_at, state.pause_reason = now, reason[:300]
    alert_hr(
        f"{channel.value}-paused:{now:%Y%m%d%H%M%S}",
        f"{channel.label} sending is paused",
        f"{reason}. Nothing is lost: the queue waits. Fix the set-up, then resume {channel.label} "
        "sending on the Delivery page.",
    )
    record(
        "nudges.channel_paused", "channel", None, actor_id=None, summary=f"{channel.label} paused: {reason}"
    )
    return True


def resume_channel(channel: DeliveryChannel, *, actor) -> None:
    """HR resumes a paused channel; its waiting nudges go out on the next run. Commits."""
    state = db.session.get(ChannelState, channel.value)
    if state is None or state.paused_at is None:
        return
    state.paused_at, state.pause_reason, state.resumed_by_id = None, "", actor.id
    now = utcnow()
    db.session.execute(
        update(Nudge)
        .where(Nudge.channel == channel, Nudge.status.in_(DUE_STATUSES), Nudge.next_attempt_at > now)
        .values(next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    record("nudges.channel_resumed", "channel", None, actor_id=actor.id, summary=f"{channel.label} resumed")
    db.session.commit()


def choose_channel(
    preferred: DeliveryChannel,
    *,
    employee: Employee | None,
    profile: DeliveryProfile | None,
    team_channel: TeamChannel | None,
    settings: NudgeSettings,
) -> tuple[DeliveryChannel, str]:
    """The channel a person's nudge goes on now and, when it is not their preferred one, why."""
    fallback = (
        DeliveryChannel.EMAIL
        if settings.email_enabled and employee is not None and employee.email
        else DeliveryChannel.IN_APP
    )
    if preferred is DeliveryChannel.SLACK:
        if not settings.slack_enabled:
            return fallback, "Slack is not set up (no SLACK_BOT_TOKEN)"
        if profile is not None and profile.slack_not_found_at is not None:
            return fallback, "Slack has no account with this person's email"
        return preferred, ""
    if preferred is DeliveryChannel.TEAMS:
        if teams_webhook_for(profile, team_channel):
            return preferred, ""
        return fallback, "No working Teams workflow for this person or their team"
    if preferred is DeliveryChannel.EMAIL:
        if fallback is DeliveryChannel.EMAIL:
            return preferred, ""
        return DeliveryChannel.IN_APP, "Email is not set up (no SMTP_HOST)"
    return DeliveryChannel.IN_APP, ""


def teams_webhook_for(profile: DeliveryProfile | None, team_channel: TeamChannel | None) -> str | None:
    """The person's own working Teams webhook, else their team's."""
    if profile is not None and profile.teams_webhook_url and profile.teams_webhook_broken_at is None:
        return profile.teams_webhook_url
    if (
        team_channel is not None
        and team_channel.teams_webhook_url
        and team_channel.teams_webhook_broken_at is None
    ):
        return team_channel.teams_webhook_url
    return None


def profile_for(employee_id: int) -> DeliveryProfile:
    """A person's delivery profile, created on first use (the caller commits)."""
    profile = db.session.get(DeliveryProfile, employee_id)
    if profile is None:
        profile = DeliveryProfile(employee_id=employee_id)
        db.session.add(profile)
        db.session.flush()
    return profile


# ---------------------------------------------------------------- claiming


def recover_lost_leases(now: datetime) -> tuple[int, int]:
    """Rows a dead run left in `sending`: back to the queue if never sent, else `unknown`. Commits."""
    lost = (Nudge.status == NudgeStatus.SENDING) & (Nudge.lease_until < now)
    requeued = db.session.execute(
        update(Nudge)
        .where(lost, Nudge.send_started_at.is_(None))
        .values(status=NudgeStatus.PENDING, lease_owner=None, lease_until=None, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    unknown = db.session.execute(
        update(Nudge)
        .where(lost, Nudge.send_started_at.is_not(None))
        .values(
            status=NudgeStatus.UNKNOWN,
            lease_owner=None,
            lease_until=None,
            updated_at=now,
            last_error="The delivery run stopped while this was being sent, so its answer was lost. "
            "Check whether it arrived; it is not resent on its own.",
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return requeued, unknown


def expire_stale(now: datetime) -> int:
    """Waiting nudges whose moment has passed (the scheduler was down) expire instead of arriving late."""
    expired = db.session.execute(
        update(Nudge)
        .where(Nudge.status.in_(DUE_STATUSES), Nudge.expires_at <= now)
        .values(
            status=NudgeStatus.EXPIRED,
            updated_at=now,
            last_error="It went stale before it could be delivered (nothing was sending at the time).",
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return expired


def claim_due_nudges(
    worker: str, *, limit: int, now: datetime, lease_seconds: int, skip_channels: Iterable[str] = ()
) -> list[int]:
    """Lease up to `limit` due nudges to this worker and return their ids (committed).

    PostgreSQL locks the chosen rows with SKIP LOCKED, so concurrent runs take disjoint sets;
    SQLite serialises writers, and the status condition repeated in the update makes it a claim.
    """
    db.session.commit()  # the claim must be the first statement of its transaction on SQLite
    due = (
        select(Nudge.id)
        .where(Nudge.status.in_(DUE_STATUSES), Nudge.next_attempt_at <= now)
        .order_by(Nudge.next_attempt_at, Nudge.id)
        .limit(limit)
    )
    skip = [c if isinstance(c, str) else c.value for c in skip_channels]
    if skip:
        due = due.where(Nudge.channel.not_in(skip))
    chosen = due.cte("due")
    if db.session.get_bind().dialect.name == "postgresql":
        # Materialised, so the locked rows are chosen once. Inlined as a subquery, the planner may
        # rescan it for each row it updates, and every rescan skips the rows this statement has just
        # updated and locks the next ones: the claim then takes more than `limit` rows.
        chosen = due.with_for_update(skip_locked=True).cte("due").prefix_with("MATERIALIZED")
    statement = (
        update(Nudge)
        .where(Nudge.id.in_(select(chosen.c.id)), Nudge.status.in_(DUE_STATUSES))
        .values(
            status=NudgeStatus.SENDING,
            lease_owner=worker,
            lease_until=now + timedelta(seconds=lease_seconds),
            send_started_at=None,
            updated_at=now,
        )
        .returning(Nudge.id)
        .execution_options(synchronize_session=False)
    )
    ids = list(db.session.scalars(statement))
    db.session.commit()
    return sorted(ids)


def backoff_delay(attempts: int, settings: NudgeSettings, retry_after: float | None = None) -> float:
    """Seconds before the next try: Retry-After when the service said so, else exponential with jitter."""
    if retry_after is not None:
        return retry_after + random.uniform(0, min(5.0, retry_after * 0.1 + 1))
    ceiling = min(settings.backoff_max_seconds, settings.backoff_base_seconds * 2 ** max(0, attempts - 1))
    return random.uniform(ceiling / 2, ceiling)


# ---------------------------------------------------------------- delivery


@dataclass
class DeliveryReport:
    """What one delivery run did."""

    sent: int = 0
    messages: int = 0
    retried: int = 0
    unknown: int = 0
    dead: int = 0
    held: int = 0
    cancelled: int = 0
    expired: int = 0
    requeued: int = 0
    recovered_unknown: int = 0
    # Messages this run had leased but did not send, having stalled past its lease.
    lease_lost: int = 0
    paused: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v}

    def summary(self) -> str:
        parts = [f"{v} {k.replace('_', ' ')}" for k, v in vars(self).items() if isinstance(v, int) and v]
        if self.paused:
            parts.append("paused " + ", ".join(self.paused))
        return ", ".join(parts) or "nothing to send"


@dataclass
class _Pending:
    """A claimed nudge on its way: the row, its recipient and the item it becomes."""

    nudge: Nudge
    channel: DeliveryChannel
    item: compose.Item | None = None
    note: str = ""
    # A calendar invitation's .ics and its METHOD (REQUEST or CANCEL).
    ics: bytes | None = None
    method: str = ""


class _Run:
    """One delivery run: settings, the active policies, channel senders, and what was learnt.

    Messages leave from a small pool of sender threads; each thread has its own Slack client,
    Teams sender and SMTP connection (none of them is shared between threads), and none of them
    touches the database: the run's own thread claims, marks and records.
    """

    def __init__(self, settings: NudgeSettings, clock):
        from touchpoints.policies.engine.evaluation import active_policies

        self.settings = settings
        self.clock = clock
        self.policies = active_policies()
        self.paused = set(paused_channels())
        self.blocked_until: dict[str, datetime] = {}
        self.threads = max(1, settings.send_threads)
        self.worker = ""
        self.lease_renewed = time.monotonic()
        # Channels that delivered in this run, so several messages may be in flight to them at once.
        self.proven: set[str] = set()
        self._local = threading.local()
        self._opened: list[EmailSender] = []
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    @property
    def pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="nudge-send")
        return self._pool

    @property
    def slack(self) -> SlackSender:
        """This thread's Slack sender (a WebClient of its own)."""
        sender = getattr(self._local, "slack", None)
        if sender is None:
            sender = SlackSender(
                make_client(
                    self.settings.slack_token or "", self.settings.slack_api_url, self.settings.slack_timeout
                )
            )
            self._local.slack = sender
        return sender

    @property
    def email(self) -> EmailSender:
        """This thread's SMTP sender (its own connection, closed at the end of the run)."""
        sender = getattr(self._local, "email", None)
        if sender is None:
            sender = EmailSender(self.settings)
            self._local.email = sender
            with self._lock:
                self._opened.append(sender)
        return sender

    @property
    def teams(self) -> TeamsSender:
        sender = getattr(self._local, "teams", None)
        if sender is None:
            sender = self._local.teams = TeamsSender(self.settings.teams_timeout)
        return sender

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        with self._lock:
            opened, self._opened = self._opened, []
        for sender in opened:
            sender.close()

    def skip_channels(self, now: datetime) -> set[str]:
        blocked = {c for c, until in self.blocked_until.items() if until > now}
        return self.paused | blocked

    # -------------------------------------------------- policies, read once per run

    def quiet_policies(self):
        from touchpoints.policies.rules import QuietHours

        return [p for p in self.policies if isinstance(p.rule, QuietHours)]

    def _covers(self, policy, employee: Employee, kind: TouchpointKind | None) -> bool:
        if kind is not None and not policy.scope.covers_kind(kind):
            return False
        return policy.scope.covers_employee(
            status=employee.status,
            team_name=employee.team.name if employee.team else None,
            location=employee.location,
        )

    def content_allowed(self, kind: TouchpointKind, channel: DeliveryChannel, employee: Employee) -> bool:
        """Channel guidelines: may this channel carry what this kind of moment is about?"""
        from touchpoints.journeys.models import Mode
        from touchpoints.policies.rules import ChannelGuidelines

        mode = {
            DeliveryChannel.SLACK: Mode.CHAT,
            DeliveryChannel.TEAMS: Mode.CHAT,
            DeliveryChannel.EMAIL: Mode.EMAIL,
        }.get(channel)
        if mode is None:
            return True
        return all(
            policy.rule.allows(mode)
            for policy in self.policies
            if isinstance(policy.rule, ChannelGuidelines) and self._covers(policy, employee, kind)
        )

    def policy_text(self, touchpoint: Touchpoint) -> str | None:
        """The required-modes policy a touchpoint falls under, in one line."""
        from touchpoints.policies.rules import RequiredModes

        for policy in self.policies:
            if isinstance(policy.rule, RequiredModes) and self._covers(
                policy, touchpoint.employee, touchpoint.kind
            ):
                return f"{policy.rule.requirement(touchpoint.kind)} ({policy.name})"
        return None


def deliver(
    *,
    now: datetime | None = None,
    settings: NudgeSettings | None = None,
    worker: str | None = None,
    max_nudges: int | None = None,
) -> DeliveryReport:
    """The scheduler's delivery job: recover, expire, then claim and send batches until none is due.

    A run stops after `run_seconds` (the next run carries on), so a long queue never blocks the
    scheduler, and memory stays flat: one batch is held at a time.
    """
    settings = settings or NudgeSettings.current()
    worker = worker or worker_name()

    def clock() -> datetime:
        return now or utcnow()

    report = DeliveryReport()
    report.requeued, report.recovered_unknown = recover_lost_leases(clock())
    report.expired = expire_stale(clock())
    run = _Run(settings, clock)
    run.worker = worker
    deadline = time.monotonic() + settings.run_seconds
    taken = 0
    # Delivery commits on every turn of its send loop; expiring the whole batch on each commit would
    # reload every row afterwards. The rows it reads again are written only through statements here,
    # and each batch is loaded afresh (populate_existing), so nothing stale is used.
    session = db.session()
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    try:
        while time.monotonic() < deadline and (max_nudges is None or taken < max_nudges):
            limit = (
                settings.batch_size if max_nudges is None else min(settings.batch_size, max_nudges - taken)
            )
            ids = claim_due_nudges(
                worker,
                limit=limit,
                now=clock(),
                lease_seconds=settings.lease_seconds,
                skip_channels=run.skip_channels(clock()),
            )
            if not ids:
                break
            taken += len(ids)
            # Flat memory: the session holds its objects weakly, and nothing here keeps a finished batch.
            _deliver_batch(ids, run, report)
    finally:
        run.close()
        db.session.commit()
        session.expire_on_commit = expire_on_commit
        db.session.expire_all()
    report.paused = sorted(run.paused)
    return report


def _load_batch(ids: list[int]) -> list[Nudge]:
    return list(
        db.session.scalars(
            select(Nudge)
            .where(Nudge.id.in_(ids))
            .order_by(Nudge.id)
            .execution_options(populate_existing=True)
            .options(
                joinedload(Nudge.recipient).joinedload(Employee.team),
                joinedload(Nudge.touchpoint).joinedload(Touchpoint.employee).joinedload(Employee.team),
                joinedload(Nudge.touchpoint).joinedload(Touchpoint.owner),
            )
        ).unique()
    )


def _release(ids: list[int], *, until: datetime, note: str | None = None) -> None:
    """Give leased nudges back to the queue without counting an attempt."""
    if not ids:
        return
    values: dict[str, Any] = {
        "status": NudgeStatus.PENDING,
        "lease_owner": None,
        "lease_until": None,
        "send_started_at": None,
        "next_attempt_at": until,
        "updated_at": utcnow(),
    }
    if note is not None:
        values["last_error"] = note
    db.session.execute(
        update(Nudge).where(Nudge.id.in_(ids)).values(**values).execution_options(synchronize_session=False)
    )


def _close(ids: list[int], status: NudgeStatus, note: str) -> None:
    if ids:
        db.session.execute(
            update(Nudge)
            .where(Nudge.id.in_(ids))
            .values(status=status, last_error=note, lease_owner=None, lease_until=None, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )


def _sent_today(recipient_ids: set[int], now: datetime) -> dict[int, list[tuple[datetime, str]]]:
    """Messages (by reference) each person got in the last day, to apply the daily cap."""
    if not recipient_ids:
        return {}
    rows = db.session.execute(
        select(Nudge.recipient_id, Nudge.sent_at, Nudge.external_ref).where(
            Nudge.recipient_id.in_(recipient_ids),
            Nudge.status == NudgeStatus.SENT,
            Nudge.sent_at >= now - timedelta(hours=26),
            Nudge.channel != DeliveryChannel.IN_APP,
            # Calendar invitations are not nudges: they do not use up the day's allowance.
            Nudge.kind != NudgeKind.CALENDAR_INVITE,
        )
    ).all()
    found: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    for recipient_id, sent_at, ref in rows:
        found[recipient_id].append((sent_at, ref or ""))
    return found


def _local_midnight(moment: datetime, tz: str) -> datetime:
    local = moment.astimezone(zone(tz))
    return datetime.combine(local.date(), dtime(0, 0), tzinfo=zone(tz)).astimezone(UTC)


def digest_moment(employee: Employee, after: datetime) -> datetime:
    """The start of the first working day at or after `after` (less a little), in the person's zone."""
    calendar = WorkCalendar(employee.country_code or "GB", employee.subdivision or "", employee.work_days)
    probe = after - DIGEST_TOLERANCE
    day = probe.astimezone(zone(employee.timezone)).date()
    for _ in range(40):
        if calendar.is_working_day(day):
            start = datetime.combine(day, employee.work_start, tzinfo=zone(employee.timezone)).astimezone(UTC)
            if start >= probe:
                return start
        day += timedelta(days=1)
    return after


def _nudge_moment(nudge: Nudge) -> datetime:
    raw = (nudge.payload or {}).get("at")
    try:
        return datetime.fromisoformat(raw) if raw else nudge.created_at
    except (TypeError, ValueError):
        return nudge.created_at


def _deliver_batch(ids: list[int], run: _Run, report: DeliveryReport) -> None:
    from touchpoints.policies.delivery import next_allowed_delivery

    now = run.clock()
    nudges = _load_batch(ids)
    recipients = {n.recipient_id for n in nudges if n.recipient_id}
    profiles = (
        {
            p.employee_id: p
            for p in db.session.scalars(
                select(DeliveryProfile).where(DeliveryProfile.employee_id.in_(recipients))
            )
        }
        if recipients
        else {}
    )
    team_ids = {n.recipient.team_id for n in nudges if n.recipient is not None and n.recipient.team_id} | {
        n.team_id for n in nudges if n.team_id
    }
    team_channels = (
        {
            t.team_id: t
            for t in db.session.scalars(select(TeamChannel).where(TeamChannel.team_id.in_(team_ids)))
        }
        if team_ids
        else {}
    )
    sent_recently = _sent_today(recipients, now)
    quiet = run.quiet_policies()

    groups: dict[tuple, list[_Pending]] = defaultdict(list)
    held: dict[datetime, list[int]] = defaultdict(list)
    cancelled: list[tuple[int, str]] = []
    for nudge in nudges:
        employee = nudge.recipient
        tp = nudge.touchpoint
        if nudge.team_id is not None and employee is None:
            team_channel = team_channels.get(nudge.team_id)
            channel = nudge.channel if nudge.channel is DeliveryChannel.TEAMS else DeliveryChannel.SLACK
            obstacle = _team_digest_obstacle(channel, team_channel, run.settings)
            if obstacle:
                cancelled.append((nudge.id, obstacle))
                continue
            if channel.value in run.skip_channels(now):
                held[run.blocked_until.get(channel.value, now + PAUSED_RECHECK)].append(nudge.id)
                continue
            pending = _Pending(nudge, channel)
            pending.item = compose.other_item(facts_for(nudge, None, "UTC", run.settings, channel))
            groups[("team", nudge.team_id, nudge.id)].append(pending)
            continue
        if employee is None or employee.is_deactivated:
            cancelled.append((nudge.id, "The person has left or was deactivated."))
            continue
        if nudge.kind in ABOUT_OPEN_TOUCHPOINT and tp is not None:
            if not tp.is_open:
                cancelled.append(
                    (nudge.id, f"Not needed any more: the touchpoint is {tp.status.label.lower()}.")
                )
                continue
            due = (nudge.payload or {}).get("due_at")
            if nudge.kind is NudgeKind.REMINDER and due and datetime.fromisoformat(due) != tp.due_at:
                cancelled.append(
                    (nudge.id, "Not needed any more: the touchpoint was moved (a new reminder follows).")
                )
                continue
        profile = profiles.get(employee.id)
        if nudge.kind is NudgeKind.CALENDAR_INVITE:
            obstacle = _invitation_obstacle(nudge, tp, run, profile)
            if obstacle:
                cancelled.append((nudge.id, obstacle))
                continue
        kind = tp.kind if tp is not None else None
        # Quiet hours and working hours, in the person's own zone.
        allowed = next_allowed_delivery(employee, now, kind, policies=quiet)
        if profile is not None and profile.daily_digest and nudge.kind in DIGESTIBLE:
            allowed = max(allowed, digest_moment(employee, _nudge_moment(nudge)))
        if allowed > now:
            held[allowed].append(nudge.id)
            continue
        if nudge.kind is NudgeKind.CALENDAR_INVITE and tp is not None:
            # An invitation always travels by email, alone, whatever the person's chat channel.
            email = DeliveryChannel.EMAIL.value
            if email in run.skip_channels(now):
                held[run.blocked_until.get(email, now + PAUSED_RECHECK)].append(nudge.id)
                continue
            groups[("invite", nudge.id, DeliveryChannel.EMAIL.value)].append(
                _invitation_pending(nudge, tp, employee, run)
            )
            continue
        # The person's preference as it is now: they may have changed it since this was queued.
        channel, note = choose_channel(
            preferred_channel(employee.preferred_channel),
            employee=employee,
            profile=profile,
            team_channel=team_channels.get(employee.team_id or -1),
            settings=run.settings,
        )
        if nudge.kind is NudgeKind.NOTICE:
            channel, note = DeliveryChannel.IN_APP, ""
        if channel.value in run.skip_channels(now):
            held[run.blocked_until.get(channel.value, now + PAUSED_RECHECK)].append(nudge.id)
            continue
        if channel is not DeliveryChannel.IN_APP:
            midnight = _local_midnight(now, employee.timezone)
            messages_today = {ref for at, ref in sent_recently.get(employee.id, []) if at >= midnight}
            if len(messages_today) >= run.settings.daily_cap and nudge.kind is not NudgeKind.NOTICE:
                tomorrow = midnight + timedelta(hours=26)
                tomorrow = _local_midnight(tomorrow, employee.timezone)
                held[next_allowed_delivery(employee, tomorrow, kind, policies=quiet)].append(nudge.id)
                continue
        pending = _Pending(nudge, channel, note=note)
        facts = facts_for(nudge, tp, employee.timezone, run.settings, channel)
        if tp is not None:
            pending.item = compose.touchpoint_item(
                facts,
                content_allowed=run.content_allowed(tp.kind, channel, employee),
                policy_text=run.policy_text(tp) if nudge.kind is NudgeKind.REMINDER else None,
            )
        else:
            pending.item = compose.other_item(facts, dialogs=channel is DeliveryChannel.SLACK)
        groups[(employee.id, channel.value)].append(pending)

    for until, held_ids in held.items():
        _release(held_ids, until=until)
        report.held += len(held_ids)
    for nudge_id, reason in cancelled:
        _close([nudge_id], NudgeStatus.CANCELLED, reason)
    report.cancelled += len(cancelled)
    db.session.commit()

    # In-app deliveries need no outside call: one statement for all of them.
    in_app = [p for key, group in groups.items() if key[-1] == DeliveryChannel.IN_APP.value for p in group]
    if in_app:
        for note in {p.note for p in in_app}:
            ids = [p.nudge.id for p in in_app if p.note == note]
            db.session.execute(
                update(Nudge)
                .where(Nudge.id.in_(ids))
                .values(
                    status=NudgeStatus.SENT,
                    sent_at=now,
                    bundled=False,
                    channel=DeliveryChannel.IN_APP,
                    external_ref=literal("in_app:").concat(cast(Nudge.id, String)),
                    lease_owner=None,
                    lease_until=None,
                    updated_at=now,
                    last_error=note[:300],
                )
                .execution_options(synchronize_session=False)
            )
        report.sent += len(in_app)
        report.messages += len(in_app)
        db.session.commit()
    outside = [group for key, group in groups.items() if key[-1] != DeliveryChannel.IN_APP.value]
    if outside:
        _send_groups([_job(group, profiles, team_channels, run.settings) for group in outside], run, report)


def _team_digest_obstacle(
    channel: DeliveryChannel, team_channel: TeamChannel | None, settings: NudgeSettings
) -> str:
    """Why a team's digest cannot go to its channel ('' when it can)."""
    if channel is DeliveryChannel.TEAMS:
        if teams_webhook_for(None, team_channel) is None:
            return "The team has no working Teams workflow for its digest."
        return ""
    if team_channel is None or not team_channel.slack_digest_channel or not settings.slack_enabled:
        return "The team has no Slack channel for its digest (or Slack is not set up)."
    return ""


def _invitation_obstacle(
    nudge: Nudge, tp: Touchpoint | None, run: _Run, profile: DeliveryProfile | None
) -> str:
    """Why a queued calendar invitation should not go out any more ('' when it should)."""
    if tp is None:
        return "The touchpoint was removed."
    if (nudge.payload or {}).get("sequence") != tp.sequence:
        return "Not needed any more: a later change to the touchpoint replaced this invitation."
    if not run.settings.email_enabled:
        return "Email is not set up (no SMTP_HOST), so calendar invitations cannot be sent."
    if profile is not None and not profile.calendar_invites:
        return "The person turned calendar invitations off."
    return ""


def _invitation_pending(nudge: Nudge, tp: Touchpoint, employee: Employee, run: _Run) -> _Pending:
    from touchpoints.nudges.calendar import cancelled_for, invitation
    from touchpoints.nudges.invitations import invitation_item

    pending = _Pending(nudge, DeliveryChannel.EMAIL)
    pending.item = invitation_item(
        tp, nudge_id=nudge.id, recipient_id=employee.id, timezone=employee.timezone, settings=run.settings
    )
    cancelled = cancelled_for(tp, employee.id)
    pending.ics = invitation(tp, run.settings, viewer_id=employee.id, cancelled=cancelled)
    pending.method = "CANCEL" if cancelled else "REQUEST"
    return pending


def facts_for(
    nudge: Nudge, tp: Touchpoint | None, tz: str, settings: NudgeSettings, channel: DeliveryChannel
) -> NudgeFacts:
    links: dict[str, str] = {}
    if tp is not None:
        path = f"/touchpoints/{tp.id}"
        if channel in (DeliveryChannel.TEAMS, DeliveryChannel.EMAIL) and nudge.recipient_id:
            for action in (*compose.TOUCHPOINT_ACTIONS, compose.OPEN):
                links[action] = settings.link(f"/nudges/act/{sign_action(action, tp.id, nudge.recipient_id)}")
        else:
            links[compose.OPEN] = settings.link(path)
        facts_tp = TouchpointFacts(
            id=tp.id,
            title=tp.title,
            kind=tp.kind,
            planned_mode=tp.planned_mode,
            due_at=tp.due_at,
            duration_minutes=tp.duration_minutes,
            employee_id=tp.employee_id,
            employee_name=tp.employee.full_name if tp.employee else "",
            owner_id=tp.owner_id,
            owner_name=tp.owner.full_name if tp.owner else None,
            sensitive=tp.sensitive,
            is_open=tp.is_open,
        )
    else:
        facts_tp = None
        link = (nudge.payload or {}).get("link")
        if link:
            links[compose.OPEN] = settings.link(link)
    return NudgeFacts(
        id=nudge.id,
        kind=nudge.kind.value,
        payload=nudge.payload or {},
        touchpoint=facts_tp,
        recipient_id=nudge.recipient_id,
        recipient_timezone=tz,
        links=links,
    )


@dataclass
class _Job:
    """One outside message, ready to leave: everything a sender thread needs, without the database."""

    group: list[_Pending]
    channel: DeliveryChannel
    message: compose.Message
    attempts: int
    email: str = ""
    full_name: str = ""
    slack_user_id: str | None = None
    slack_dm_channel: str | None = None
    # A team digest goes to the team's Slack channel rather than to a person's DM.
    slack_channel: str | None = None
    webhook_url: str | None = None
    own_webhook: bool = False
    # A calendar invitation, built whole before it leaves (text, HTML, text/calendar, invite.ics).
    prepared_email: EmailMessage | None = None
    started_at: datetime | None = None
    result: SendResult | None = None

    @property
    def ids(self) -> list[int]:
        return [p.nudge.id for p in self.group]


def _job(
    group: list[_Pending],
    profiles: dict[int, DeliveryProfile],
    team_channels: dict[int, TeamChannel],
    settings: NudgeSettings,
) -> _Job:
    """Read what sending a group needs from the batch's rows, so the sending thread has no queries."""
    nudge = group[0].nudge
    employee = nudge.recipient
    job = _Job(
        group=group,
        channel=group[0].channel,
        message=compose.compose([p.item for p in group if p.item is not None]),
        attempts=max(p.nudge.attempts for p in group) + 1,
    )
    if employee is None:
        team_channel = team_channels.get(nudge.team_id or -1)
        if job.channel is DeliveryChannel.TEAMS:
            job.webhook_url = teams_webhook_for(None, team_channel)
        else:
            job.slack_channel = team_channel.slack_digest_channel if team_channel else ""
        return job
    profile = profiles.get(employee.id)
    job.email, job.full_name, job.slack_user_id = employee.email, employee.full_name, employee.slack_user_id
    job.slack_dm_channel = profile.slack_dm_channel if profile else None
    if job.channel is DeliveryChannel.TEAMS:
        job.webhook_url = teams_webhook_for(profile, team_channels.get(employee.team_id or -1))
        job.own_webhook = profile is not None and profile.teams_webhook_url == job.webhook_url
    if group[0].ics is not None:
        job.prepared_email = build_invitation_email(
            job.message,
            to_name=employee.full_name,
            to_email=employee.email,
            sender=settings.smtp_from,
            ics=group[0].ics,
            method=group[0].method,
        )
    return job


# Core statements run as one executemany per turn (the ORM's bulk path costs more than the send).
_NUDGES = Nudge.__table__
_MARK_STARTED = (
    update(_NUDGES)
    .where(
        _NUDGES.c.id == bindparam("_id"),
        _NUDGES.c.lease_owner == bindparam("_worker"),
        _NUDGES.c.status == NudgeStatus.SENDING,
    )
    .values(send_started_at=bindparam("_at"), attempts=_NUDGES.c.attempts + 1, channel=bindparam("_channel"))
)
_RECORD_SENT = (
    update(_NUDGES)
    .where(_NUDGES.c.id == bindparam("_id"))
    .values(
        status=NudgeStatus.SENT,
        sent_at=bindparam("_sent_at"),
        external_ref=bindparam("_ref"),
        bundled=bindparam("_bundled"),
        channel=bindparam("_channel"),
        lease_owner=None,
        lease_until=None,
        updated_at=bindparam("_at"),
        last_error=bindparam("_note"),
    )
)


def _send_groups(jobs: list[_Job], run: _Run, report: DeliveryReport) -> None:
    """Send the batch's messages from the pool of sender threads, recording answers as they come.

    Each turn of the loop is one commit that records the answers that came back and marks the
    messages about to leave as started. Only a message handed to a free thread is marked, so a
    run killed at any moment leaves as `unknown` exactly the messages that were in flight or whose
    answer was not yet recorded, and nothing that never left.
    """
    waiting = deque(jobs)
    in_flight: dict[Future, _Job] = {}
    answered: list[_Job] = []
    while waiting or in_flight or answered:
        now = run.clock()
        _renew_lease(run, now)
        if answered:
            _record_answers(answered, run, report, now)
            answered = []
        starting: list[_Job] = []
        while waiting and len(in_flight) + len(starting) < run.threads:
            job = waiting[0]
            if job.channel.value in run.skip_channels(now):
                # Paused or rate limited since the batch was planned: back to the queue, uncounted.
                waiting.popleft()
                _release(job.ids, until=run.blocked_until.get(job.channel.value, now + PAUSED_RECHECK))
                report.held += len(job.group)
                continue
            busy = {j.channel for j in (*in_flight.values(), *starting)}
            if job.channel.value not in run.proven and job.channel in busy:
                # Until a channel has answered well in this run, one message at a time goes to it:
                # a rate limit, an outage or a revoked token is then learnt from one message, not four.
                break
            waiting.popleft()
            job.started_at = now
            starting.append(job)
        if starting:
            # Committed before the request leaves: should this process die, the row says "may have arrived".
            starting = _mark_started(starting, run, report, now)
        db.session.commit()
        for job in starting:
            in_flight[run.pool.submit(_send, job, run)] = job
        if not in_flight:
            continue
        # Wake up now and then even while every answer is slow, to renew the lease.
        done, _ = wait(
            list(in_flight), timeout=max(1.0, run.settings.lease_seconds / 3), return_when=FIRST_COMPLETED
        )
        for future in done:
            job = in_flight.pop(future)
            error = future.exception()
            job.result = (
                SendResult(Verdict.UNKNOWN, f"The send failed after it started: {error}")
                if error is not None
                else future.result()
            )
            answered.append(job)


def _mark_started(jobs: list[_Job], run: _Run, report: DeliveryReport, now: datetime) -> list[_Job]:
    """Mark these messages as leaving and return those this run may still send.

    A run that stalled for longer than its lease has lost it: another run may have taken the rows
    back and be sending them. Those messages must not leave from here as well.
    """
    rows = [
        {"_id": i, "_channel": job.channel, "_at": now, "_worker": run.worker}
        for job in jobs
        for i in job.ids
    ]
    if db.session.execute(_MARK_STARTED, rows).rowcount == len(rows):
        return jobs
    ours = set(
        db.session.scalars(
            select(Nudge.id).where(
                Nudge.id.in_([row["_id"] for row in rows]),
                Nudge.lease_owner == run.worker,
                Nudge.status == NudgeStatus.SENDING,
            )
        )
    )
    keep = [job for job in jobs if ours.issuperset(job.ids)]
    # Part of a bundle may still be ours: it goes back unsent, its attempt uncounted, with the rest.
    give_back = [i for job in jobs if job not in keep for i in job.ids if i in ours]
    if give_back:
        db.session.execute(
            update(Nudge)
            .where(Nudge.id.in_(give_back))
            .values(attempts=Nudge.attempts - 1)
            .execution_options(synchronize_session=False)
        )
        _release(give_back, until=now)
    report.lease_lost += sum(len(job.group) for job in jobs if job not in keep)
    return keep


def _renew_lease(run: _Run, now: datetime) -> None:
    """Keep this run's lease on the rows it still holds, so slow answers never let another run take them."""
    lease = run.settings.lease_seconds
    if not run.worker or time.monotonic() - run.lease_renewed < lease / 3:
        return
    db.session.execute(
        update(Nudge)
        .where(Nudge.lease_owner == run.worker, Nudge.status == NudgeStatus.SENDING)
        .values(lease_until=now + timedelta(seconds=lease))
        .execution_options(synchronize_session=False)
    )
    run.lease_renewed = time.monotonic()


def _record_answers(jobs: list[_Job], run: _Run, report: DeliveryReport, now: datetime) -> None:
    """Write what the channels answered: every sent nudge in one statement, the rest one group each."""
    sent_rows: list[dict[str, Any]] = []
    for job in jobs:
        result = job.result or SendResult(Verdict.UNKNOWN, "No answer was recorded")
        _learn(job.group[0].nudge, result, run)
        if result.verdict is Verdict.SENT:
            run.proven.add(job.channel.value)
            note = job.group[0].note[:300]
            sent_rows.extend(
                {
                    "_id": nudge_id,
                    "_sent_at": job.started_at or now,
                    "_ref": result.external_ref,
                    "_bundled": len(job.group) > 1,
                    "_channel": job.channel,
                    "_at": now,
                    "_note": note,
                }
                for nudge_id in job.ids
            )
            report.sent += len(job.group)
            report.messages += 1
        else:
            _record_problem(job, result, run, report, now)
    if sent_rows:
        db.session.execute(_RECORD_SENT, sent_rows)


def _record_problem(job: _Job, result: SendResult, run: _Run, report: DeliveryReport, now: datetime) -> None:
    """Record a message that did not go: retry later, unknown, dead, or pause its channel."""
    settings = run.settings
    ids, channel, attempts, verdict = job.ids, job.channel, job.attempts, result.verdict
    if verdict is Verdict.RETRY:
        if result.retry_after is not None:
            run.blocked_until[channel.value] = now + timedelta(seconds=result.retry_after)
        if attempts >= settings.max_attempts:
            _close(ids, NudgeStatus.DEAD, f"Gave up after {attempts} attempts. Last answer: {result.reason}")
            report.dead += len(ids)
        else:
            delay = backoff_delay(attempts, settings, result.retry_after)
            db.session.execute(
                update(Nudge)
                .where(Nudge.id.in_(ids))
                .values(
                    status=NudgeStatus.FAILED,
                    last_error=result.reason[:500],
                    lease_owner=None,
                    lease_until=None,
                    send_started_at=None,
                    next_attempt_at=now + timedelta(seconds=delay),
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            report.retried += len(ids)
    elif verdict is Verdict.UNKNOWN:
        _close(ids, NudgeStatus.UNKNOWN, result.reason)
        report.unknown += len(ids)
    elif verdict is Verdict.PAUSE:
        # The token is at fault, not the nudge: it waits, uncounted, with the rest of the queue.
        db.session.execute(
            update(Nudge)
            .where(Nudge.id.in_(ids))
            .values(
                status=NudgeStatus.PENDING,
                attempts=Nudge.attempts - 1,
                send_started_at=None,
                lease_owner=None,
                lease_until=None,
                last_error=result.reason[:500],
                next_attempt_at=now,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        pause_channel(channel, result.reason, now=now)
        run.paused.add(channel.value)
        report.held += len(ids)
    else:  # DEAD, REROUTE: permanent for this nudge; the person is marked so the next ones fall back
        hint = (
            " Later nudges to this person use their fallback channel." if verdict is Verdict.REROUTE else ""
        )
        _close(ids, NudgeStatus.DEAD, result.reason + hint)
        report.dead += len(ids)


def _send(job: _Job, run: _Run) -> SendResult:
    """Send one message on its channel (runs in a sender thread: no database here)."""
    message = job.message
    if job.channel is DeliveryChannel.SLACK:
        if job.slack_channel is not None:
            return run.slack.post(message, channel=job.slack_channel)
        return run.slack.send(
            message, email=job.email, user_id=job.slack_user_id, dm_channel=job.slack_dm_channel
        )
    if job.channel is DeliveryChannel.TEAMS:
        if not job.webhook_url:
            return SendResult(Verdict.REROUTE, "No working Teams workflow for this person or their team")
        result = run.teams.send(message, webhook_url=job.webhook_url)
        if result.learnt and "teams_broken" in result.learnt:
            scope = "person" if job.own_webhook else "team"
            result = SendResult(result.verdict, result.reason, learnt={**result.learnt, "teams_scope": scope})
        return result
    if job.prepared_email is not None:
        return run.email.send(job.prepared_email)
    if job.channel is DeliveryChannel.EMAIL:
        email = build_email(message, to_name=job.full_name, to_email=job.email, sender=run.settings.smtp_from)
        return run.email.send(email)
    return SendResult.sent(f"in_app:{job.group[0].nudge.id}")


def _learn(nudge: Nudge, result: SendResult, run: _Run) -> None:
    """Keep what a channel told us about the person: Slack ids, a missing account, a broken webhook."""
    learnt = result.learnt or {}
    employee = nudge.recipient
    now = run.clock()
    if learnt.get("teams_broken") and employee is None and nudge.team_id is not None:
        # A team digest found the team's workflow gone: members who fall back to it learn it too.
        team_channel = db.session.get(TeamChannel, nudge.team_id)
        if team_channel is not None:
            team_channel.teams_webhook_broken_at = now
            team_channel.teams_webhook_error = f"{learnt['teams_broken']} at {now:%-d %b %Y, %H:%M} UTC"
            db.session.flush()
        return
    if not learnt or employee is None:
        return
    if learnt.get("slack_user_id"):
        db.session.execute(
            update(Employee)
            .where(Employee.id == employee.id)
            .values(slack_user_id=learnt["slack_user_id"])
            .execution_options(synchronize_session=False)
        )
    if "slack_dm_channel" in learnt or "slack_not_found" in learnt:
        profile = profile_for(employee.id)
        if "slack_dm_channel" in learnt:
            profile.slack_dm_channel = learnt["slack_dm_channel"] or None
        if "slack_not_found" in learnt:
            profile.slack_not_found_at = now
    if "teams_broken" in learnt:
        reason = f"{learnt['teams_broken']} at {now:%-d %b %Y, %H:%M} UTC"
        if learnt.get("teams_scope") == "team" and employee.team_id:
            team_channel = db.session.get(TeamChannel, employee.team_id)
            if team_channel is not None:
                team_channel.teams_webhook_broken_at, team_channel.teams_webhook_error = now, reason
        else:
            profile = profile_for(employee.id)
            profile.teams_webhook_broken_at, profile.teams_webhook_error = now, reason
    db.session.flush()


# ---------------------------------------------------------------- HR's decisions


class NudgeActionError(ValueError):
    """An HR action that does not apply to this nudge's state."""


def retry_nudge(nudge: Nudge, *, actor) -> None:
    """Send a failed, unknown, dead or expired nudge again now (its channel is chosen afresh). Commits."""
    if nudge.status not in (*PROBLEM_STATUSES, NudgeStatus.EXPIRED):
        raise NudgeActionError(f"A nudge that is {nudge.status.label.lower()} cannot be retried.")
    before = nudge.status.value
    nudge.status, nudge.attempts, nudge.next_attempt_at = NudgeStatus.PENDING, 0, utcnow()
    nudge.expires_at = None
    nudge.send_started_at, nudge.lease_owner, nudge.lease_until = None, None, None
    nudge.last_error = f"Retried by an HR partner (was {before})."
    nudge.resolved_by_id, nudge.resolved_at = actor.id, utcnow()
    if nudge.recipient is not None:
        nudge.channel = preferred_channel(nudge.recipient.preferred_channel)
    record(
        "nudge.retried",
        "nudge",
        nudge.id,
        actor_id=actor.id,
        summary=f"Retried nudge {nudge.dedup_key}",
        before={"status": before},
        after={"status": "pending"},
    )
    db.session.commit()


def dismiss_nudge(nudge: Nudge, *, actor, arrived: bool = False) -> None:
    """Close a problem nudge: dismissed, or for an unknown one, confirmed as arrived. Commits."""
    if nudge.status not in (*PROBLEM_STATUSES, NudgeStatus.EXPIRED):
        raise NudgeActionError(f"A nudge that is {nudge.status.label.lower()} has nothing to dismiss.")
    before = nudge.status.value
    if arrived:
        if nudge.status is not NudgeStatus.UNKNOWN:
            raise NudgeActionError("Only a nudge whose answer was lost can be marked as arrived.")
        nudge.status, nudge.sent_at = NudgeStatus.SENT, nudge.send_started_at or utcnow()
        nudge.last_error = "Marked as arrived by an HR partner."
    else:
        nudge.status = NudgeStatus.DISMISSED
    nudge.resolved_by_id, nudge.resolved_at = actor.id, utcnow()
    record(
        "nudge.arrived" if arrived else "nudge.dismissed",
        "nudge",
        nudge.id,
        actor_id=actor.id,
        summary=f"{'Marked as arrived' if arrived else 'Dismissed'}: nudge {nudge.dedup_key}",
        before={"status": before},
        after={"status": nudge.status.value},
    )
    db.session.commit()


def status_counts() -> dict[NudgeStatus, int]:
    """How many nudges are in each state (one grouped query)."""
    rows = db.session.execute(select(Nudge.status, func.count()).group_by(Nudge.status)).all()
    return {status: count for status, count in rows}
