"""Building teams and rituals for the rituals tests."""
from __future__ import annotations

from datetime import date, time

from tests.factories import make_employee, make_team
from touchpoints.auth.models import Role, User
from touchpoints.extensions import db
from touchpoints.people.models import Employee, Team, WorkPattern
from touchpoints.rituals.models import Audience, Ritual
from touchpoints.rituals.services import Viewer, save_ritual


def user_of(employee: Employee) -> User:
    return db.session.query(User).filter_by(employee_id=employee.id).one()


def team_with_manager(name: str, *, members: int = 3, pattern: WorkPattern | None = WorkPattern.HYBRID,
                      parent: Team | None = None) -> tuple[Team, Employee, list[Employee]]:
    """A team led by a manager (who is in it), with some members reporting to them."""
    team = make_team(name, work_pattern=pattern, parent=parent)
    manager = make_employee(f"{name} Lead", roles={Role.MANAGER}, team=team)
    people = [make_employee(f"{name} Member {i}", manager=manager, team=team) for i in range(members)]
    team.manager_id = manager.id
    db.session.commit()
    return team, manager, people


def plan(by: Employee, team: Team | None, *, title: str = "Team day", rrule: str | None = "FREQ=MONTHLY",
         starts_on: date = date(2026, 1, 6), at: time = time(10, 0), timezone: str = "Europe/London",
         audience: Audience = Audience.TEAM, mode: str = "in_person", kind: str = "team_meeting",
         today: date | None = None, **extra) -> Ritual:
    """A ritual saved through the services, as a page or the API would."""
    viewer = Viewer.of(user_of(by))
    ritual = save_ritual(None, {
        "team_id": team.id if team else None, "audience": audience.value, "kind": kind, "title": title,
        "planned_mode": mode, "rrule": rrule or "", "starts_on": starts_on, "time_of_day": at,
        "timezone": timezone, "duration_minutes": 90, **extra,
    }, viewer=viewer, today=today or starts_on)
    db.session.commit()
    return ritual
