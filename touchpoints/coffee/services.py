"""Coffee pairing rules: opting in and out, running a round once per date, and the chats it leaves.

- People take part only after opting in themselves; they choose every one, two or four weeks and
  may pause or leave at any time.
- `run_round` claims its date (a unique row), so a round for a date runs once whichever process or
  button starts it; `preview_round` computes the same pairs without writing anything.
- Each person in a pair or group gets their own coffee-chat touchpoint, owned by their partner and
  loggable by either; skipping it is a cancellation with a kind reason, never a miss, so it counts
  against nobody. Chats nobody logged close quietly when their window ends.
- Each person gets one introduction through the nudge outbox (their own channel, quiet hours kept).
"""
from __future__ import annotations

import secrets
import time as clock
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import bindparam, case, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from touchpoints.audit.services import record
from touchpoints.coffee.models import (
    FREQUENCIES,
    CoffeeMatch,
    CoffeeMember,
    CoffeeParticipant,
    CoffeeProgramme,
    CoffeeRound,
    CoffeeUnpaired,
)
from touchpoints.coffee.pairing import (
    Pairing,
    Participant,
    intersect,
    longest_stretch,
    pair_up,
    working_window,
)
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.calendar import to_local
from touchpoints.journeys.models import (
    OPEN_STATUSES,
    Mode,
    OwnerRole,
    Touchpoint,
    TouchpointKind,
    TouchpointStatus,
)
from touchpoints.journeys.outcomes import cancel_touchpoint
from touchpoints.nudges.models import NudgeKind
from touchpoints.nudges.services import enqueue_many, preferred_channel
from touchpoints.people.models import Employee, LifecycleStatus, Team

# Who may be paired: people at work (not on leave, not gone).
TAKING_PART_STATUSES = (LifecycleStatus.ONBOARDING, LifecycleStatus.ACTIVE, LifecycleStatus.OFFBOARDING)
SKIPPED_REASON = "Skipped this time (that's fine)"
LAPSED_REASON = "Not logged before its window ended (no follow-up)"
MAX_PAUSE_DAYS = 366
MIN_WINDOW_DAYS, MAX_WINDOW_DAYS = 14, 730
MIN_OVERLAP, MAX_OVERLAP = 15, 240
INTRO_VALID_DAYS = 5  # an introduction that could not go out within this many days is stale


class CoffeeValidationError(ValueError):
    """Input that names the field at fault."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


# ---------------------------------------------------------------- programme settings


def programme() -> CoffeeProgramme:
    """The programme's settings (created with the defaults the first time they are read)."""
    settings = db.session.get(CoffeeProgramme, 1)
    if settings is None:
        settings = CoffeeProgramme(id=1, enabled=True, round_weekday=1, repeat_window_days=90,
                                   min_overlap_minutes=60, frequencies="1,2,4")
        db.session.add(settings)
        db.session.flush()
    return settings


def update_programme(*, enabled: bool, round_weekday: int, repeat_window_days: int, min_overlap_minutes: int,
                     frequencies: list[int], actor) -> CoffeeProgramme:
    """HR changes the programme: on or off, round day, repeat window, overlap and the frequencies offered."""
    errors: dict[str, str] = {}
    if not 1 <= int(round_weekday) <= 7:
        errors["round_weekday"] = "Choose a day of the week."
    if not MIN_WINDOW_DAYS <= int(repeat_window_days) <= MAX_WINDOW_DAYS:
        errors["repeat_window_days"] = f"Give between {MIN_WINDOW_DAYS} and {MAX_WINDOW_DAYS} days."
    if not MIN_OVERLAP <= int(min_overlap_minutes) <= MAX_OVERLAP:
        errors["min_overlap_minutes"] = f"Give between {MIN_OVERLAP} and {MAX_OVERLAP} minutes."
    chosen = sorted({int(f) for f in frequencies})
    if not chosen or any(f not in FREQUENCIES for f in chosen):
        errors["frequencies"] = "Offer at least one of every 1, 2 or 4 weeks."
    if errors:
        raise CoffeeValidationError(errors)
    settings = programme()
    before = {"enabled": settings.enabled, "round_weekday": settings.round_weekday,
              "repeat_window_days": settings.repeat_window_days,
              "min_overlap_minutes": settings.min_overlap_minutes, "frequencies": settings.frequencies}
    settings.enabled = bool(enabled)
    settings.round_weekday = int(round_weekday)
    settings.repeat_window_days = int(repeat_window_days)
    settings.min_overlap_minutes = int(min_overlap_minutes)
    settings.frequencies = ",".join(str(f) for f in chosen)
    settings.updated_by_id = actor.id if actor is not None else None
    after = {"enabled": settings.enabled, "round_weekday": settings.round_weekday,
             "repeat_window_days": settings.repeat_window_days,
             "min_overlap_minutes": settings.min_overlap_minutes, "frequencies": settings.frequencies}
    record("coffee.programme_changed", "coffee_programme", 1, actor_id=actor.id if actor else None,
           summary="Changed the coffee pairing programme", before=before, after=after)
    db.session.flush()
    return settings


