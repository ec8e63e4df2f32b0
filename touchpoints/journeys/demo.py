"""Journeys for the demo company: the shipped journeys, enrolments, and a believable recent past.

Most touchpoints that came due were done (mostly as planned, sometimes by video or chat instead
of in person), some were missed, some are overdue now; employees have confirmed most, disputed
one or two, and have not answered others yet; upcoming one-on-ones carry agendas.
"""
from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

import click
from sqlalchemy import func, insert, select, update

from touchpoints.audit.services import record
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.defaults import load_defaults
from touchpoints.journeys.enrolment import active_journey, enrol_many, extend_horizon
from touchpoints.journeys.lifecycle import record_lifecycle_event
from touchpoints.journeys.models import (
    AgendaItem,
    Confirmation,
    Enrolment,
    EnrolmentStatus,
    LifecycleEvent,
    LifecycleEventKind,
    Mode,
    OwnerRole,
    PrivateNote,
    SupportAssignment,
    SupportKind,
    Touchpoint,
    TouchpointKind,
    TouchpointStatus,
)
from touchpoints.people.models import Employee, LifecycleStatus

TALKING_POINTS = [
    "How the release went, and what we would do differently",
    "Workload over the next two weeks",
    "Feedback on the design review",
    "Conference budget for the autumn",
    "Pairing with the new starters",
    "What is getting in the way right now",
    "Career: the senior role we talked about",
    "Holiday plans in August",
    "On-call rota: is it fair?",
    "Ideas for the team offsite",
]
MANAGER_NOTES = [
    "Seemed tired; check in on workload next time.",
    "Keen to lead the next project. Follow up with a concrete proposal.",
    "Good energy. Asked for more feedback on code reviews.",
    "Raised friction with another team; offered to broker a conversation.",
    "Wants to try mentoring a new starter.",
]
MISSED_REASONS = ["Manager travelling", "Clashed with a customer visit", "Sick day", "Forgot, rebooking"]
DISPUTES = ["We only exchanged two messages on chat; it was not a real conversation.",
            "This was cancelled at the last minute and never rebooked."]
# How a planned in-person moment sometimes happened instead (kept realistic, mostly as planned).
DRIFT = {Mode.IN_PERSON: [Mode.VIDEO, Mode.VIDEO, Mode.PHONE, Mode.CHAT],
         Mode.VIDEO: [Mode.PHONE, Mode.CHAT, Mode.IN_PERSON]}


def _at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=UTC)


