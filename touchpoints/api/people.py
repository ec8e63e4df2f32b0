"""People over the API: employees, teams and the token's own person.

Permissions are exactly those of the pages (touchpoints.people.access), and writes go through
touchpoints.people.services, so the API checks a rule the same way a form does.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import g, request, url_for
from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from touchpoints.api import openapi as doc
from touchpoints.api.auth import api_token_required
from touchpoints.api.helpers import (
    ApiProblem,
    check_types,
    exclusive,
    hhmm,
    iso,
    not_found,
    paginated,
    read_json_object,
    require_hr,
    split_csv,
)
from touchpoints.api.views import bp
from touchpoints.auth.models import Role, User
from touchpoints.extensions import db
from touchpoints.people import fields as people_fields
from touchpoints.people import services as people
from touchpoints.people.access import visible_employees
from touchpoints.people.models import Channel, Employee, LifecycleStatus, Team
from touchpoints.people.services import PeopleValidationError
from touchpoints.people.text_search import name_or_email_contains

# What a client may send when creating or changing an employee, with its JSON type.
WRITABLE: dict[str, str] = {
    "email": "string", "full_name": "string", "job_title": "string?",
    "team": "string?", "team_id": "integer?",
    "manager_email": "string?", "manager_id": "integer?",
    "location": "string?", "country_code": "string", "subdivision": "string?",
    "timezone": "string", "work_start": "string", "work_end": "string", "work_days": "string",
    "hire_date": "string?", "start_date": "string?", "exit_date": "string?",
    "status": "string", "preferred_channel": "string",
}
UPDATABLE: dict[str, str] = {**WRITABLE, "deactivated": "boolean"}
READ_ONLY = {
    "id": "This field is read-only.",
    "created_at": "This field is read-only.",
    "updated_at": "This field is read-only.",
    "manager": "Set the manager with manager_email or manager_id.",
}
NOT_ON_CREATE = {"deactivated": "A new employee starts active; deactivate with PATCH."}
ALTERNATIVES = (("team", "team_id"), ("manager_email", "manager_id"))
DEACTIVATED_FILTER = {"false": False, "0": False, "true": True, "1": True, "any": None}


def _person_ref(person: Employee | None) -> dict[str, Any] | None:
    if person is None:
        return None
    return {"id": person.id, "email": person.email, "full_name": person.full_name}


def employee_json(employee: Employee) -> dict[str, Any]:
    """The API's picture of an employee (team and manager must be loaded with it)."""
    return {
        "id": employee.id,
        "email": employee.email,
        "full_name": employee.full_name,
        "job_title": employee.job_title,
        "team": {"id": employee.team.id, "name": employee.team.name} if employee.team else None,
        "manager": _person_ref(employee.manager),
        "location": employee.location,
        "country_code": employee.country_code,
        "subdivision": employee.subdivision,
        "timezone": employee.timezone,
        "work_start": hhmm(employee.work_start),
        "work_end": hhmm(employee.work_end),
        "work_days": employee.work_days,
        "hire_date": iso(employee.hire_date),
        "start_date": iso(employee.start_date),
        "exit_date": iso(employee.exit_date),
        "status": employee.status.value,
        "preferred_channel": employee.preferred_channel.value,
        "deactivated": employee.is_deactivated,
        "created_at": iso(employee.created_at),
        "updated_at": iso(employee.updated_at),
    }


def team_json(team: Team) -> dict[str, Any]:
    """The API's picture of a team (its HR partner loaded with it)."""
    return {"id": team.id, "name": team.name, "description": team.description,
            "hr_partner": _person_ref(team.hr_partner)}


def _with_refs(query: Select) -> Select:
    return query.options(joinedload(Employee.team), joinedload(Employee.manager))


def _visible_employee(employee_id: int) -> Employee:
    employee = db.session.scalar(
        _with_refs(visible_employees(g.api_user)).where(Employee.id == employee_id)
    )
    if employee is None:
        raise not_found("employee")
    return employee