def next_round_date(settings: CoffeeProgramme, today: date) -> date:
    """The next round day on or after today."""
    return today + timedelta(days=(settings.round_weekday - today.isoweekday()) % 7)


def upcoming_round_date(settings: CoffeeProgramme, today: date) -> date:
    """The next round still to run: today's round day counts only until its round has run."""
    upcoming = next_round_date(settings, today)
    if round_for(upcoming) is not None:
        # A round runs once per date, so after today's (by hand or by the job) the next is a week on.
        upcoming = next_round_date(settings, upcoming + timedelta(days=1))
    return upcoming


# ---------------------------------------------------------------- taking part


def participant_for(employee_id: int) -> CoffeeParticipant | None:
    """This person's opt-in, if they ever opted in."""
    return db.session.get(CoffeeParticipant, employee_id)


def save_participation(employee: Employee, *, taking_part: bool, frequency_weeks: int | None = None,
                       paused_until: date | None = None, actor, today: date | None = None
                       ) -> CoffeeParticipant | None:
    """Opt in, change how often, pause until a date, or leave: one's own choice, for oneself only."""
    today = today or utcnow().date()
    current = participant_for(employee.id)
    if not taking_part:
        if current is not None and current.active:
            current.active = False
            current.left_at = utcnow()
            current.paused_until = None
            record("coffee.left", "employee", employee.id, actor_id=actor.id if actor else None,
                   summary=f"{employee.full_name} left coffee pairing")
            db.session.flush()
        return current
    settings = programme()
    errors: dict[str, str] = {}
    frequency = frequency_weeks if frequency_weeks is not None else \
        (current.frequency_weeks if current else 2)
    if frequency not in settings.frequency_options:
        offered = ", ".join(str(f) for f in settings.frequency_options)
        errors["frequency_weeks"] = f"Choose every {offered} weeks."
    if paused_until is not None and not today < paused_until <= today + timedelta(days=MAX_PAUSE_DAYS):
        errors["paused_until"] = "Choose a date after today and within a year, or leave it empty."
    if errors:
        raise CoffeeValidationError(errors)
    joined = current is None or not current.active
    if current is None:
        current = CoffeeParticipant(employee_id=employee.id)
        db.session.add(current)
    if joined:
        current.joined_at, current.left_at, current.next_due_on = utcnow(), None, None
    current.active = True
    current.frequency_weeks = frequency
    current.paused_until = paused_until
    record("coffee.joined" if joined else "coffee.changed", "employee", employee.id,
           actor_id=actor.id if actor else None,
           summary=f"{employee.full_name} {'opted in to' if joined else 'changed'} coffee pairing "
                   f"(every {frequency} week{'s' if frequency > 1 else ''}"
                   f"{f', paused until {paused_until:%-d %b %Y}' if paused_until else ''})")
    db.session.flush()
    return current


# ---------------------------------------------------------------- rounds


class Person(NamedTuple):
    """What a round needs to know about someone to introduce them (read once, no ORM objects)."""

    full_name: str
    team_id: int | None
    timezone: str
    preferred_channel: object


