"""Factories for test data: people with logins and roles, without hand-built fixtures."""
from __future__ import annotations

import itertools
from datetime import date

from touchpoints.auth.models import Role, User
from touchpoints.auth.services import hash_password
from touchpoints.extensions import db
from touchpoints.people.models import Employee, LifecycleStatus, Team

DEFAULT_PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)
_hash_cache: dict[str, str] = {}


def make_team(name: str | None = None, **fields) -> Team:
    team = Team(name=name or f"Team {next(_counter)}", description="", **fields)
    db.session.add(team)
    db.session.flush()
    return team


def make_employee(
    name: str | None = None, *, roles: set[Role] | frozenset[Role] = frozenset(),
    password: str | None = DEFAULT_PASSWORD, must_change_password: bool = False,
    manager: Employee | None = None, team: Team | None = None, **fields,
) -> Employee:
    """An employee with a login (unless password is None), committed."""
    n = next(_counter)
    name = name or f"Person {n}"
    fields.setdefault("email", f"{name.lower().replace(' ', '.')}.{n}@example.com")
    fields.setdefault("timezone", "Europe/London")
    fields.setdefault("status", LifecycleStatus.ACTIVE)
    fields.setdefault("start_date", date(2024, 1, 8))
    employee = Employee(full_name=name, manager=manager, team=team, **fields)
    db.session.add(employee)
    db.session.flush()
    if password is not None:
        if password not in _hash_cache:
            _hash_cache[password] = hash_password(password)
        user = User(employee=employee, password_hash=_hash_cache[password],
                    must_change_password=must_change_password)
        user.set_roles(set(roles))
        db.session.add(user)
    db.session.commit()
    return employee


def make_hr(name: str = "Hana HR", **fields) -> Employee:
    return make_employee(name, roles={Role.HR_PARTNER}, **fields)


def make_manager(name: str = "Mia Manager", **fields) -> Employee:
    return make_employee(name, roles={Role.MANAGER}, **fields)