def _filtered(query: Select) -> Select:
    """Apply the list filters from the query string; 400 naming a filter that makes no sense."""
    args = request.args
    problems: dict[str, str] = {}
    if args.get("q", "").strip():
        query = query.where(name_or_email_contains(args["q"]))
    if args.get("email", "").strip():
        query = query.where(func.lower(Employee.email) == args["email"].strip().lower())
    if args.get("team", "").strip():
        names = [name.lower() for name in split_csv(args["team"])]
        query = query.where(Employee.team_id.in_(
            select(Team.id).where(func.lower(Team.name).in_(names))))
    if args.get("team_id", "").strip():
        ids = split_csv(args["team_id"])
        if all(part.isdigit() for part in ids):
            query = query.where(Employee.team_id.in_([int(part) for part in ids]))
        else:
            problems["team_id"] = "Use team ids (whole numbers), separated by commas."
    if args.get("status", "").strip():
        try:
            statuses = [people_fields.parse_status(part) for part in split_csv(args["status"])]
        except people_fields.FieldError as error:
            problems["status"] = str(error)
        else:
            query = query.where(Employee.status.in_(statuses))
    deactivated = args.get("deactivated", "false").strip().lower()
    if deactivated not in DEACTIVATED_FILTER:
        problems["deactivated"] = "Use false (the default), true, or any."
    elif DEACTIVATED_FILTER[deactivated] is True:
        query = query.where(Employee.deactivated_at.is_not(None))
    elif DEACTIVATED_FILTER[deactivated] is False:
        query = query.where(Employee.deactivated_at.is_(None))
    if problems:
        raise ApiProblem(400, "Some query parameters are not valid.", problems)
    return query


@bp.get("/employees")
@api_token_required
def list_employees():
    """The employees this token may see, filtered and paginated."""
    query = _filtered(_with_refs(visible_employees(g.api_user)))
    return paginated(query.order_by(Employee.full_name, Employee.id), employee_json)


@bp.get("/employees/<int:employee_id>")
@api_token_required
def get_employee(employee_id: int):
    """One employee, if this token may see them."""
    return {"data": employee_json(_visible_employee(employee_id))}


def _duplicate(data: dict[str, Any], own_id: int | None) -> Employee | None:
    """Another employee already holding the email in data, compared case-insensitively."""
    raw = data.get("email")
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        email = people_fields.parse_email(raw)
    except people_fields.FieldError:
        return None
    other = people.employee_by_email(email)
    return other if other is not None and other.id != own_id else None


def _reject(problems: dict[str, str], duplicate: Employee | None) -> ApiProblem:
    """422 naming every bad field, or 409 when a taken email is the only thing wrong."""
    db.session.rollback()
    if duplicate is not None and set(problems) == {"email"}:
        return ApiProblem(409, f"{duplicate.email} already belongs to another employee "
                               f"(id {duplicate.id}).", problems)
    return ApiProblem(422, "Some fields are not valid.", problems)


def _save(data: dict[str, Any], problems: dict[str, str], own_id: int | None,
          write: Callable[[dict[str, Any]], Employee]) -> int:
    """Apply the well-formed fields through the people services and commit; returns the id.

    Everything wrong is reported at once: the API's own checks (problems) with the service's.
    """
    duplicate = _duplicate(data, own_id)
    if duplicate is not None and "email" not in problems:
        # Answered here rather than by the service, which would flush the taken email first.
        problems["email"] = f"{duplicate.email} already belongs to {duplicate.full_name}."
    clean = {name: value for name, value in data.items() if name not in problems}
    try:
        employee = write(clean)
        if problems:
            raise _reject(problems, duplicate)
        employee_id = employee.id
        db.session.commit()
    except PeopleValidationError as error:
        raise _reject({**error.errors, **problems}, duplicate) from None
    except IntegrityError:
        # Another request took the same email between our check and the commit.
        db.session.rollback()
        other = _duplicate(data, own_id)
        if other is None:
            raise
        raise _reject({"email": f"{other.email} already belongs to {other.full_name}."},
                      other) from None
    return employee_id