@dataclass
class RoundPlan:
    """What a round would make (the dry run) or made."""

    round_on: date
    seed: int
    window_days: int
    min_overlap: int
    participants: dict[int, Participant]
    pairing: Pairing
    people: dict[int, Person] = field(default_factory=dict)
    frequency: dict[int, int] = field(default_factory=dict)

    def cross_team(self, group: tuple[int, ...]) -> bool:
        return len({self.participants[p].team_id for p in group}) > 1

    @property
    def cross_team_groups(self) -> int:
        return sum(1 for g in self.pairing.groups if self.cross_team(g))

    @property
    def cross_team_share(self) -> float | None:
        groups = len(self.pairing.groups)
        return self.cross_team_groups / groups if groups else None


def _due(round_on: date) -> list[tuple]:
    return db.session.execute(
        select(Employee.id, Employee.team_id, Employee.timezone, Employee.work_start, Employee.work_end,
               Employee.full_name, CoffeeParticipant.frequency_weeks, Employee.preferred_channel)
        .join(CoffeeParticipant, CoffeeParticipant.employee_id == Employee.id)
        .where(CoffeeParticipant.active.is_(True),
               or_(CoffeeParticipant.paused_until.is_(None), CoffeeParticipant.paused_until <= round_on),
               or_(CoffeeParticipant.next_due_on.is_(None), CoffeeParticipant.next_due_on <= round_on),
               Employee.deactivated_at.is_(None), Employee.status.in_(TAKING_PART_STATUSES))
        .order_by(Employee.id)
    ).all()


def _history(round_on: date, window_days: int) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """(pairs who met within the repeat window, pairs who met in the window before that)."""
    since = round_on - timedelta(days=2 * window_days)
    # Rounds after this date count too: HR may run a round for a date before one already run.
    until = round_on + timedelta(days=window_days)
    rows = db.session.execute(
        select(CoffeeMember.match_id, CoffeeMember.employee_id, CoffeeRound.round_on)
        .join(CoffeeRound, CoffeeRound.id == CoffeeMember.round_id)
        .where(CoffeeRound.round_on >= since, CoffeeRound.round_on < until)
        .order_by(CoffeeMember.match_id, CoffeeMember.employee_id)
    ).all()
    groups: dict[int, list[int]] = defaultdict(list)
    when: dict[int, date] = {}
    for match_id, employee_id, on in rows:
        groups[match_id].append(employee_id)
        when[match_id] = on
    recent_since = round_on - timedelta(days=window_days)  # within the window on either side
    blocked: set[tuple[int, int]] = set()
    earlier: set[tuple[int, int]] = set()
    for match_id, members in groups.items():
        target = blocked if when[match_id] > recent_since else earlier
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                target.add((a, b) if a < b else (b, a))
    return blocked, earlier


def plan_round(round_on: date, *, seed: int | None = None) -> RoundPlan:
    """The pairs a round on this date would make now (writes nothing)."""
    settings = programme()
    seed = seed if seed is not None else secrets.randbits(31)
    rows = _due(round_on)
    windows: dict[tuple, tuple] = {}
    participants: dict[int, Participant] = {}
    people: dict[int, Person] = {}
    frequency: dict[int, int] = {}
    for employee_id, team_id, tz, start, end, name, weeks, channel in rows:
        key = (tz, start, end)
        if key not in windows:  # most people share a zone and hours: work each window out once
            windows[key] = working_window(round_on, tz, start or dtime(9), end or dtime(17, 30))
        participants[employee_id] = Participant(employee_id, team_id, windows[key])
        people[employee_id] = Person(name, team_id, tz, channel)
        frequency[employee_id] = weeks
    blocked, earlier = _history(round_on, settings.repeat_window_days)
    left_out = db.session.scalars(
        select(CoffeeUnpaired.employee_id).where(CoffeeUnpaired.round_id == select(CoffeeRound.id).where(
            CoffeeRound.round_on < round_on).order_by(CoffeeRound.round_on.desc()).limit(1).scalar_subquery())
    ).all()
    pairing = pair_up(list(participants.values()), seed=seed, min_overlap=settings.min_overlap_minutes,
                      blocked=blocked, met_before=earlier, window_days=settings.repeat_window_days,
                      round_on=round_on, first=left_out)
    return RoundPlan(round_on, seed, settings.repeat_window_days, settings.min_overlap_minutes,
                     participants, pairing, people, frequency)


