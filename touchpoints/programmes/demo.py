"""Programmes for the demo company: the shipped two, a few mentoring pairs with a believable past."""
from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

import click
from sqlalchemy import select, update

from touchpoints.auth.models import Role, User, UserRole
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.enrolment import materialise
from touchpoints.journeys.models import Mode, Touchpoint, TouchpointStatus
from touchpoints.people.models import Employee, LifecycleStatus
from touchpoints.programmes.defaults import load_default_programmes
from touchpoints.programmes.models import EndReason, Programme
from touchpoints.programmes.services import (
    ProgrammeError,
    create_match,
    end_match,
    partner_refusals,
    suggestions_for,
)

# (days ago the pair started, whether it has ended since, and how)
MENTORING_PAIRS = [(120, None), (75, None), (40, None),
                   (200, (EndReason.RAN_ITS_COURSE, "Thank you, this helped me more than you know."))]


def load_demo_programmes(*, today: date | None = None, seed: int = 5) -> int:
    """Load the shipped programmes and give "Mentoring" a few pairs with history; returns pairs made."""
    rng = random.Random(seed)
    today = today or utcnow().date()
    load_default_programmes()
    db.session.flush()
    mentoring = db.session.scalar(select(Programme).where(Programme.key == "mentoring"))
    hr = db.session.scalar(select(User).join(UserRole, UserRole.user_id == User.id)
                           .where(UserRole.role == Role.HR_PARTNER.value).order_by(User.id).limit(1))
    if mentoring is None or hr is None:
        db.session.commit()
        return 0
    people = list(db.session.scalars(select(Employee).where(Employee.status == LifecycleStatus.ACTIVE,
                                                            Employee.deactivated_at.is_(None))
                                     .order_by(Employee.id)))
    mentees = [p for p in people if p.manager_id is not None and p.start_date
               and p.start_date > today - timedelta(days=3 * 365)]
    rng.shuffle(mentees)
    made = 0
    for (days_ago, ending), mentee in zip(MENTORING_PAIRS, mentees, strict=False):
        started = today - timedelta(days=days_ago)
        choices = [s for s in suggestions_for(mentoring, mentee, today=started, limit=3)
                   if not partner_refusals(mentoring, mentee, db.session.get(Employee, s.employee_id),
                                           today=started)]
        if not choices:
            continue
        partner = db.session.get(Employee, rng.choice(choices).employee_id)
        try:
            pair = create_match(mentoring, mentee, partner, actor=hr, today=started,
                                enrolled_at=datetime.combine(started, time(9), tzinfo=UTC))
        except ProgrammeError:
            continue
        materialise([pair.enrolment_id])  # a pair made months ago has its series up to today's horizon
        _hold_past_meetings(rng, pair.enrolment_id)
        if ending is not None:
            reason, note = ending
            end_match(pair, actor=mentee_user(mentee) or hr, reason=reason, note=note)
        made += 1
    db.session.commit()
    click.echo(f"Demo programmes loaded: {made} mentoring pairs.")
    return made


def mentee_user(mentee: Employee) -> User | None:
    """The mentee's own login, so the demo's ended pair was ended by them."""
    return db.session.scalar(select(User).where(User.employee_id == mentee.id))


def _hold_past_meetings(rng: random.Random, enrolment_id: int | None) -> None:
    """Most past meetings of a pair took place, in person or by video; one or two slipped."""
    if enrolment_id is None:
        return
    now = utcnow()
    past = list(db.session.scalars(select(Touchpoint).where(Touchpoint.enrolment_id == enrolment_id,
                                                            Touchpoint.due_at < now)))
    for tp in past:
        if rng.random() < 0.15:
            tp.status, tp.status_reason = TouchpointStatus.MISSED, "Clashed with a customer visit"
            continue
        tp.status = TouchpointStatus.DONE
        tp.actual_mode = rng.choice([Mode.IN_PERSON, Mode.VIDEO, Mode.VIDEO])
        tp.happened_at = tp.logged_at = tp.due_at
        tp.logged_by_id = tp.owner_id
    db.session.flush()
    db.session.execute(update(Touchpoint).where(Touchpoint.enrolment_id == enrolment_id,
                                                Touchpoint.status == TouchpointStatus.DONE)
                       .values(sequence=Touchpoint.sequence + 1).execution_options(synchronize_session=False))