def _reloaded(employee_id: int) -> Employee:
    return db.session.scalar(_with_refs(select(Employee)).where(Employee.id == employee_id))


@bp.post("/employees")
@api_token_required
def create_employee():
    """Create an employee (and their login) with the same rules as the people pages."""
    require_hr("create employees")
    data = read_json_object()
    problems = check_types(data, WRITABLE, {**READ_ONLY, **NOT_ON_CREATE})
    problems.update(exclusive(data, *ALTERNATIVES))
    employee_id = _save(data, problems, None,
                        lambda clean: people.create_employee(clean, actor_id=g.api_user.id))
    body = {"data": employee_json(_reloaded(employee_id))}
    location = url_for("api.get_employee", employee_id=employee_id, _external=True)
    return body, 201, {"Location": location}


@bp.patch("/employees/<int:employee_id>")
@api_token_required
def update_employee(employee_id: int):
    """Change some fields of an employee; fields left out stay as they are."""
    require_hr("change employees")
    employee = db.session.get(Employee, employee_id)
    if employee is None:
        raise not_found("employee")
    data = read_json_object()
    problems = check_types(data, UPDATABLE, READ_ONLY)
    problems.update(exclusive(data, *ALTERNATIVES))
    if data.get("deactivated") is True and employee.id == g.api_user.employee_id:
        problems["deactivated"] = "You cannot deactivate the person this token acts as."

    def write(clean: dict[str, Any]) -> Employee:
        deactivated = clean.pop("deactivated", None)
        people.update_employee(employee, clean, actor_id=g.api_user.id)
        if deactivated is True:
            people.deactivate_employee(employee, actor_id=g.api_user.id)
        elif deactivated is False:
            people.reactivate_employee(employee, actor_id=g.api_user.id)
        return employee

    _save(data, problems, employee.id, write)
    return {"data": employee_json(_reloaded(employee_id))}


@bp.get("/me")
@api_token_required
def me():
    """The person this token acts as, with their roles."""
    user: User = g.api_user
    employee = _reloaded(user.employee_id)
    return {"data": {
        "user_id": user.id,
        "roles": sorted(role.value for role in user.roles),
        "employee": employee_json(employee),
        "token": {"id": g.api_token.id, "name": g.api_token.name,
                  "token_prefix": g.api_token.token_prefix},
    }}


@bp.get("/teams")
@api_token_required
def list_teams():
    """Every team, by name (team names are not confidential; members are)."""
    query = select(Team).options(joinedload(Team.hr_partner)).order_by(Team.name, Team.id)
    return paginated(query, team_json)


# -- The OpenAPI description of the endpoints above -------------------------------------------

_NULLABLE_STRING = {"type": ["string", "null"]}
_PERSON_REF = {
    "type": ["object", "null"], "required": ["id", "email", "full_name"],
    "properties": {"id": {"type": "integer"}, "email": {"type": "string", "format": "email"},
                   "full_name": {"type": "string"}},
}
_STATUS = {"type": "string", "enum": [s.value for s in LifecycleStatus]}
_CHANNEL = {"type": "string", "enum": [c.value for c in Channel]}
_WRITE_PROPERTIES: dict[str, Any] = {
    "email": {"type": "string", "format": "email",
              "description": "Work email, unique whatever its case."},
    "full_name": {"type": "string", "maxLength": 200},
    "job_title": {**_NULLABLE_STRING, "maxLength": 200},
    "team": {**_NULLABLE_STRING, "description": "Team name (case-insensitive); a new name creates "
                                                "the team. Or send team_id."},
    "team_id": {"type": ["integer", "null"]},
    "manager_email": {**_NULLABLE_STRING, "description": "The manager's work email. Or send "
                                                         "manager_id. Reporting loops are refused."},
    "manager_id": {"type": ["integer", "null"]},
    "location": {**_NULLABLE_STRING, "maxLength": 120},
    "country_code": {"type": "string", "pattern": "^[A-Za-z]{2}$",
                     "description": "ISO 3166 country whose public holidays apply."},
    "subdivision": {**_NULLABLE_STRING, "maxLength": 10,
                    "description": "ISO 3166-2 subdivision code without the country, e.g. BY."},
    "timezone": {"type": "string", "description": "IANA time zone, e.g. Europe/Berlin."},
    "work_start": {"type": "string", "pattern": "^\\d{2}:\\d{2}", "examples": ["09:00"]},
    "work_end": {"type": "string", "pattern": "^\\d{2}:\\d{2}", "examples": ["17:30"]},
    "work_days": {"type": "string", "pattern": "^[1-7]{1,7}$",
                  "description": "ISO weekday numbers worked, 12345 for Monday to Friday."},
    "hire_date": {**_NULLABLE_STRING, "format": "date"},
    "start_date": {**_NULLABLE_STRING, "format": "date"},
    "exit_date": {**_NULLABLE_STRING, "format": "date"},
    "status": _STATUS,
    "preferred_channel": _CHANNEL,
}
_EMPLOYEE_ID = {"name": "employee_id", "in": "path", "required": True,
                "schema": {"type": "integer"}}

