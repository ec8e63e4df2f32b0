"""Demo coffee pairing: about half the company opted in, five weekly rounds of history, most chats held.

Rounds run through the real service (so pairing rules, touchpoints and introductions are the real
ones); the past introductions are marked as delivered in the app, so `make run` sends no backlog.
The demo employee (Emma Schmidt) takes part, so her coffee page has a current pair and history.
"""
from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select, update

from touchpoints.coffee import services
from touchpoints.coffee.models import CoffeeMember, CoffeeParticipant
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.models import Confirmation, Mode, Touchpoint, TouchpointStatus
from touchpoints.nudges.models import DeliveryChannel, Nudge, NudgeKind, NudgeStatus
from touchpoints.people.models import Employee

PAST_ROUNDS = 5  # with a fortnightly rhythm, the demo employee is paired in the latest round
SHARE_TAKING_PART = 0.55
ALWAYS_IN = ("emma.schmidt@northwind.example",)


def load_demo_coffee(*, today: date | None = None, seed: int = 11) -> int:
    """Opt demo people in and run past rounds; returns how many people opted in (0 if already loaded)."""
    if db.session.scalar(select(func.count()).select_from(CoffeeParticipant)):
        return 0
    now = utcnow()
    today = today or now.date()
    rng = random.Random(seed)
    people = db.session.scalars(
        select(Employee).where(Employee.deactivated_at.is_(None),
                               Employee.status.in_(services.TAKING_PART_STATUSES)).order_by(Employee.id)).all()
    settings = services.programme()
    joined = now - timedelta(weeks=PAST_ROUNDS + 2)
    chosen = [p for p in people if p.email in ALWAYS_IN or rng.random() < SHARE_TAKING_PART]
    for person in chosen:
        db.session.add(CoffeeParticipant(employee_id=person.id, active=True, joined_at=joined,
                                         frequency_weeks=2 if person.email in ALWAYS_IN
                                         else rng.choices((1, 2, 4), (35, 50, 15))[0]))
    db.session.flush()
    last_round = services.next_round_date(settings, today) - timedelta(days=7)
    days = [last_round - timedelta(weeks=w) for w in range(PAST_ROUNDS - 1, -1, -1)]
    for day in days:
        services.run_round(day, seed=day.toordinal())
    db.session.flush()
    _outcomes(rng, now)
    # The introductions of past rounds went out at the time, in the app.
    db.session.execute(
        update(Nudge).where(Nudge.kind == NudgeKind.COFFEE_INTRODUCTION)
        .values(status=NudgeStatus.SENT, channel=DeliveryChannel.IN_APP, sent_at=now,
                external_ref="in_app:demo", expires_at=None)
        .execution_options(synchronize_session=False))
    services.close_lapsed_chats(now)
    db.session.commit()
    return len(chosen)


def _outcomes(rng: random.Random, now: datetime) -> None:
    """Most coffees happened, some were skipped; the current round's are still to come."""
    rows = db.session.execute(
        select(Touchpoint.id, Touchpoint.due_at, Touchpoint.employee_id)
        .join(CoffeeMember, CoffeeMember.touchpoint_id == Touchpoint.id)
        .where(Touchpoint.due_at < now).order_by(Touchpoint.id)).all()
    held, skipped = [], []
    for touchpoint_id, due_at, employee_id in rows:
        roll = rng.random()
        if roll < 0.65:
            when = datetime.combine(due_at.date() - timedelta(days=rng.randint(0, 3)), time(13), tzinfo=UTC)
            held.append({"id": touchpoint_id, "status": TouchpointStatus.DONE, "happened_at": when,
                         "actual_mode": rng.choice((Mode.VIDEO, Mode.VIDEO, Mode.IN_PERSON, Mode.PHONE)),
                         "logged_by_id": employee_id, "logged_at": when,
                         "confirmation": Confirmation.CONFIRMED, "confirmed_at": when})
        elif roll < 0.8:
            skipped.append({"id": touchpoint_id, "status": TouchpointStatus.CANCELLED,
                            "status_reason": services.SKIPPED_REASON})
    if held:
        db.session.execute(update(Touchpoint), held)
    if skipped:
        db.session.execute(update(Touchpoint), skipped)
