"""The rules for people: creating, changing and deactivating employees, kept in one place.

Pages, the API and the CSV import all come through here (or through the same field parsers),
so a rule is checked the same way wherever data enters.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import func, select

from touchpoints.audit.services import record
from touchpoints.auth.models import Role, User, UserRole
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.people import fields
from touchpoints.people.models import Employee, Team, WorkPattern

# Field name -> parser for the plain attributes of an employee.
PARSERS: dict[str, Callable[[Any], Any]] = {
    "email": fields.parse_email,
    "full_name": lambda v: _required_text(v, "A name is required.", 200),
    "job_title": lambda v: _optional_text(v, 200),
    "location": lambda v: _optional_text(v, 120),
    "country_code": fields.parse_country,
    "subdivision": lambda v: _optional_text(v, 10).upper(),
    "timezone": fields.parse_timezone,
    "work_start": fields.parse_time,
    "work_end": fields.parse_time,
    "work_days": fields.parse_work_days,
    "hire_date": fields.parse_date,
    "start_date": fields.parse_date,
    "exit_date": fields.parse_date,
    "status": fields.parse_status,
    "preferred_channel": fields.parse_channel,
    "quiet_hours_start": fields.parse_time,
    "quiet_hours_end": fields.parse_time,
}
AUDITED = (*PARSERS, "team_id", "manager_id")


class PeopleValidationError(ValueError):
    """Input that cannot be saved; errors maps each field name to its reason."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _required_text(value: Any, message: str, limit: int) -> str:
    text = _optional_text(value, limit)
    if not text:
        raise fields.FieldError(message)
    return text


def _optional_text(value: Any, limit: int) -> str:
    text = ("" if value is None else str(value)).strip()
    if len(text) > limit:
        raise fields.FieldError(f"Keep this under {limit} characters.")
    return text


def employee_by_email(email: str) -> Employee | None:
    """The employee with this work email, matched case-insensitively."""
    return db.session.scalar(
        select(Employee).where(func.lower(Employee.email) == email.strip().lower())
    )


def manager_chain_ids(manager_id: int) -> set[int]:
    """The ids of manager_id and everyone above them (one recursive query)."""
    chain = select(Employee.id, Employee.manager_id).where(Employee.id == manager_id).cte(
        "chain", recursive=True
    )
    chain = chain.union(
        select(Employee.id, Employee.manager_id).where(Employee.id == chain.c.manager_id)
    )
    return set(db.session.scalars(select(chain.c.id)))


def would_create_cycle(employee_id: int | None, manager_id: int | None) -> bool:
    """Whether making manager_id this employee's manager would loop the reporting line."""
    if employee_id is None or manager_id is None:
        return False
    return manager_id == employee_id or employee_id in manager_chain_ids(manager_id)


def team_by_name(name: str, *, create: bool) -> Team | None:
    """The team of that name (case-insensitive); made on demand when create is set."""
    clean = name.strip()
    if not clean:
        return None
    team = db.session.scalar(select(Team).where(func.lower(Team.name) == clean.lower()))
    if team is None and create:
        team = Team(name=clean, description="")
        db.session.add(team)
        db.session.flush()
    return team


def snapshot(employee: Employee) -> dict[str, Any]:
    """A JSON-safe picture of an employee for the audit log and the API."""
    out: dict[str, Any] = {}
    for name in AUDITED:
        value = getattr(employee, name)
        out[name] = value.isoformat() if hasattr(value, "isoformat") else (
            value.value if hasattr(value, "value") else value
        )
    return out


def _apply(employee: Employee, data: Mapping[str, Any], errors: dict[str, str]) -> None:
    # The lookups below must not flush half-applied changes (a taken email would fail the flush
    # with an IntegrityError instead of coming back as a field error).
    with db.session.no_autoflush:
        _apply_fields(employee, data, errors)


def _apply_fields(employee: Employee, data: Mapping[str, Any], errors: dict[str, str]) -> None:
    for name, parse in PARSERS.items():
        if name not in data:
            continue
        try:
            value = parse(data[name])
        except fields.FieldError as error:
            errors[name] = str(error)
            continue
        if value is None and name in ("work_start", "work_end"):
            errors[name] = "Working hours need a start and an end."
            continue
        setattr(employee, name, value)

    if "email" in data and "email" not in errors:
        other = employee_by_email(employee.email)
        if other is not None and other.id != employee.id:
            errors["email"] = f"{employee.email} already belongs to {other.full_name}."

    if "team" in data:
        employee.team = team_by_name(str(data["team"] or ""), create=True)
    elif "team_id" in data:
        team = db.session.get(Team, data["team_id"]) if data["team_id"] else None
        if data["team_id"] and team is None:
            errors["team_id"] = "That team does not exist."
        else:
            employee.team = team

    if "manager_email" in data or "manager_id" in data:
        _apply_manager(employee, data, errors)

    if employee.work_start and employee.work_end and employee.work_start >= employee.work_end:
        errors["work_end"] = "The working day must end after it starts."
    if employee.exit_date and employee.start_date and employee.exit_date < employee.start_date:
        errors["exit_date"] = "The exit date cannot be before the start date."
    if (employee.quiet_hours_start is None) != (employee.quiet_hours_end is None):
        errors["quiet_hours_end"] = "Quiet hours need both a start and an end, or neither."


