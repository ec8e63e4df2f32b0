"""Fixtures for the policies tests: a small company, touchpoints made to measure, policies made active."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.factories import make_employee, make_hr, make_manager, make_team
from touchpoints.auth.models import User
from touchpoints.extensions import db
from touchpoints.journeys.models import Mode, OwnerRole, Touchpoint, TouchpointKind, TouchpointStatus
from touchpoints.people.models import Employee, Team
from touchpoints.policies import services

# A Wednesday in March, before the clocks change in Europe (29 March) and after the US (8 March).
NOW = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)


@dataclass
class Org:
    hr: Employee
    team: Team
    other_team: Team
    manager: Employee
    employee: Employee
    colleague: Employee
    outsider: Employee

    def user(self, person: Employee) -> User:
        return db.session.scalar(select(User).where(User.employee_id == person.id))


@pytest.fixture
def org(app) -> Org:
    """An HR partner; a manager with two reports in Platform; someone in Sales with no manager."""
    hr = make_hr("Hana HR")
    team = make_team("Platform", hr_partner=hr)
    other = make_team("Sales")
    manager = make_manager("Mia Manager", team=team)
    employee = make_employee("Eli Employee", manager=manager, team=team, location="Berlin")
    colleague = make_employee("Cleo Colleague", manager=manager, team=team, location="London")
    outsider = make_employee("Omar Outsider", team=other, location="New York", timezone="America/New_York")
    return Org(hr, team, other, manager, employee, colleague, outsider)


def touch(employee: Employee, kind: TouchpointKind = TouchpointKind.ONE_ON_ONE, *,
          mode: Mode | None = Mode.IN_PERSON, at: datetime | None = None,
          status: TouchpointStatus = TouchpointStatus.DONE, owner: Employee | None = None,
          owner_role: OwnerRole = OwnerRole.MANAGER, planned: Mode | None = None,
          created: datetime | None = None) -> Touchpoint:
    """A touchpoint for employee: done in `mode` at `at` (default), or open and planned."""
    at = at or NOW - timedelta(days=1)
    done = status is TouchpointStatus.DONE
    tp = Touchpoint(employee_id=employee.id, owner_id=(owner or employee.manager or employee).id,
                    owner_role=owner_role, kind=kind, title=kind.label,
                    planned_mode=planned or mode or Mode.IN_PERSON,
                    due_at=at, status=status, actual_mode=mode if done else None,
                    happened_at=at if done else None, created_at=created or at - timedelta(days=10),
                    updated_at=at)
    db.session.add(tp)
    db.session.flush()
    return tp


def policy(data: dict, *, activate: bool = True, actor_id: int | None = None):
    """A policy from a definition, active unless told otherwise; returns its (first) version."""
    version = services.create_policy(data, actor_id=actor_id)
    if activate:
        services.activate(version, actor_id=actor_id)
    db.session.commit()
    return version


REVIEWS_IN_PERSON = {"key": "reviews-in-person", "name": "Reviews in person", "rule": "required_modes",
                     "severity": "block", "scope": {"kinds": ["performance_review"]},
                     "params": {"modes": ["in_person"]}}
MONTHLY_ONE_ON_ONE = {"key": "monthly-one-on-one", "name": "A one-on-one every 30 days",
                      "rule": "maximum_gap", "severity": "block", "scope": {"kinds": ["one_on_one"]},
                      "params": {"days": 30}}


@pytest.fixture
def api_as(client):
    """api_as(employee) -> a client whose calls carry a fresh token acting as that employee."""
    from tests.api.conftest import ApiClient
    from touchpoints.api.services import issue_token, user_for_email

    def make(employee) -> ApiClient:
        issued = issue_token(user_for_email(employee.email), "Policies tests", created_by=None)
        db.session.commit()
        return ApiClient(client, issued.raw)

    return make