def round_for(round_on: date) -> CoffeeRound | None:
    """The round already run for this date, if any."""
    return db.session.scalar(select(CoffeeRound).where(CoffeeRound.round_on == round_on))


def _midnight(day: date) -> datetime:
    return datetime.combine(day, dtime(0), tzinfo=UTC)


def _overlap_moments(plan: RoundPlan, group: tuple[int, ...]) -> tuple[datetime | None, datetime | None]:
    window = plan.participants[group[0]].window
    for other in group[1:]:
        window = intersect(window, plan.participants[other].window)
    stretch = longest_stretch(window)
    if stretch is None:
        return None, None
    base = _midnight(plan.round_on)
    return base + timedelta(minutes=stretch[0]), base + timedelta(minutes=stretch[1])


@lru_cache(maxsize=4096)  # a round has a few windows and zones, and ten thousand people
def local_window(start: datetime | None, end: datetime | None, timezone: str) -> str:
    """'14:00 to 17:30 (London time)' in someone's own zone; empty when there is no shared window."""
    if start is None or end is None:
        return ""
    a, b = to_local(start, timezone), to_local(end, timezone)
    city = timezone.rsplit("/", 1)[-1].replace("_", " ")
    return f"{a:%H:%M} to {b:%H:%M} ({city} time)"


def run_round(round_on: date, *, seed: int | None = None, actor=None) -> CoffeeRound | None:
    """Run the round for this date once: pairs, touchpoints and introductions. None if it already ran.

    The round row is claimed first (unique by date): a second process, a second click or a late
    scheduler finds it and does nothing. The caller commits.
    """
    started = clock.perf_counter()
    if round_for(round_on) is not None:
        return None
    plan = plan_round(round_on, seed=seed)
    claim = CoffeeRound(round_on=round_on, seed=plan.seed, repeat_window_days=plan.window_days,
                        min_overlap_minutes=plan.min_overlap, started_by_id=actor.id if actor else None)
    try:
        with db.session.begin_nested():
            db.session.add(claim)
            db.session.flush()
    except IntegrityError:
        return None
    _write_round(claim, plan)
    claim.participants = len(plan.participants)
    claim.pairs, claim.trios = plan.pairing.pairs, plan.pairing.trios
    claim.unpaired = len(plan.pairing.unpaired)
    claim.cross_team_groups = plan.cross_team_groups
    claim.duration_ms = int((clock.perf_counter() - started) * 1000)
    record("coffee.round_run", "coffee_round", claim.id, actor_id=actor.id if actor else None,
           summary=f"Coffee pairing round of {round_on:%-d %b %Y}: {claim.pairs} pairs, {claim.trios} "
                   f"group(s) of three, {claim.unpaired} unpaired", after={"seed": plan.seed})
    db.session.flush()
    return claim


def _team_names(team_ids: set[int]) -> dict[int, str]:
    return dict(db.session.execute(select(Team.id, Team.name).where(Team.id.in_(team_ids))).all()) \
        if team_ids else {}