def _apply_manager(employee: Employee, data: Mapping[str, Any], errors: dict[str, str]) -> None:
    if "manager_email" in data:
        key, raw = "manager_email", str(data["manager_email"] or "").strip()
        manager = employee_by_email(raw) if raw else None
        if raw and manager is None:
            errors[key] = f"No employee has the email {raw}."
            return
    else:
        key, raw = "manager_id", data["manager_id"]
        manager = db.session.get(Employee, raw) if raw else None
        if raw and manager is None:
            errors[key] = "That manager does not exist."
            return
    if manager is not None and would_create_cycle(employee.id, manager.id):
        errors[key] = (f"{manager.full_name} cannot be {employee.full_name or 'this person'}'s "
                       "manager: that would make a reporting loop.")
        return
    employee.manager = manager


def record_errors(data: Mapping[str, Any], employee: Employee | None = None) -> dict[str, str]:
    """What saving this data on the record would refuse (a taken email, an unknown manager, ...).

    Nothing is saved, but the record and the session are changed on the way: the caller rolls back.
    """
    errors: dict[str, str] = {}
    _apply(employee or Employee(), data, errors)
    return errors


def create_employee(
    data: Mapping[str, Any], *, actor_id: int | None, roles: set[Role] | None = None,
    password_hash: str | None = None,
) -> Employee:
    """Create an employee and their login; raises PeopleValidationError naming each bad field."""
    employee = Employee()
    errors: dict[str, str] = {}
    for name in ("email", "full_name", "timezone"):
        if not str(data.get(name) or "").strip():
            errors[name] = "This field is required."
    _apply(employee, data, errors)
    if errors:
        db.session.rollback()
        raise PeopleValidationError(errors)
    db.session.add(employee)
    db.session.flush()
    user = User(employee=employee, password_hash=password_hash, must_change_password=True)
    user.set_roles(roles or set())
    db.session.add(user)
    db.session.flush()
    record("employee.created", "employee", employee.id, actor_id=actor_id,
           summary=f"Added {employee.full_name}", after=snapshot(employee))
    from touchpoints.journeys.services import on_employee_created  # journeys builds on people

    on_employee_created(employee, actor_id=actor_id)  # a new hire enters onboarding
    return employee


def update_employee(employee: Employee, data: Mapping[str, Any], *, actor_id: int | None,
                    roles: set[Role] | None = None) -> Employee:
    """Change an employee; raises PeopleValidationError and leaves nothing half-written."""
    before = snapshot(employee)
    errors: dict[str, str] = {}
    _apply(employee, data, errors)
    if errors:
        db.session.rollback()
        raise PeopleValidationError(errors)
    user = db.session.scalar(select(User).where(User.employee_id == employee.id))
    role_change = roles is not None and user is not None and user.roles != {Role.EMPLOYEE, *roles}
    if role_change and user.is_hr and Role.HR_PARTNER not in roles and is_last_hr_partner(employee.id):
        db.session.rollback()
        raise PeopleValidationError({"roles": f"{employee.full_name} is the only active HR partner. "
                                              "Make someone else an HR partner first."})
    if role_change:
        user.set_roles(roles)
    after = snapshot(employee)
    if after != before or role_change:
        record("employee.updated", "employee", employee.id, actor_id=actor_id,
               summary=f"Changed {employee.full_name}",
               before={k: v for k, v in before.items() if after[k] != v},
               after={k: v for k, v in after.items() if before[k] != v})
    if after != before:
        from touchpoints.journeys.services import on_employee_changed

        # Start date, manager, leave and exit changes move the person's touchpoints.
        on_employee_changed(employee, before, after, actor_id=actor_id)
    return employee


def is_last_hr_partner(employee_id: int) -> bool:
    """Whether this person is the only active HR partner (the company would be left without one)."""
    active_hr = db.session.scalars(
        select(User.employee_id).join(User.employee).join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.HR_PARTNER.value, Employee.deactivated_at.is_(None)).limit(2)
    ).all()
    return active_hr == [employee_id]


