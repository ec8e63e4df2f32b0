"""Fixtures for the home page tests: a small company, and touchpoints placed in time around now."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.factories import make_employee, make_manager, make_team
from touchpoints.auth.models import Role, User
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.models import Mode, OwnerRole, Touchpoint, TouchpointKind, TouchpointStatus
from touchpoints.people.models import Employee, LifecycleStatus, Team


@dataclass
class Company:
    """An HR partner who also manages, a manager with three reports, a newcomer and a leaver."""

    hr: Employee
    team: Team
    manager: Employee
    employee: Employee
    colleague: Employee
    newcomer: Employee
    leaver: Employee

    def user(self, person: Employee) -> User:
        return db.session.scalar(select(User).where(User.employee_id == person.id))


@pytest.fixture
def company(app) -> Company:
    today = date.today()
    hr = make_employee("Hana Partner", roles={Role.HR_PARTNER, Role.MANAGER})
    team = make_team("Platform", hr_partner=hr)
    manager = make_manager("Mia Manager", team=team, manager=hr)
    employee = make_employee("Eli Employee", manager=manager, team=team)
    colleague = make_employee("Cleo Colleague", manager=manager, team=team)
    newcomer = make_employee("Nia Newcomer", manager=manager, team=team, status=LifecycleStatus.PRE_BOARDING,
                             start_date=today + timedelta(days=2))
    leaver = make_employee("Leo Leaver", manager=manager, team=team, status=LifecycleStatus.OFFBOARDING,
                           exit_date=today + timedelta(days=3))
    return Company(hr, team, manager, employee, colleague, newcomer, leaver)


def place(employee: Employee, owner: Employee | None, *, days: float,
          kind: TouchpointKind = TouchpointKind.ONE_ON_ONE, mode: Mode = Mode.IN_PERSON,
          title: str | None = None, status: TouchpointStatus = TouchpointStatus.PLANNED,
          happened: bool = False, now: datetime | None = None) -> Touchpoint:
    """A touchpoint due `days` from now (negative: in the past); done in its planned mode when `happened`."""
    now = now or utcnow()
    due = now + timedelta(days=days)
    tp = Touchpoint(employee_id=employee.id, owner_id=owner.id if owner else None, kind=kind,
                    title=title or kind.label, planned_mode=mode,
                    owner_role=OwnerRole.EMPLOYEE if owner is not None and owner.id == employee.id
                    else OwnerRole.MANAGER, due_at=due, status=status)
    if happened:
        tp.status, tp.actual_mode, tp.happened_at = TouchpointStatus.DONE, mode, due
        tp.logged_by_id, tp.logged_at = owner.id if owner else None, due
    db.session.add(tp)
    db.session.commit()
    return tp