def _write_round(claim: CoffeeRound, plan: RoundPlan) -> None:
    now = utcnow()
    groups = plan.pairing.groups
    moments = [_overlap_moments(plan, g) for g in groups]
    # Ids come back with RETURNING in any order (SQLite gives no order in bulk), so each row also
    # returns what identifies it: the group's position, the touchpoint's person.
    matches = CoffeeMatch.__table__
    placed = dict(db.session.execute(
        insert(matches).returning(matches.c.position, matches.c.id),
        [{"round_id": claim.id, "position": index, "size": len(g), "cross_team": plan.cross_team(g),
          "overlap_start": start, "overlap_end": end, "created_at": now}
         for index, (g, (start, end)) in enumerate(zip(groups, moments, strict=True))],
    ).all()) if groups else {}
    match_ids = [placed[index] for index in range(len(groups))]
    everyone = [p for g in groups for p in g]
    people = plan.people
    teams = _team_names({people[p].team_id for p in everyone if people[p].team_id})
    # One coffee chat per person, owned by the next person in the group (a ring), so either can log it.
    touchpoint_rows, member_rows, nudge_rows, due_next = [], [], [], []
    for group, (start, end) in zip(groups, moments, strict=True):
        weeks = min(plan.frequency.get(p, 2) for p in group)
        base = start or (_midnight(plan.round_on) + timedelta(hours=12))
        # Four days into the last week of the window (the Friday, for Monday rounds), at the shared time.
        due_at = base + timedelta(days=7 * weeks - 3)
        for index, pid in enumerate(group):
            partner = group[(index + 1) % len(group)]
            others = [people[o] for o in group if o != pid]
            names = " and ".join(o.full_name for o in others)
            touchpoint_rows.append({
                "employee_id": pid, "kind": TouchpointKind.COFFEE_CHAT,
                "title": f"Coffee chat with {names}"[:200],
                "planned_mode": Mode.VIDEO, "owner_role": OwnerRole.EMPLOYEE, "owner_id": partner,
                "due_at": due_at, "duration_minutes": 30, "sensitive": False,
                "status": TouchpointStatus.PLANNED, "status_reason": "", "occurrence": 0, "sequence": 0,
                "confirmation_comment": "", "created_at": now, "updated_at": now,
            })
            me = people[pid]
            intro = _introduction(me, others, teams, start, end, due_at)
            nudge_rows.append({
                "dedup_key": f"coffee-intro:{claim.id}:{pid}", "kind": NudgeKind.COFFEE_INTRODUCTION,
                "recipient_id": pid, "channel": preferred_channel(me.preferred_channel),
                "next_attempt_at": now, "expires_at": now + timedelta(days=INTRO_VALID_DAYS),
                "payload": {**intro, "at": now.isoformat(), "link": "/coffee"},
            })
            weeks_after = plan.frequency.get(pid, 2)
            due_next.append({"pid": pid, "due": plan.round_on + timedelta(days=7 * weeks_after)})
    touchpoints = Touchpoint.__table__
    chat_of = dict(db.session.execute(
        insert(touchpoints).returning(touchpoints.c.employee_id, touchpoints.c.id), touchpoint_rows
    ).all()) if touchpoint_rows else {}
    for group, match_id in zip(groups, match_ids, strict=True):
        for pid in group:
            member_rows.append({"match_id": match_id, "round_id": claim.id, "employee_id": pid,
                                "team_id": plan.participants[pid].team_id, "touchpoint_id": chat_of[pid]})
    if member_rows:
        db.session.execute(insert(CoffeeMember.__table__), member_rows)
    if plan.pairing.unpaired:
        db.session.execute(insert(CoffeeUnpaired.__table__), [
            {"round_id": claim.id, "employee_id": pid, "reason": reason[:300]}
            for pid, reason in sorted(plan.pairing.unpaired.items())])
    if due_next:
        table = CoffeeParticipant.__table__
        db.session.execute(update(table).where(table.c.employee_id == bindparam("pid"))
                           .values(next_due_on=bindparam("due")), due_next)
    enqueue_many(nudge_rows)


def _introduction(me: Person, others: list[Person], teams: dict[int, str], start: datetime | None,
                  end: datetime | None, due_at: datetime) -> dict[str, str]:
    """What the introduction says: who, which team, the shared hours in one's own zone, a light idea."""
    def who(person: Person) -> str:
        team = teams.get(person.team_id or -1)
        return f"{person.full_name}" + (f" ({team})" if team else "")

    names = " and ".join(who(o) for o in others)
    shared = local_window(start, end, me.timezone)
    by = _local_day(due_at, me.timezone)
    idea = ("Twenty minutes over video with a coffee is plenty: ask what they are working on, or what "
            "they did last weekend.")
    detail = (f"You are paired with {names} for a coffee chat. "
              + (f"Your working hours overlap {shared}. " if shared else "")
              + f"{idea} Any time before {by} suits; if it does not work out this "
                "time, skip it — no one is counting.")
    return {"headline": f"Coffee pairing: meet {names}", "detail": detail}


