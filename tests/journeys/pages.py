"""Helpers for the journeys page tests: touchpoints planned through the real service."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from touchpoints.auth.models import User
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.models import Mode, Touchpoint, TouchpointKind
from touchpoints.journeys.outcomes import plan_touchpoint
from touchpoints.people.models import Employee


def user_of(person: Employee) -> User:
    return db.session.scalar(select(User).where(User.employee_id == person.id))


def plan(person: Employee, *, owner: Employee, actor: Employee,
         kind: TouchpointKind = TouchpointKind.ONE_ON_ONE, mode: Mode = Mode.IN_PERSON,
         due: datetime | None = None, title: str | None = None) -> Touchpoint:
    """A one-off touchpoint for person, run by owner, planned by actor (an HR partner), committed."""
    touchpoint = plan_touchpoint(
        person, kind=kind, title=title or kind.label, planned_mode=mode,
        due_at=due or utcnow() - timedelta(hours=2), owner=owner, actor=user_of(actor),
    )
    db.session.commit()
    return touchpoint


def reload(touchpoint: Touchpoint) -> Touchpoint:
    db.session.expire_all()
    return db.session.get(Touchpoint, touchpoint.id)