def load_demo_journeys(*, today: date | None = None, seed: int = 11) -> int:
    """Load the shipped journeys and give the demo company a believable history; returns touchpoints."""
    rng = random.Random(seed)
    today = today or date.today()
    now = utcnow()
    load_defaults()
    onboarding, development, offboarding = (active_journey(k) for k in ("onboarding", "development",
                                                                        "offboarding"))
    people = list(db.session.scalars(select(Employee).order_by(Employee.id)))
    by_team: dict[int | None, list[Employee]] = {}
    for p in people:
        by_team.setdefault(p.team_id, []).append(p)

    # Buddies for new starters, from their own team; one is left without, so the HR partner owns it.
    newcomers = [p for p in people
                 if p.status in (LifecycleStatus.PRE_BOARDING, LifecycleStatus.ONBOARDING)]
    for index, person in enumerate(newcomers):
        if index == len(newcomers) - 1:
            break
        candidates = [c for c in by_team.get(person.team_id, []) if c.status is LifecycleStatus.ACTIVE
                      and c.id not in (person.id, person.manager_id)]
        if candidates:
            db.session.add(SupportAssignment(
                employee_id=person.id, kind=SupportKind.BUDDY, partner_id=rng.choice(candidates).id,
                started_on=(person.start_date or today) - timedelta(days=7)))
    db.session.flush()

    def enrol_at(group: list[Employee], journey, when) -> None:
        for person in group:
            enrol_many([person.id], journey, actor_id=None, source="demo", enrolled_at=_at(when(person)),
                       today=today, audit=False)

    enrol_at(newcomers, onboarding, lambda p: p.hire_date or today)
    regulars = [p for p in people if p.status in (LifecycleStatus.ACTIVE, LifecycleStatus.ONBOARDING,
                                                  LifecycleStatus.ON_LEAVE, LifecycleStatus.OFFBOARDING)]
    enrol_at(regulars, development,
             lambda p: max(p.hire_date or today, today - timedelta(days=150)) if p.status is not
             LifecycleStatus.ONBOARDING else (p.hire_date or today))
    leavers = [p for p in people if p.status is LifecycleStatus.OFFBOARDING]
    enrol_at(leavers, offboarding, lambda p: (p.exit_date or today) - timedelta(days=28))
    alumni = [p for p in people if p.status is LifecycleStatus.ALUMNI and p.exit_date]
    for person in alumni:  # their offboarding happened before they left: enrol as of then
        person.status = LifecycleStatus.OFFBOARDING
    db.session.flush()
    enrol_at(alumni, offboarding, lambda p: p.exit_date - timedelta(days=28))
    for person in alumni:
        person.status = LifecycleStatus.ALUMNI
    extend_horizon(today=today)

    # Someone on leave: their series paused from the day the leave started.
    for person in [p for p in people if p.status is LifecycleStatus.ON_LEAVE]:
        person.status = LifecycleStatus.ACTIVE
        record_lifecycle_event(person, LifecycleEventKind.LEAVE, effective_on=today - timedelta(days=18),
                               actor_id=None, details={"expected_return": today + timedelta(days=40)},
                               today=today)
    _give_the_past_outcomes(rng, now, {p.id for p in alumni})
    _agendas_and_notes(rng, now)
    _timeline_events(people, today)
    db.session.flush()
    total = db.session.scalar(select(func.count()).select_from(Touchpoint)) or 0
    record("demo.journeys_loaded", "company", None, actor_id=None,
           summary=f"Loaded demo journeys: {total} touchpoints")
    db.session.commit()
    click.echo(f"Demo journeys loaded: {total} touchpoints, with history.")
    return total


def _give_the_past_outcomes(rng: random.Random, now: datetime, alumni_ids: set[int]) -> None:
    due = list(db.session.scalars(
        select(Touchpoint).where(Touchpoint.status == TouchpointStatus.PLANNED, Touchpoint.due_at < now)
        .order_by(Touchpoint.due_at)))
    for tp in due:
        age_days = (now - tp.due_at).days
        roll = rng.random()
        gone = tp.employee_id in alumni_ids
        # Recent moments are more often still open (overdue); old ones were dealt with one way or another.
        if not gone and ((age_days < 10 and roll < 0.35) or roll < 0.08):
            continue  # overdue
        if not gone and roll < 0.17:
            tp.status, tp.status_reason = TouchpointStatus.MISSED, rng.choice(MISSED_REASONS)
            continue
        mode = tp.planned_mode
        if mode in DRIFT and rng.random() < 0.2:
            mode = rng.choice(DRIFT[mode])
        tp.status, tp.actual_mode = TouchpointStatus.DONE, mode
        tp.happened_at = tp.due_at + timedelta(minutes=rng.choice([0, 0, 0, 15, 60, 24 * 60]))
        tp.happened_at = min(tp.happened_at, now - timedelta(hours=1))
        tp.logged_by_id = tp.owner_id if tp.owner_role is not OwnerRole.EMPLOYEE else tp.employee_id
        tp.logged_at = tp.happened_at + timedelta(hours=rng.choice([1, 2, 5, 20]))
        tp.logged_at = min(tp.logged_at, now)
        if tp.logged_by_id == tp.employee_id:
            tp.confirmation, tp.confirmed_at = Confirmation.CONFIRMED, tp.logged_at
        else:
            answer = rng.random()
            if age_days < 7 or answer < 0.2:
                tp.confirmation = Confirmation.PENDING
            elif answer < 0.96:
                tp.confirmation, tp.confirmed_at = Confirmation.CONFIRMED, tp.logged_at + timedelta(hours=3)
            else:
                tp.confirmation, tp.confirmed_at = Confirmation.DISPUTED, tp.logged_at + timedelta(hours=3)
                tp.confirmation_comment = rng.choice(DISPUTES)
        tp.sequence += 1


