"""Fixtures for the journeys tests: the shipped journeys loaded, and a small company."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.factories import make_employee, make_hr, make_manager, make_team
from touchpoints.extensions import db
from touchpoints.journeys.defaults import load_defaults
from touchpoints.people.models import Employee, Team


@pytest.fixture
def api_as(client):
    """api_as(employee) -> a client whose calls carry a fresh token acting as that employee."""
    from tests.api.conftest import ApiClient
    from touchpoints.api.services import issue_token, user_for_email

    def make(employee) -> ApiClient:
        issued = issue_token(user_for_email(employee.email), "Journeys tests", created_by=None)
        db.session.commit()
        return ApiClient(client, issued.raw)

    return make


@pytest.fixture
def journeys(app):
    """The shipped journeys, loaded and active."""
    load_defaults()
    db.session.commit()


@dataclass
class Org:
    hr: Employee
    other_hr: Employee
    team: Team
    manager: Employee
    employee: Employee
    colleague: Employee

    def user(self, person: Employee):
        from sqlalchemy import select

        from touchpoints.auth.models import User

        return db.session.scalar(select(User).where(User.employee_id == person.id))


@pytest.fixture
def org(app) -> Org:
    """An HR partner looking after a team with a manager and two reports (London, GB)."""
    hr = make_hr("Hana HR")
    other_hr = make_hr("Otto HR")
    team = make_team("Platform", hr_partner=hr)
    manager = make_manager("Mia Manager", team=team)
    employee = make_employee("Eli Employee", manager=manager, team=team)
    colleague = make_employee("Cleo Colleague", manager=manager, team=team)
    db.session.commit()
    return Org(hr, other_hr, team, manager, employee, colleague)