@lru_cache(maxsize=4096)
def _local_day(moment: datetime, timezone: str) -> str:
    local = to_local(moment, timezone)
    return f"{local:%a} {local.day} {local:%b}"


def run_due_round(now: datetime | None = None) -> dict[str, int]:
    """Scheduler job: close lapsed coffee chats, then run today's round if it is a round day. Commits."""
    now = now or utcnow()
    lapsed = close_lapsed_chats(now)
    settings = programme()
    today = now.date()
    result = {"lapsed": lapsed, "pairs": 0, "trios": 0, "unpaired": 0}
    if settings.enabled and today.isoweekday() == settings.round_weekday:
        made = run_round(today)
        if made is not None:
            result.update(pairs=made.pairs, trios=made.trios, unpaired=made.unpaired)
    db.session.commit()
    return result


def close_lapsed_chats(now: datetime) -> int:
    """Coffee chats nobody logged by the end of their window close quietly: cancelled, never missed."""
    lapsed = select(CoffeeMember.touchpoint_id).where(CoffeeMember.touchpoint_id.is_not(None))
    result = db.session.execute(
        update(Touchpoint)
        .where(Touchpoint.id.in_(lapsed), Touchpoint.status.in_(OPEN_STATUSES), Touchpoint.due_at <= now,
               Touchpoint.kind == TouchpointKind.COFFEE_CHAT)
        .values(status=TouchpointStatus.CANCELLED, status_reason=LAPSED_REASON, updated_at=now,
                sequence=Touchpoint.sequence + 1)
        .execution_options(synchronize_session=False))
    return result.rowcount or 0


# ---------------------------------------------------------------- one's own pairs


@dataclass
class MyPair:
    """One round's coffee for one person: who with, the shared hours, and how it went."""

    round_on: date
    match_id: int
    touchpoint: Touchpoint | None
    partners: list[tuple[str, str]]  # (name, team)
    overlap: str
    cross_team: bool
    due_by: str = ""

    @property
    def outcome(self) -> str:
        tp = self.touchpoint
        if tp is None:
            return "Not recorded"
        if tp.status is TouchpointStatus.DONE:
            return "Held"
        if tp.status is TouchpointStatus.CANCELLED:
            return "Skipped" if tp.status_reason == SKIPPED_REASON else "Not logged"
        return "Coming up"

    @property
    def is_open(self) -> bool:
        return self.touchpoint is not None and self.touchpoint.is_open


def my_pairs(employee: Employee, *, limit: int = 50) -> list[MyPair]:
    """This person's coffees, newest first (a fixed number of queries, whatever the history)."""
    mine = db.session.execute(
        select(CoffeeMember.match_id, CoffeeMember.touchpoint_id, CoffeeRound.round_on,
               CoffeeMatch.cross_team, CoffeeMatch.overlap_start, CoffeeMatch.overlap_end)
        .join(CoffeeRound, CoffeeRound.id == CoffeeMember.round_id)
        .join(CoffeeMatch, CoffeeMatch.id == CoffeeMember.match_id)
        .where(CoffeeMember.employee_id == employee.id)
        .order_by(CoffeeRound.round_on.desc()).limit(limit)
    ).all()
    if not mine:
        return []
    match_ids = [row.match_id for row in mine]
    partner = aliased(Employee)
    others = db.session.execute(
        select(CoffeeMember.match_id, partner.full_name, Team.name)
        .join(partner, partner.id == CoffeeMember.employee_id)
        .outerjoin(Team, Team.id == partner.team_id)
        .where(CoffeeMember.match_id.in_(match_ids), CoffeeMember.employee_id != employee.id)
        .order_by(CoffeeMember.id)
    ).all()
    by_match: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for match_id, name, team in others:
        by_match[match_id].append((name, team or "No team"))
    tp_ids = [row.touchpoint_id for row in mine if row.touchpoint_id]
    touchpoints = {t.id: t for t in db.session.scalars(select(Touchpoint).where(Touchpoint.id.in_(tp_ids)))} \
        if tp_ids else {}
    pairs = []
    for row in mine:
        touchpoint = touchpoints.get(row.touchpoint_id)
        due = to_local(touchpoint.due_at, employee.timezone) if touchpoint else None
        shared = local_window(row.overlap_start, row.overlap_end, employee.timezone)
        pairs.append(MyPair(row.round_on, row.match_id, touchpoint, by_match[row.match_id], shared,
                            row.cross_team, f"{due:%A} {due.day} {due:%B}" if due else ""))
    return pairs