def deactivate_employee(employee: Employee, *, actor_id: int | None) -> None:
    """Disable sign-in for this person and end all their sessions."""
    if employee.deactivated_at is not None:
        return
    if is_last_hr_partner(employee.id):
        raise PeopleValidationError({"deactivated": f"{employee.full_name} is the only active HR "
                                                    "partner. Make someone else an HR partner first."})
    employee.deactivated_at = utcnow()
    user = db.session.scalar(select(User).where(User.employee_id == employee.id))
    if user is not None:
        user.rotate_session_token()
    record("employee.deactivated", "employee", employee.id, actor_id=actor_id,
           summary=f"Deactivated {employee.full_name}")


def reactivate_employee(employee: Employee, *, actor_id: int | None) -> None:
    """Allow this person to sign in again."""
    if employee.deactivated_at is None:
        return
    employee.deactivated_at = None
    record("employee.reactivated", "employee", employee.id, actor_id=actor_id,
           summary=f"Reactivated {employee.full_name}")


def _team_snapshot(team: Team) -> dict[str, Any]:
    return {"name": team.name, "description": team.description, "hr_partner_id": team.hr_partner_id,
            "work_pattern": team.work_pattern.value if team.work_pattern else None,
            "parent_id": team.parent_id, "manager_id": team.manager_id}


def _team_structure(team: Team | None, data: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """The work pattern, parent team and manager asked for (only the keys given), checked."""
    found: dict[str, Any] = {}
    if "work_pattern" in data:
        raw = data.get("work_pattern") or None
        try:
            found["work_pattern"] = WorkPattern(raw) if raw else None
        except ValueError:
            errors["work_pattern"] = "Choose on site, hybrid or remote (or not recorded)."
    if "parent_id" in data:
        parent_id = data.get("parent_id") or None
        if parent_id is not None:
            parents = dict(db.session.execute(select(Team.id, Team.parent_id)).all())
            seen, current = set(), parent_id
            while current is not None and current not in seen:  # walk up: the team must not be above itself
                seen.add(current)
                current = parents.get(current)
            if parent_id not in parents:
                errors["parent_id"] = "Choose a team that exists."
            elif team is not None and team.id in seen:
                errors["parent_id"] = "A team cannot be part of itself or of one of its own sub-teams."
        found["parent_id"] = parent_id
    if "manager_email" in data:
        email = str(data.get("manager_email") or "").strip().lower()
        manager = db.session.scalar(select(Employee).where(func.lower(Employee.email) == email)) \
            if email else None
        if email and (manager is None or manager.deactivated_at is not None):
            errors["manager_email"] = f"No one working here has the email {email}."
        found["manager_id"] = manager.id if manager else None
    return found


def hr_partner_choices() -> list[tuple[int, str]]:
    """(employee id, name) of every active HR partner, for pickers (a handful of people)."""
    return db.session.execute(
        select(Employee.id, Employee.full_name).join(User, User.employee_id == Employee.id)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.HR_PARTNER.value, Employee.deactivated_at.is_(None))
        .order_by(Employee.full_name)
    ).all()


def save_team(team: Team | None, data: Mapping[str, Any], *, actor_id: int | None) -> Team:
    """Create (team None) or change a team; raises PeopleValidationError naming each bad field."""
    errors: dict[str, str] = {}
    try:
        name = _required_text(data.get("name"), "A team needs a name.", 120)
    except fields.FieldError as error:
        errors["name"] = str(error)
        name = ""
    try:
        description = _optional_text(data.get("description"), 2000)
    except fields.FieldError as error:
        errors["description"] = str(error)
        description = ""
    if name:
        other = db.session.scalar(select(Team).where(func.lower(Team.name) == name.lower()))
        if other is not None and other is not team:
            errors["name"] = f"There is already a team called {other.name}."
    partner_id = data.get("hr_partner_id") or None
    if partner_id is not None and partner_id not in {i for i, _ in hr_partner_choices()}:
        errors["hr_partner_id"] = "Choose someone who is an active HR partner."
    structure = _team_structure(team, data, errors)
    if errors:
        raise PeopleValidationError(errors)
    before = _team_snapshot(team) if team is not None else None
    if team is None:
        team = Team()
        db.session.add(team)
    team.name, team.description, team.hr_partner_id = name, description, partner_id
    for key, value in structure.items():
        setattr(team, key, value)
    db.session.flush()
    after = _team_snapshot(team)
    if before is None:
        record("team.created", "team", team.id, actor_id=actor_id, summary=f"Added team {name}",
               after=after)
    elif before != after:
        record("team.updated", "team", team.id, actor_id=actor_id, summary=f"Changed team {name}",
               before={k: v for k, v in before.items() if after[k] != v},
               after={k: v for k, v in after.items() if before[k] != v})
    return team
