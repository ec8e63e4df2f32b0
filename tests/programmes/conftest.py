"""Fixtures for the programmes tests: the shipped programmes and a small company spread over teams."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import select

from tests.factories import make_employee, make_hr, make_manager, make_team
from touchpoints.auth.models import User
from touchpoints.extensions import db
from touchpoints.people.models import Employee, LifecycleStatus
from touchpoints.programmes.defaults import load_default_programmes
from touchpoints.programmes.models import Programme

# A winter day: London on GMT and New York on EST, so overlaps are the same every run.
TODAY = date(2026, 1, 14)


@dataclass
class Company:
    hr: Employee
    manager: Employee
    newcomer: Employee
    teammate: Employee
    designer: Employee
    berliner: Employee
    new_yorker: Employee
    junior: Employee
    on_leave: Employee
    alumnus: Employee
    deactivated: Employee
    other_manager: Employee
    other_report: Employee
    buddy: Programme
    mentoring: Programme


def user_of(person: Employee) -> User:
    """The login of a person."""
    return db.session.scalar(select(User).where(User.employee_id == person.id))


@pytest.fixture
def programmes(app) -> tuple[Programme, Programme]:
    """The shipped "New-hire buddy" (cap 2, 6 months) and "Mentoring" (cap 3, 24 months)."""
    load_default_programmes()
    db.session.commit()
    buddy = db.session.scalar(select(Programme).where(Programme.key == "new-hire-buddy"))
    mentoring = db.session.scalar(select(Programme).where(Programme.key == "mentoring"))
    return buddy, mentoring


@pytest.fixture
def company(app, programmes) -> Company:
    """A newcomer in Platform (London), people in Design, Sales and Operations, and people who cannot help."""
    ops = make_team("Operations")
    hr = make_hr("Hana HR", team=ops, location="London", start_date=date(2015, 3, 2))
    platform = make_team("Platform", hr_partner=hr)
    design = make_team("Design", hr_partner=hr)
    sales = make_team("Sales", hr_partner=hr)
    manager = make_manager("Mia Manager", team=platform, location="London", start_date=date(2018, 5, 1))
    newcomer = make_employee("Eli Newcomer", manager=manager, team=platform, location="London",
                             start_date=date(2026, 1, 5), status=LifecycleStatus.ONBOARDING)
    teammate = make_employee("Cleo Teammate", manager=manager, team=platform, location="London",
                             start_date=date(2020, 2, 3))
    designer = make_employee("Dan Designer", team=design, location="London", start_date=date(2016, 9, 1))
    berliner = make_employee("Bea Berlin", team=design, location="Berlin", timezone="Europe/Berlin",
                             start_date=date(2022, 6, 1))
    new_yorker = make_employee("Nick NewYork", team=sales, location="New York", timezone="America/New_York",
                               start_date=date(2019, 4, 1))
    junior = make_employee("Sam Junior", team=sales, location="London", start_date=date(2025, 10, 1))
    on_leave = make_employee("Lea Leave", team=design, location="London", start_date=date(2017, 1, 1),
                             status=LifecycleStatus.ON_LEAVE)
    alumnus = make_employee("Al Alumnus", team=design, location="London", start_date=date(2014, 1, 1),
                            status=LifecycleStatus.ALUMNI)
    from touchpoints.db_types import utcnow

    deactivated = make_employee("Dee Deactivated", team=sales, location="London",
                                start_date=date(2014, 1, 1), deactivated_at=utcnow())
    other_manager = make_manager("Otto Othermanager", team=sales, location="London",
                                 start_date=date(2017, 1, 1))
    other_report = make_employee("Rita Report", manager=other_manager, team=sales, location="London",
                                 start_date=date(2025, 12, 1))
    db.session.commit()
    buddy, mentoring = programmes
    return Company(hr, manager, newcomer, teammate, designer, berliner, new_yorker, junior, on_leave, alumnus,
                   deactivated, other_manager, other_report, buddy, mentoring)