def coffee_touchpoint_of(employee_id: int, touchpoint_id: int) -> Touchpoint | None:
    """One of this person's own coffee chats from a pairing round (None for anything else)."""
    return db.session.scalar(
        select(Touchpoint).join(CoffeeMember, CoffeeMember.touchpoint_id == Touchpoint.id)
        .where(Touchpoint.id == touchpoint_id, CoffeeMember.employee_id == employee_id))


def skip_chat(touchpoint: Touchpoint, *, actor) -> Touchpoint:
    """Skip a coffee this time: closed as cancelled with a kind reason, so it counts against nobody."""
    return cancel_touchpoint(touchpoint, actor=actor, reason=SKIPPED_REASON)


# ---------------------------------------------------------------- HR's view of rounds


def rounds(limit: int = 52) -> list[CoffeeRound]:
    """The latest rounds, newest first."""
    return list(db.session.scalars(select(CoffeeRound).order_by(CoffeeRound.round_on.desc()).limit(limit)))


def unpaired_of(round_id: int) -> list[tuple[int, str, str, str]]:
    """Who a round left without a partner: (employee id, name, team, reason)."""
    return [tuple(row) for row in db.session.execute(
        select(CoffeeUnpaired.employee_id, Employee.full_name, Team.name, CoffeeUnpaired.reason)
        .join(Employee, Employee.id == CoffeeUnpaired.employee_id)
        .outerjoin(Team, Team.id == Employee.team_id)
        .where(CoffeeUnpaired.round_id == round_id).order_by(Employee.full_name))]


def participation_counts(today: date | None = None) -> dict[str, int]:
    """How many people take part, are paused, and have left (for HR's page)."""
    today = today or utcnow().date()
    active = CoffeeParticipant.active.is_(True)
    paused = active & (CoffeeParticipant.paused_until > today)
    row = db.session.execute(select(
        func.coalesce(func.sum(case((active, 1), else_=0)), 0),
        func.coalesce(func.sum(case((paused, 1), else_=0)), 0),
        func.count())).one()
    return {"taking_part": row[0] - row[1], "paused": row[1], "left": row[2] - row[0]}


def outcome_counts(round_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per round: how many coffee chats were held, skipped or are still open (one grouped query)."""
    if not round_ids:
        return {}
    rows = db.session.execute(
        select(CoffeeMember.round_id, Touchpoint.status, Touchpoint.status_reason, func.count())
        .join(Touchpoint, Touchpoint.id == CoffeeMember.touchpoint_id)
        .where(CoffeeMember.round_id.in_(round_ids))
        .group_by(CoffeeMember.round_id, Touchpoint.status, Touchpoint.status_reason)
    ).all()
    counts: dict[int, dict[str, int]] = {rid: {"held": 0, "skipped": 0, "open": 0, "not_logged": 0}
                                         for rid in round_ids}
    for round_id, status, reason, n in rows:
        if status is TouchpointStatus.DONE:
            counts[round_id]["held"] += n
        elif status in OPEN_STATUSES:
            counts[round_id]["open"] += n
        elif reason == SKIPPED_REASON:
            counts[round_id]["skipped"] += n
        else:
            counts[round_id]["not_logged"] += n
    return counts