doc.register_paths(
    {
        "/employees": {
            "get": {
                "operationId": "listEmployees",
                "tags": ["People"],
                "summary": "List employees",
                "description": "The employees the token may see (HR: everyone; managers: "
                               "themselves and their direct and indirect reports; employees: "
                               "themselves), ordered by name. Deactivated people are left out "
                               "unless `deactivated` says otherwise.",
                "parameters": [
                    *doc.PAGE_PARAMETERS,
                    {"name": "q", "in": "query", "description": "Part of a name or email.",
                     "schema": {"type": "string"}},
                    {"name": "email", "in": "query",
                     "description": "Exact work email, case-insensitive.",
                     "schema": {"type": "string"}},
                    {"name": "team", "in": "query",
                     "description": "Team name(s), case-insensitive, comma-separated.",
                     "schema": {"type": "string"}},
                    {"name": "team_id", "in": "query",
                     "description": "Team id(s), comma-separated.", "schema": {"type": "string"}},
                    {"name": "status", "in": "query",
                     "description": "Lifecycle status(es), comma-separated: "
                                    + ", ".join(s.value for s in LifecycleStatus) + ".",
                     "schema": {"type": "string"}},
                    {"name": "deactivated", "in": "query",
                     "description": "false: only active people (default); true: only "
                                    "deactivated people; any: both.",
                     "schema": {"type": "string", "enum": ["false", "true", "any"],
                                "default": "false"}},
                ],
                "responses": {
                    "200": doc.json_response("One page of employees.",
                                             doc.page_envelope(doc.ref("Employee"))),
                    **doc.errors(400, 401),
                },
            },
            "post": {
                "operationId": "createEmployee",
                "tags": ["People"],
                "summary": "Create an employee (HR partners)",
                "description": "Creates the employee and a login for them (they set a password "
                               "through a reset link). Validation is the same as on the people "
                               "pages; every bad field is named in `error.fields`.",
                "requestBody": doc.json_body(doc.ref("EmployeeCreate")),
                "responses": {
                    "201": doc.json_response(
                        "Created.", doc.data_envelope(doc.ref("Employee")),
                        headers={"Location": {"description": "The new employee's URL.",
                                              "schema": {"type": "string", "format": "uri"}}},
                    ),
                    **doc.errors(400, 401, 403, 409, 415, 422),
                },
            },
        },
        "/employees/{employee_id}": {
            "get": {
                "operationId": "getEmployee",
                "tags": ["People"],
                "summary": "Get one employee",
                "parameters": [_EMPLOYEE_ID],
                "responses": {
                    "200": doc.json_response("The employee.", doc.data_envelope(doc.ref("Employee"))),
                    **doc.errors(401, 404),
                },
            },
            "patch": {
                "operationId": "updateEmployee",
                "tags": ["People"],
                "summary": "Change an employee (HR partners)",
                "description": "Partial update: only the fields sent change. `deactivated: true` "
                               "ends the person's sign-in and sessions; false restores it.",
                "parameters": [_EMPLOYEE_ID],
                "requestBody": doc.json_body(doc.ref("EmployeeUpdate")),
                "responses": {
                    "200": doc.json_response("The changed employee.",
                                             doc.data_envelope(doc.ref("Employee"))),
                    **doc.errors(400, 401, 403, 404, 409, 415, 422),
                },
            },
        },
        "/me": {
            "get": {
                "operationId": "getMe",
                "tags": ["People"],
                "summary": "The person this token acts as",
                "responses": {
                    "200": doc.json_response("The token's person, roles and token.",
                                             doc.data_envelope(doc.ref("Me"))),
                    **doc.errors(401),
                },
            },
        },
        "/teams": {
            "get": {
                "operationId": "listTeams",
                "tags": ["People"],
                "summary": "List teams",
                "parameters": [*doc.PAGE_PARAMETERS],
                "responses": {
                    "200": doc.json_response("One page of teams, by name.",
                                             doc.page_envelope(doc.ref("Team"))),
                    **doc.errors(400, 401),
                },
            },
        },
    },
    schemas={
        "PersonRef": _PERSON_REF,
        "Employee": {
            "type": "object",
            "required": ["id", "email", "full_name", "job_title", "team", "manager", "location",
                         "country_code", "subdivision", "timezone", "work_start", "work_end",
                         "work_days", "hire_date", "start_date", "exit_date", "status",
                         "preferred_channel", "deactivated", "created_at", "updated_at"],
            "properties": {
                "id": {"type": "integer"},
                "email": {"type": "string", "format": "email"},
                "full_name": {"type": "string"},
                "job_title": {"type": "string"},
                "team": {"type": ["object", "null"], "required": ["id", "name"],
                         "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
                "manager": doc.ref("PersonRef"),
                "location": {"type": "string"},
                "country_code": {"type": "string"},
                "subdivision": {"type": "string"},
                "timezone": {"type": "string"},
                "work_start": {"type": "string", "examples": ["09:00"]},
                "work_end": {"type": "string", "examples": ["17:30"]},
                "work_days": {"type": "string", "examples": ["12345"]},
                "hire_date": {**_NULLABLE_STRING, "format": "date"},
                "start_date": {**_NULLABLE_STRING, "format": "date"},
                "exit_date": {**_NULLABLE_STRING, "format": "date"},
                "status": _STATUS,
                "preferred_channel": _CHANNEL,
                "deactivated": {"type": "boolean",
                                "description": "True when the person can no longer sign in."},
                "created_at": {"type": "string", "format": "date-time"},
                "updated_at": {"type": "string", "format": "date-time"},
            },
        },
        "EmployeeCreate": {
            "type": "object",
            "required": ["email", "full_name", "timezone"],
            "additionalProperties": False,
            "properties": _WRITE_PROPERTIES,
        },
        "EmployeeUpdate": {
            "type": "object",
            "additionalProperties": False,
            "properties": {**_WRITE_PROPERTIES, "deactivated": {"type": "boolean"}},
        },
        "Team": {
            "type": "object",
            "required": ["id", "name", "description", "hr_partner"],
            "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                           "description": {"type": "string"},
                           "hr_partner": doc.ref("PersonRef")},
        },
        "Me": {
            "type": "object",
            "required": ["user_id", "roles", "employee", "token"],
            "properties": {
                "user_id": {"type": "integer"},
                "roles": {"type": "array",
                          "items": {"type": "string", "enum": [r.value for r in Role]}},
                "employee": doc.ref("Employee"),
                "token": {"type": "object", "required": ["id", "name", "token_prefix"],
                          "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                                         "token_prefix": {"type": "string"}}},
            },
        },
    },
    tags={"People": "Employees, teams and the token's own person."},
)