def _agendas_and_notes(rng: random.Random, now: datetime) -> None:
    one_on_ones = list(db.session.scalars(
        select(Touchpoint).where(Touchpoint.kind == TouchpointKind.ONE_ON_ONE,
                                 Touchpoint.due_at < now + timedelta(days=15),
                                 Touchpoint.due_at > now - timedelta(days=60),
                                 Touchpoint.status.in_([TouchpointStatus.PLANNED, TouchpointStatus.DONE]))))
    agenda_rows, note_rows = [], []
    for tp in one_on_ones:
        upcoming = tp.status is TouchpointStatus.PLANNED
        if rng.random() < (0.8 if upcoming else 0.4):
            for text in rng.sample(TALKING_POINTS, rng.randint(1, 3)):
                author = rng.choice([tp.employee_id, tp.owner_id or tp.employee_id])
                agenda_rows.append({"touchpoint_id": tp.id, "author_id": author, "text": text,
                                    "done": not upcoming, "created_at": tp.due_at - timedelta(days=2)})
        if tp.status is TouchpointStatus.DONE and tp.owner_id and rng.random() < 0.35:
            note_rows.append({"touchpoint_id": tp.id, "author_id": tp.owner_id,
                              "body": rng.choice(MANAGER_NOTES), "created_at": tp.logged_at or now,
                              "updated_at": tp.logged_at or now})
    if agenda_rows:
        db.session.execute(insert(AgendaItem), agenda_rows)
    if note_rows:
        db.session.execute(insert(PrivateNote), note_rows)


def _timeline_events(people: list[Employee], today: date) -> None:
    rows = []
    for p in people:
        if p.hire_date and p.hire_date > today - timedelta(days=200):
            rows.append({"employee_id": p.id, "kind": LifecycleEventKind.HIRE, "effective_on": p.hire_date,
                         "details": {"source": "demo"}, "recorded_at": _at(p.hire_date)})
        if p.start_date and today - timedelta(days=200) < p.start_date <= today:
            rows.append({"employee_id": p.id, "kind": LifecycleEventKind.START, "effective_on": p.start_date,
                         "details": {}, "recorded_at": _at(p.start_date)})
        if p.exit_date and p.status in (LifecycleStatus.OFFBOARDING, LifecycleStatus.ALUMNI):
            set_on = p.exit_date - timedelta(days=28)
            rows.append({"employee_id": p.id, "kind": LifecycleEventKind.EXIT_DATE_SET,
                         "effective_on": set_on, "details": {"exit_date": p.exit_date.isoformat()},
                         "recorded_at": _at(set_on)})
        if p.status is LifecycleStatus.ALUMNI and p.exit_date:
            rows.append({"employee_id": p.id, "kind": LifecycleEventKind.EXIT, "effective_on": p.exit_date,
                         "details": {}, "recorded_at": _at(p.exit_date, 18)})
    if rows:
        db.session.execute(insert(LifecycleEvent), rows)
    # Alumni: their journeys are over.
    alumni = [p.id for p in people if p.status is LifecycleStatus.ALUMNI]
    if alumni:
        db.session.execute(update(Touchpoint).where(Touchpoint.employee_id.in_(alumni),
                                                    Touchpoint.status.in_([TouchpointStatus.PLANNED]))
                           .values(status=TouchpointStatus.CANCELLED, status_reason="exit")
                           .execution_options(synchronize_session=False))
        db.session.execute(update(Enrolment).where(Enrolment.employee_id.in_(alumni),
                                                   Enrolment.status == EnrolmentStatus.ACTIVE)
                           .values(status=EnrolmentStatus.ENDED, end_reason="Left the company",
                                   ended_at=utcnow())
                           .execution_options(synchronize_session=False))
