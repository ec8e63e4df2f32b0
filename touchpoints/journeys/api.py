"""Journeys over the API: journey templates, enrolments, touchpoints and lifecycle events.

Every write goes through the journeys services, so a rule is checked the same way as on the pages.
Permissions are those of the token's person: HR partners everything; managers their reports'
touchpoints (never grievance meetings); employees their own. Private notes never leave the app.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from flask import g, request, url_for
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload, selectinload

from touchpoints.api import openapi as doc
from touchpoints.api.auth import api_token_required
from touchpoints.api.helpers import (
    ApiProblem,
    check_types,
    iso,
    not_found,
    paginated,
    read_json_object,
    require_hr,
    split_csv,
)
from touchpoints.api.views import bp
from touchpoints.extensions import db
from touchpoints.journeys import services as journeys
from touchpoints.journeys.access import can_view_touchpoint
from touchpoints.journeys.errors import (
    HumanTouchRefusal,
    JourneyError,
    JourneyValidationError,
    NotAllowed,
    TouchpointActionError,
)
from touchpoints.journeys.models import (
    Anchor,
    Confirmation,
    Enrolment,
    EnrolmentStatus,
    EnrolTrigger,
    HumanTouchLevel,
    JourneyStage,
    JourneyStatus,
    JourneyTemplate,
    LifecycleEvent,
    LifecycleEventKind,
    Mode,
    OffsetUnit,
    OwnerRole,
    Touchpoint,
    TouchpointKind,
    TouchpointStatus,
)
from touchpoints.people.access import can_view_employee, visible_employees
from touchpoints.people.models import Employee, LifecycleStatus


def _service(call: Callable[[], Any]) -> Any:
    """Run a service call, turning its refusals into the API's error shape (and rolling back)."""
    try:
        return call()
    except JourneyValidationError as error:
        db.session.rollback()
        raise ApiProblem(422, "Some fields are not valid.", error.errors) from None
    except HumanTouchRefusal as error:
        db.session.rollback()
        raise ApiProblem(422, error.reason, {"actual_mode": error.reason},
                         title="Refused by a human-touch policy") from None
    except NotAllowed as error:
        db.session.rollback()
        raise ApiProblem(403, str(error)) from None
    except (TouchpointActionError, JourneyError) as error:
        db.session.rollback()
        raise ApiProblem(409, str(error)) from None


def _parse_moment(value: Any, name: str, problems: dict[str, str]) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        problems[name] = f"'{str(value)[:40]}' is not an ISO 8601 date-time (e.g. 2025-03-04T10:00:00Z)."
        return None
    if moment.tzinfo is None:
        problems[name] = "Give the time zone too (e.g. a trailing Z for UTC, or +01:00)."
        return None
    return moment.astimezone(UTC)


def _parse_day(value: Any, name: str, problems: dict[str, str]) -> date | None:
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        problems[name] = f"'{str(value)[:40]}' is not a date in the form YYYY-MM-DD."
        return None


def _ref(person: Employee | None) -> dict[str, Any] | None:
    return None if person is None else {"id": person.id, "full_name": person.full_name}


# ---------------------------------------------------------------- journeys


def journey_json(journey: JourneyTemplate, *, with_touchpoints: bool = True) -> dict[str, Any]:
    """The API's picture of a journey version."""
    body: dict[str, Any] = {
        "id": journey.id, "key": journey.key, "name": journey.name, "stage": journey.stage.value,
        "version": journey.version, "status": journey.status.value, "description": journey.description,
        "enrols_on": journey.enrols_on.value if journey.enrols_on else None,
        "previous_version_id": journey.previous_version_id,
        "created_at": iso(journey.created_at), "published_at": iso(journey.published_at),
        "retired_at": iso(journey.retired_at),
    }
    if with_touchpoints:
        body["touchpoints"] = [
            {"id": t.id, **journeys.journey_to_data(journey)["touchpoints"][index],
             "human_touch_level": t.planned_mode.human_touch_level.value}
            for index, t in enumerate(journey.touchpoint_templates)
        ]
    return body


def _journey(journey_id: int) -> JourneyTemplate:
    journey = db.session.scalar(
        select(JourneyTemplate).options(selectinload(JourneyTemplate.touchpoint_templates))
        .where(JourneyTemplate.id == journey_id))
    if journey is None:
        raise not_found("journey")
    return journey


@bp.get("/journeys")
@api_token_required
def list_journeys():
    """Journey versions, filtered by status, key and stage (active ones by default)."""
    query = select(JourneyTemplate).options(selectinload(JourneyTemplate.touchpoint_templates))
    problems: dict[str, str] = {}
    statuses = split_csv(request.args.get("status", "active"))
    if statuses != ["any"]:
        try:
            query = query.where(JourneyTemplate.status.in_([JourneyStatus(s) for s in statuses]))
        except ValueError:
            problems["status"] = "Use draft, active, superseded, retired (comma-separated) or any."
    if request.args.get("key"):
        query = query.where(JourneyTemplate.key == request.args["key"].strip().lower())
    if request.args.get("stage"):
        try:
            query = query.where(JourneyTemplate.stage == JourneyStage(request.args["stage"].strip()))
        except ValueError:
            problems["stage"] = "Use " + ", ".join(s.value for s in JourneyStage) + "."
    if problems:
        raise ApiProblem(400, "Some query parameters are not valid.", problems)
    return paginated(query.order_by(JourneyTemplate.key, JourneyTemplate.version.desc()), journey_json)


@bp.get("/journeys/<int:journey_id>")
@api_token_required
def get_journey(journey_id: int):
    """One journey version with its touchpoint templates."""
    return {"data": journey_json(_journey(journey_id))}


def _created(journey: JourneyTemplate):
    db.session.commit()
    location = url_for("api.get_journey", journey_id=journey.id, _external=True)
    return {"data": journey_json(_journey(journey.id))}, 201, {"Location": location}


@bp.post("/journeys")
@api_token_required
def create_journey():
    """Create a journey (version 1, a draft unless `activate` is true)."""
    require_hr("create journeys")
    data = read_json_object()
    activate = data.pop("activate", False)
    if not isinstance(activate, bool):
        raise ApiProblem(422, "Some fields are not valid.", {"activate": "Send true or false."})
    journey = _service(lambda: journeys.create_journey(data, actor_id=g.api_user.id, activate=activate))
    return _created(journey)


@bp.patch("/journeys/<int:journey_id>")
@api_token_required
def update_journey(journey_id: int):
    """Change a draft; fields left out stay as they are (`touchpoints`, if sent, is the whole list)."""
    require_hr("edit journeys")
    journey = _journey(journey_id)
    data = read_json_object()
    _service(lambda: journeys.update_draft(journey, data, actor_id=g.api_user.id))
    db.session.commit()
    return {"data": journey_json(_journey(journey_id))}


@bp.post("/journeys/<int:journey_id>/revisions")
@api_token_required
def start_revision(journey_id: int):
    """A draft copy of a journey with the next version number, to edit and then publish."""
    require_hr("edit journeys")
    journey = _journey(journey_id)
    return _created(_service(lambda: journeys.start_revision(journey, actor_id=g.api_user.id)))


@bp.get("/journeys/<int:journey_id>/impact")
@api_token_required
def journey_impact(journey_id: int):
    """What publishing this draft would do to people already on the journey."""
    require_hr("see the impact of journey changes")
    impact = journeys.revision_impact(_journey(journey_id))
    return {"data": {"open_touchpoints": impact.open_touchpoints, "enrolments": impact.enrolments,
                     "added": impact.added, "removed": impact.removed, "changed": impact.changed,
                     "retimed": impact.retimed}}


@bp.post("/journeys/<int:journey_id>/publish")
@api_token_required
def publish_journey(journey_id: int):
    """Make a draft the active version; with move_open, people already on the journey follow it."""
    require_hr("publish journeys")
    journey = _journey(journey_id)
    data = read_json_object()
    problems = check_types(data, {"move_open": "boolean"})
    if "move_open" not in data and not problems:
        problems["move_open"] = ("Say whether the open touchpoints of people already on the journey "
                                 "follow the new version (true) or stay on theirs (false).")
    if problems:
        raise ApiProblem(422, "Some fields are not valid.", problems)
    result = _service(lambda: journeys.publish(journey, actor_id=g.api_user.id, move_open=data["move_open"]))
    db.session.commit()
    return {"data": journey_json(_journey(journey_id)),
            "meta": {"moved_enrolments": result.moved_enrolments,
                     "moved_touchpoints": result.moved_touchpoints,
                     "cancelled_touchpoints": result.cancelled_touchpoints,
                     "created_touchpoints": result.created_touchpoints}}


@bp.post("/journeys/<int:journey_id>/clone")
@api_token_required
def clone_journey(journey_id: int):
    """A new, independent journey (a draft) copied from this one."""
    require_hr("create journeys")
    journey = _journey(journey_id)
    data = read_json_object()
    problems = check_types(data, {"key": "string", "name": "string"})
    for name in ("key", "name"):
        if not data.get(name):
            problems.setdefault(name, "This field is required.")
    if problems:
        raise ApiProblem(422, "Some fields are not valid.", problems)
    return _created(_service(lambda: journeys.clone_journey(journey, key=data["key"], name=data["name"],
                                                            actor_id=g.api_user.id)))


@bp.post("/journeys/<int:journey_id>/retire")
@api_token_required
def retire_journey(journey_id: int):
    """Stop enrolling people in this journey; those on it finish what they started."""
    require_hr("retire journeys")
    journey = _journey(journey_id)
    _service(lambda: journeys.retire_journey(journey, actor_id=g.api_user.id))
    db.session.commit()
    return {"data": journey_json(_journey(journey_id))}


# ---------------------------------------------------------------- enrolments


def enrolment_json(enrolment: Enrolment) -> dict[str, Any]:
    """The API's picture of an enrolment (its journey loaded with it)."""
    return {
        "id": enrolment.id, "employee_id": enrolment.employee_id, "journey_id": enrolment.journey_id,
        "journey_key": enrolment.journey_key, "journey_version": enrolment.journey.version,
        "status": enrolment.status.value, "source": enrolment.source,
        "enrolled_at": iso(enrolment.enrolled_at), "materialised_until": iso(enrolment.materialised_until),
        "ended_at": iso(enrolment.ended_at), "end_reason": enrolment.end_reason or None,
    }


@bp.get("/enrolments")
@api_token_required
def list_enrolments():
    """Enrolments of the people this token may see, by employee, journey and status."""
    visible = visible_employees(g.api_user).with_only_columns(Employee.id)
    query = select(Enrolment).options(joinedload(Enrolment.journey)).where(Enrolment.employee_id.in_(visible))
    problems: dict[str, str] = {}
    if request.args.get("employee_id"):
        ids = split_csv(request.args["employee_id"])
        if all(i.isdigit() for i in ids):
            query = query.where(Enrolment.employee_id.in_([int(i) for i in ids]))
        else:
            problems["employee_id"] = "Use employee ids (whole numbers), separated by commas."
    if request.args.get("journey_key"):
        query = query.where(Enrolment.journey_key.in_(split_csv(request.args["journey_key"].lower())))
    if request.args.get("status"):
        try:
            wanted = [EnrolmentStatus(s) for s in split_csv(request.args["status"])]
            query = query.where(Enrolment.status.in_(wanted))
        except ValueError:
            problems["status"] = "Use active, completed or ended (comma-separated)."
    if problems:
        raise ApiProblem(400, "Some query parameters are not valid.", problems)
    return paginated(query.order_by(Enrolment.id), enrolment_json)


ENROL_TYPES = {"journey_key": "string", "journey_id": "integer", "employee_ids": "array",
               "team_id": "integer", "manager_id": "integer", "location": "string", "status": "string"}


@bp.post("/enrolments")
@api_token_required
def create_enrolments():
    """Enrol people in a journey by ids, or everyone matching a filter, in one bulk operation."""
    require_hr("enrol people")
    data = read_json_object()
    problems: dict[str, str] = {}
    for name in data:
        if name not in ENROL_TYPES:
            problems[name] = "Unknown field."
    if ("journey_key" in data) == ("journey_id" in data):
        problems["journey_key"] = "Send journey_key or journey_id (one of them)."
    journey = None
    if isinstance(data.get("journey_id"), int) and not isinstance(data.get("journey_id"), bool):
        journey = db.session.get(JourneyTemplate, data["journey_id"])
    elif isinstance(data.get("journey_key"), str):
        journey = journeys.active_journey(data["journey_key"].strip().lower())
    if journey is None and not problems:
        problems["journey_key" if "journey_key" in data else "journey_id"] = "No such active journey."
    ids = data.get("employee_ids")
    filters = {k: data[k] for k in ("team_id", "manager_id", "location", "status") if k in data}
    if ids is None and not filters:
        problems["employee_ids"] = "Send employee_ids, or a filter (team_id, manager_id, location, status)."
    if ids is not None and (not isinstance(ids, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in ids)):
        problems["employee_ids"] = "Send a list of employee ids (whole numbers)."
    if ids is not None and filters:
        problems["employee_ids"] = "Send employee_ids or a filter, not both."
    statuses = None
    if "status" in filters:
        try:
            statuses = [LifecycleStatus(s) for s in split_csv(str(filters["status"]))]
        except ValueError:
            problems["status"] = "Use lifecycle statuses: " + ", ".join(
                s.value for s in LifecycleStatus) + "."
    for name in ("team_id", "manager_id"):
        if name in filters and (not isinstance(filters[name], int) or isinstance(filters[name], bool)):
            problems[name] = "Send a whole number."
    if problems:
        raise ApiProblem(422, "Some fields are not valid.", problems)
    if ids is None:
        ids = journeys.employee_ids_for(team_id=filters.get("team_id"), manager_id=filters.get("manager_id"),
                                        location=filters.get("location"), statuses=statuses)
    result = _service(lambda: journeys.enrol_many(ids, journey, actor_id=g.api_user.id, source="api"))
    db.session.commit()
    status = 201 if result.enrolled else 200
    return {"data": {"journey_id": journey.id, "enrolled": result.enrolled,
                     "enrolment_ids": result.enrolment_ids, "already_enrolled": result.already_enrolled,
                     "not_enrollable": {str(k): v for k, v in result.not_enrollable.items()},
                     "touchpoints_created": result.touchpoints_created}}, status


@bp.post("/enrolments/<int:enrolment_id>/end")
@api_token_required
def end_enrolment(enrolment_id: int):
    """Take someone off a journey; its open touchpoints are cancelled."""
    require_hr("end enrolments")
    enrolment = db.session.scalar(select(Enrolment).options(joinedload(Enrolment.journey))
                                  .where(Enrolment.id == enrolment_id))
    if enrolment is None:
        raise not_found("enrolment")
    data = read_json_object()
    problems = check_types(data, {"reason": "string"})
    if not problems and not str(data.get("reason", "")).strip():
        problems["reason"] = "Say why this person leaves the journey."
    if problems:
        raise ApiProblem(422, "Some fields are not valid.", problems)
    cancelled = _service(lambda: journeys.end_enrolment(enrolment, actor_id=g.api_user.id,
                                                        reason=data["reason"].strip()))
    db.session.commit()
    return {"data": enrolment_json(enrolment), "meta": {"cancelled_touchpoints": cancelled}}


# ---------------------------------------------------------------- touchpoints


def touchpoint_json(tp: Touchpoint) -> dict[str, Any]:
    """The API's picture of a touchpoint (employee, owner and agenda loaded); never private notes."""
    return {
        "id": tp.id, "employee": _ref(tp.employee), "owner": _ref(tp.owner),
        "owner_role": tp.owner_role.value,
        "kind": tp.kind.value, "title": tp.title, "planned_mode": tp.planned_mode.value,
        "human_touch_level": tp.human_touch_level.value, "due_at": iso(tp.due_at),
        "duration_minutes": tp.duration_minutes, "status": tp.status.value,
        "status_reason": tp.status_reason or None, "overdue": tp.is_overdue(),
        "actual_mode": tp.actual_mode.value if tp.actual_mode else None,
        "happened_at": iso(tp.happened_at), "logged_by_id": tp.logged_by_id, "logged_at": iso(tp.logged_at),
        "confirmation": tp.confirmation.value if tp.confirmation else None,
        "confirmed_at": iso(tp.confirmed_at), "sensitive": tp.sensitive,
        "enrolment_id": tp.enrolment_id, "template_id": tp.template_id, "occurrence": tp.occurrence,
        "sequence": tp.sequence,
        "agenda": [{"id": a.id, "text": a.text, "done": a.done, "author_id": a.author_id}
                   for a in tp.agenda_items],
        "created_at": iso(tp.created_at), "updated_at": iso(tp.updated_at),
    }


def _with_refs(query: Select) -> Select:
    return query.options(joinedload(Touchpoint.employee), joinedload(Touchpoint.owner),
                         selectinload(Touchpoint.agenda_items))


def _touchpoint(touchpoint_id: int) -> Touchpoint:
    tp = db.session.scalar(_with_refs(select(Touchpoint)).where(Touchpoint.id == touchpoint_id))
    if tp is None or not can_view_touchpoint(g.api_user, tp):
        raise not_found("touchpoint")
    return tp


def _id_list(name: str, problems: dict[str, str]) -> list[int] | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    parts = split_csv(raw)
    if not all(p.isdigit() for p in parts):
        problems[name] = "Use ids (whole numbers), separated by commas."
        return None
    return [int(p) for p in parts]


@bp.get("/touchpoints")
@api_token_required
def list_touchpoints():
    """Touchpoints this token may see, by employee, owner, due range, status and kind, in due order."""
    query = _with_refs(journeys.visible_touchpoints(g.api_user))
    problems: dict[str, str] = {}
    employee_ids = _id_list("employee_id", problems)
    if employee_ids:
        query = query.where(Touchpoint.employee_id.in_(employee_ids))
    owner_ids = _id_list("owner_id", problems)
    if owner_ids:
        query = query.where(Touchpoint.owner_id.in_(owner_ids))
    due_from = _parse_moment(request.args.get("due_from"), "due_from", problems)
    due_to = _parse_moment(request.args.get("due_to"), "due_to", problems)
    if due_from:
        query = query.where(Touchpoint.due_at >= due_from)
    if due_to:
        query = query.where(Touchpoint.due_at < due_to)
    if request.args.get("status"):
        wanted = split_csv(request.args["status"])
        if "overdue" in wanted:
            wanted.remove("overdue")
            query = query.where(Touchpoint.status.in_([TouchpointStatus.PLANNED, TouchpointStatus.SCHEDULED]),
                                Touchpoint.due_at < datetime.now(UTC))
        try:
            if wanted:
                query = query.where(Touchpoint.status.in_([TouchpointStatus(s) for s in wanted]))
        except ValueError:
            problems["status"] = "Use " + ", ".join(s.value for s in TouchpointStatus) + " or overdue."
    if request.args.get("kind"):
        try:
            kinds = [TouchpointKind(k) for k in split_csv(request.args["kind"])]
            query = query.where(Touchpoint.kind.in_(kinds))
        except ValueError:
            problems["kind"] = "Use touchpoint kinds: " + ", ".join(k.value for k in TouchpointKind) + "."
    if request.args.get("confirmation"):
        try:
            query = query.where(Touchpoint.confirmation == Confirmation(request.args["confirmation"]))
        except ValueError:
            problems["confirmation"] = "Use pending, confirmed or disputed."
    if problems:
        raise ApiProblem(400, "Some query parameters are not valid.", problems)
    return paginated(query.order_by(Touchpoint.due_at, Touchpoint.id), touchpoint_json)


@bp.get("/touchpoints/<int:touchpoint_id>")
@api_token_required
def get_touchpoint(touchpoint_id: int):
    """One touchpoint, if this token may see it."""
    return {"data": touchpoint_json(_touchpoint(touchpoint_id))}


def _answer(touchpoint_id: int):
    db.session.commit()
    db.session.expire_all()
    return {"data": touchpoint_json(_touchpoint(touchpoint_id))}


@bp.post("/touchpoints/<int:touchpoint_id>/log")
@api_token_required
def log_touchpoint(touchpoint_id: int):
    """Record that a touchpoint took place: how (actual_mode), when, and a private note for the logger."""
    tp = _touchpoint(touchpoint_id)
    data = read_json_object()
    problems = check_types(data, {"actual_mode": "string", "happened_at": "string?", "note": "string?",
                                  "justification": "string?"})
    if "actual_mode" not in data:
        problems["actual_mode"] = "Say how it happened: " + ", ".join(m.value for m in Mode) + "."
    happened_at = _parse_moment(data.get("happened_at"), "happened_at", problems) \
        if "happened_at" not in problems else None
    if problems:
        raise ApiProblem(422, "Some fields are not valid.", problems)
    _service(lambda: journeys.log_touchpoint(tp, actual_mode=data["actual_mode"], happened_at=happened_at,
                                             note=data.get("note"), actor=g.api_user,
                                             justification=data.get("justification")))
    return _answer(touchpoint_id)


@bp.post("/touchpoints/<int:touchpoint_id>/reschedule")
@api_token_required
def reschedule_touchpoint(touchpoint_id: int):
    """Move a touchpoint to another time (it becomes scheduled)."""
    tp = _touchpoint(touchpoint_id)
    data = read_json_object()
    problems = check_types(data, {"due_at": "string", "reason": "string?"})
    if "due_at" not in data:
        problems["due_at"] = "Give the new time (ISO 8601 with a time zone)."
    due_at = _parse_moment(data.get("due_at"), "due_at", problems) if "due_at" not in problems else None
    if problems:
        raise ApiProblem(422, "Some fields are not valid.", problems)
    _service(lambda: journeys.reschedule(tp, due_at=due_at, actor=g.api_user,
                                         reason=data.get("reason") or ""))
    return _answer(touchpoint_id)


@bp.post("/touchpoints/<int:touchpoint_id>/missed")
@api_token_required
def mark_touchpoint_missed(touchpoint_id: int):
    """Record that a touchpoint did not happen at its time."""
    tp = _touchpoint(touchpoint_id)
    data = read_json_object()
    problems = check_types(data, {"reason": "string?"})
    if problems:
        raise ApiProblem(422, "Some fields are not valid.", problems)
    _service(lambda: journeys.mark_missed(tp, actor=g.api_user, reason=data.get("reason") or ""))
    return _answer(touchpoint_id)


@bp.post("/touchpoints/<int:touchpoint_id>/confirmation")
@api_token_required
def confirm_touchpoint(touchpoint_id: int):
    """The person concerned says whether a logged touchpoint took place."""
    tp = _touchpoint(touchpoint_id)
    data = read_json_object()
    problems = check_types(data, {"took_place": "boolean", "comment": "string?"})
    if "took_place" not in data:
        problems["took_place"] = "Send true (it took place) or false (it did not)."
    if problems:
        raise ApiProblem(422, "Some fields are not valid.", problems)
    _service(lambda: journeys.confirm_touchpoint(tp, actor=g.api_user, took_place=data["took_place"],
                                                 comment=data.get("comment") or ""))
    return _answer(touchpoint_id)


# ---------------------------------------------------------------- lifecycle events


def lifecycle_event_json(event: LifecycleEvent) -> dict[str, Any]:
    """The API's picture of a lifecycle event."""
    return {"id": event.id, "employee_id": event.employee_id, "kind": event.kind.value,
            "effective_on": iso(event.effective_on), "details": event.details or {},
            "recorded_by_id": event.recorded_by_id, "recorded_at": iso(event.recorded_at)}


def _visible_employee(employee_id: int) -> Employee:
    employee = db.session.get(Employee, employee_id)
    if employee is None or not can_view_employee(g.api_user, employee_id):
        raise not_found("employee")
    return employee


@bp.get("/employees/<int:employee_id>/lifecycle-events")
@api_token_required
def list_lifecycle_events(employee_id: int):
    """A person's lifecycle events, newest first."""
    _visible_employee(employee_id)
    return {"data": [lifecycle_event_json(e) for e in journeys.lifecycle_events_of(employee_id)]}


EVENT_DETAILS = {"start_date": "string", "manager_id": "integer?", "exit_date": "string",
                 "hire_date": "string", "expected_return": "string?"}


@bp.post("/employees/<int:employee_id>/lifecycle-events")
@api_token_required
def record_lifecycle_event(employee_id: int):
    """Record a lifecycle event (hire, start date moved, manager change, leave, exit ...) and apply it."""
    require_hr("record lifecycle events")
    employee = _visible_employee(employee_id)
    data = read_json_object()
    problems = check_types(data, {"kind": "string", "effective_on": "string?", **EVENT_DETAILS})
    try:
        kind = LifecycleEventKind(data.get("kind"))
    except ValueError:
        kind = None
        problems["kind"] = "Use " + ", ".join(k.value for k in LifecycleEventKind) + "."
    effective_on = _parse_day(data.get("effective_on"), "effective_on", problems)
    for name in ("start_date", "exit_date", "hire_date", "expected_return"):
        if name in data and name not in problems:
            _parse_day(data[name], name, problems)
    if problems:
        raise ApiProblem(422, "Some fields are not valid.", problems)
    details = {k: v for k, v in data.items() if k in EVENT_DETAILS}
    event = _service(lambda: journeys.record_lifecycle_event(employee, kind, effective_on=effective_on,
                                                             actor_id=g.api_user.id, details=details))
    db.session.commit()
    return {"data": lifecycle_event_json(event)}, 201


# ---------------------------------------------------------------- the OpenAPI description

_NULL_STRING = {"type": ["string", "null"]}
_DATETIME = {"type": "string", "format": "date-time"}
_NULL_DATETIME = {"type": ["string", "null"], "format": "date-time"}
_REF = {"type": ["object", "null"], "required": ["id", "full_name"],
        "properties": {"id": {"type": "integer"}, "full_name": {"type": "string"}}}


def _enum(cls, nullable: bool = False) -> dict[str, Any]:
    values: list[Any] = [m.value for m in cls]
    return {"type": ["string", "null"], "enum": [*values, None]} if nullable else {"type": "string",
                                                                                   "enum": values}


_TEMPLATE_PROPERTIES: dict[str, Any] = {
    "key": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,63}$",
            "description": "Stable across versions (e.g. welcome-call)."},
    "phase": {"type": "string", "maxLength": 80, "description": "The journey-map stage, e.g. First week."},
    "title": {"type": "string", "maxLength": 200},
    "kind": _enum(TouchpointKind),
    "planned_mode": _enum(Mode),
    "owner_role": _enum(OwnerRole),
    "anchor": _enum(Anchor),
    "offset": {"type": "integer", "description": "Days from the anchor (negative: before it)."},
    "offset_unit": _enum(OffsetUnit),
    "time_of_day": {"type": "string", "pattern": "^\\d{2}:\\d{2}",
                    "description": "Local time in the person's zone, kept inside their working hours."},
    "rrule": {**_NULL_STRING, "description": "RFC 5545 RRULE body, e.g. FREQ=MONTHLY;INTERVAL=3."},
    "follows_cadence": {"type": "boolean",
                        "description": "Repeat at the one-on-one cadence (person, else team, else company)."},
    "series_length": {"type": ["integer", "null"], "minimum": 1},
    "until_anchor": _enum(Anchor, nullable=True),
    "duration_minutes": {"type": "integer", "minimum": 5, "maximum": 480},
    "description": {"type": "string"},
    "sensitive": {"type": "boolean", "description": "Defaults from the kind (reviews, grievances, exits)."},
}
_JOURNEY_WRITE: dict[str, Any] = {
    "key": _TEMPLATE_PROPERTIES["key"],
    "name": {"type": "string", "maxLength": 120},
    "stage": _enum(JourneyStage),
    "description": {"type": "string"},
    "enrols_on": _enum(EnrolTrigger, nullable=True),
    "touchpoints": {"type": "array", "minItems": 1, "items": doc.ref("TouchpointTemplateWrite")},
}
_SCHEMAS: dict[str, Any] = {
    "TouchpointTemplateWrite": {"type": "object", "required": ["key", "title", "kind", "planned_mode",
                                                               "owner_role", "anchor"],
                                "properties": _TEMPLATE_PROPERTIES, "additionalProperties": False},
    "TouchpointTemplate": {"type": "object", "properties": {
        "id": {"type": "integer"}, **_TEMPLATE_PROPERTIES,
        "human_touch_level": _enum(HumanTouchLevel)}},
    "JourneyWrite": {"type": "object", "required": ["key", "name", "touchpoints"],
                     "properties": {**_JOURNEY_WRITE, "activate": {"type": "boolean", "default": False}}},
    "JourneyUpdate": {"type": "object",
                      "properties": {k: v for k, v in _JOURNEY_WRITE.items() if k != "key"}},
    "Journey": {"type": "object", "required": ["id", "key", "name", "version", "status"], "properties": {
        "id": {"type": "integer"}, "key": {"type": "string"}, "name": {"type": "string"},
        "stage": _enum(JourneyStage), "version": {"type": "integer"}, "status": _enum(JourneyStatus),
        "description": {"type": "string"}, "enrols_on": _enum(EnrolTrigger, nullable=True),
        "previous_version_id": {"type": ["integer", "null"]}, "created_at": _DATETIME,
        "published_at": _NULL_DATETIME, "retired_at": _NULL_DATETIME,
        "touchpoints": {"type": "array", "items": doc.ref("TouchpointTemplate")}}},
    "Enrolment": {"type": "object", "properties": {
        "id": {"type": "integer"}, "employee_id": {"type": "integer"}, "journey_id": {"type": "integer"},
        "journey_key": {"type": "string"}, "journey_version": {"type": "integer"},
        "status": _enum(EnrolmentStatus), "source": {"type": "string"}, "enrolled_at": _DATETIME,
        "materialised_until": {"type": ["string", "null"], "format": "date"},
        "ended_at": _NULL_DATETIME, "end_reason": _NULL_STRING}},
    "EnrolmentRequest": {"type": "object", "properties": {
        "journey_key": {"type": "string"}, "journey_id": {"type": "integer"},
        "employee_ids": {"type": "array", "items": {"type": "integer"}},
        "team_id": {"type": "integer"}, "manager_id": {"type": "integer"}, "location": {"type": "string"},
        "status": {"type": "string", "description": "Lifecycle status(es), comma-separated."}},
        "description": "journey_key or journey_id, and employee_ids or a filter."},
    "EnrolmentResult": {"type": "object", "properties": {
        "journey_id": {"type": "integer"}, "enrolled": {"type": "integer"},
        "enrolment_ids": {"type": "array", "items": {"type": "integer"}},
        "already_enrolled": {"type": "array", "items": {"type": "integer"}},
        "not_enrollable": {"type": "object", "additionalProperties": {"type": "string"}},
        "touchpoints_created": {"type": "integer"}}},
    "Touchpoint": {"type": "object", "properties": {
        "id": {"type": "integer"}, "employee": _REF, "owner": _REF, "owner_role": _enum(OwnerRole),
        "kind": _enum(TouchpointKind), "title": {"type": "string"}, "planned_mode": _enum(Mode),
        "human_touch_level": _enum(HumanTouchLevel), "due_at": _DATETIME,
        "duration_minutes": {"type": "integer"}, "status": _enum(TouchpointStatus),
        "status_reason": _NULL_STRING, "overdue": {"type": "boolean"},
        "actual_mode": _enum(Mode, nullable=True), "happened_at": _NULL_DATETIME,
        "logged_by_id": {"type": ["integer", "null"]}, "logged_at": _NULL_DATETIME,
        "confirmation": _enum(Confirmation, nullable=True), "confirmed_at": _NULL_DATETIME,
        "sensitive": {"type": "boolean"}, "enrolment_id": {"type": ["integer", "null"]},
        "template_id": {"type": ["integer", "null"]}, "occurrence": {"type": "integer"},
        "sequence": {"type": "integer", "description": "Bumped on every change (the .ics SEQUENCE)."},
        "agenda": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "integer"}, "text": {"type": "string"}, "done": {"type": "boolean"},
            "author_id": {"type": ["integer", "null"]}}}},
        "created_at": _DATETIME, "updated_at": _DATETIME}},
    "LifecycleEvent": {"type": "object", "properties": {
        "id": {"type": "integer"}, "employee_id": {"type": "integer"}, "kind": _enum(LifecycleEventKind),
        "effective_on": {"type": "string", "format": "date"}, "details": {"type": "object"},
        "recorded_by_id": {"type": ["integer", "null"]}, "recorded_at": _DATETIME}},
}


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "description": description, "schema": schema or {"type": "string"}}


_ONE_JOURNEY = doc.json_response("The journey version.", doc.data_envelope(doc.ref("Journey")))
_CREATED_JOURNEY = doc.json_response("Created.", doc.data_envelope(doc.ref("Journey")), headers={
    "Location": {"description": "The journey's URL.", "schema": {"type": "string", "format": "uri"}}})
_ONE_TOUCHPOINT = doc.json_response("The touchpoint as it now stands.",
                                    doc.data_envelope(doc.ref("Touchpoint")))
_JID, _TID = doc.path_id("journey_id"), doc.path_id("touchpoint_id")
_WRITE_ERRORS = (400, 401, 403, 404, 409, 415, 422)

doc.register_paths(
    {
        "/journeys": {
            "get": doc.operation("listJourneys", "Journeys", "List journey versions",
                       "Active versions by default; `status=any` lists every version.",
                       {"200": doc.json_response("One page of journeys.",
                                                 doc.page_envelope(doc.ref("Journey")))},
                       (400, 401), parameters=[
                           *doc.PAGE_PARAMETERS,
                           _query("status", "draft, active, superseded, retired (comma-separated) or any."),
                           _query("key", "A journey key, e.g. onboarding."),
                           _query("stage", "onboarding, development, offboarding or other.")]),
            "post": doc.operation("createJourney", "Journeys", "Create a journey (HR partners)",
                        "Version 1, a draft unless `activate` is true. Every bad field is named in "
                        "`error.fields`, e.g. `touchpoints[2].rrule`.",
                        {"201": _CREATED_JOURNEY}, (400, 401, 403, 415, 422), body=doc.ref("JourneyWrite")),
        },
        "/journeys/{journey_id}": {
            "get": doc.operation("getJourney", "Journeys",
                                 "Get a journey version", "With its touchpoint templates.",
                       {"200": _ONE_JOURNEY}, (401, 404), parameters=[_JID]),
            "patch": doc.operation("updateJourney", "Journeys", "Edit a draft (HR partners)",
                         "Only drafts change in place; start a revision to change an active journey, so "
                         "history is never rewritten.", {"200": _ONE_JOURNEY}, _WRITE_ERRORS,
                         body=doc.ref("JourneyUpdate"), parameters=[_JID]),
        },
        "/journeys/{journey_id}/revisions": {
            "post": doc.operation("startJourneyRevision", "Journeys", "Start a new version (HR partners)",
                        "A draft copy with the next version number (the existing draft, if any).",
                        {"201": _CREATED_JOURNEY}, (401, 403, 404), parameters=[_JID]),
        },
        "/journeys/{journey_id}/impact": {
            "get": doc.operation("getJourneyRevisionImpact", "Journeys",
                                 "What publishing a draft would change",
                       "How many open touchpoints and enrolments would follow the new version, and "
                       "which moments are added, removed, changed or retimed.",
                       {"200": doc.json_response("The impact.", doc.data_envelope({"type": "object"}))},
                       (401, 403, 404), parameters=[_JID]),
        },
        "/journeys/{journey_id}/publish": {
            "post": doc.operation("publishJourney", "Journeys", "Publish a draft (HR partners)",
                        "The draft becomes the active version and the previous one is superseded. With "
                        "`move_open: true` people already on the journey follow the new version (their "
                        "done touchpoints stay as they were); with false they finish the version they "
                        "started.", {"200": _ONE_JOURNEY}, _WRITE_ERRORS,
                        body={"type": "object", "required": ["move_open"],
                              "properties": {"move_open": {"type": "boolean"}}}, parameters=[_JID]),
        },
        "/journeys/{journey_id}/clone": {
            "post": doc.operation("cloneJourney", "Journeys", "Clone a journey (HR partners)",
                        "A new, independent journey (a draft) with the given key and name.",
                        {"201": _CREATED_JOURNEY}, _WRITE_ERRORS,
                        body={"type": "object", "required": ["key", "name"],
                              "properties": {"key": {"type": "string"}, "name": {"type": "string"}}},
                        parameters=[_JID]),
        },
        "/journeys/{journey_id}/retire": {
            "post": doc.operation("retireJourney", "Journeys", "Retire a journey (HR partners)",
                        "No new enrolments; people on it finish what they started.",
                        {"200": _ONE_JOURNEY}, (401, 403, 404, 409), parameters=[_JID]),
        },
        "/enrolments": {
            "get": doc.operation("listEnrolments", "Journeys", "List enrolments",
                       "Enrolments of the people the token may see.",
                       {"200": doc.json_response("One page of enrolments.",
                                                 doc.page_envelope(doc.ref("Enrolment")))},
                       (400, 401), parameters=[
                           *doc.PAGE_PARAMETERS, _query("employee_id", "Employee id(s), comma-separated."),
                           _query("journey_key", "Journey key(s), comma-separated."),
                           _query("status", "active, completed, ended (comma-separated).")]),
            "post": doc.operation("enrolPeople", "Journeys", "Enrol people in a journey (HR partners)",
                        "One bulk operation for a list of people or everyone matching a filter. People "
                        "already on the journey are left alone (enrolling twice creates nothing twice); "
                        "touchpoints are planned with owners resolved and due times in each person's zone.",
                        {"201": doc.json_response("Someone was enrolled.",
                                                  doc.data_envelope(doc.ref("EnrolmentResult"))),
                         "200": doc.json_response("Nobody new was enrolled.",
                                                  doc.data_envelope(doc.ref("EnrolmentResult")))},
                        (400, 401, 403, 415, 422), body=doc.ref("EnrolmentRequest")),
        },
        "/enrolments/{enrolment_id}/end": {
            "post": doc.operation("endEnrolment", "Journeys", "Take someone off a journey (HR partners)",
                        "Its open touchpoints are cancelled.",
                        {"200": doc.json_response("The ended enrolment.",
                                                  doc.data_envelope(doc.ref("Enrolment")))},
                        _WRITE_ERRORS, body={"type": "object", "required": ["reason"],
                                             "properties": {"reason": {"type": "string"}}},
                        parameters=[doc.path_id("enrolment_id")]),
        },
        "/touchpoints": {
            "get": doc.operation("listTouchpoints", "Touchpoints", "List touchpoints",
                       "The touchpoints the token may see (HR: all; managers: their reports', never "
                       "grievances; everyone: their own and the ones they run), in due order.",
                       {"200": doc.json_response("One page of touchpoints.",
                                                 doc.page_envelope(doc.ref("Touchpoint")))},
                       (400, 401), parameters=[
                           *doc.PAGE_PARAMETERS,
                           _query("employee_id", "Employee id(s), comma-separated."),
                           _query("owner_id", "Owner id(s), comma-separated."),
                           _query("due_from", "Due at or after this moment (ISO 8601 with zone).",
                                  {"type": "string", "format": "date-time"}),
                           _query("due_to", "Due before this moment (ISO 8601 with zone).",
                                  {"type": "string", "format": "date-time"}),
                           _query("status", "planned, scheduled, done, missed, cancelled or overdue "
                                            "(comma-separated)."),
                           _query("kind", "Touchpoint kind(s), comma-separated."),
                           _query("confirmation", "pending, confirmed or disputed.")]),
        },
        "/touchpoints/{touchpoint_id}": {
            "get": doc.operation("getTouchpoint", "Touchpoints", "Get a touchpoint",
                       "Private notes are never included.",
                       {"200": doc.json_response("The touchpoint.",
                                                 doc.data_envelope(doc.ref("Touchpoint")))},
                       (401, 404), parameters=[_TID]),
        },
        "/touchpoints/{touchpoint_id}/log": {
            "post": doc.operation("logTouchpoint", "Touchpoints", "Log that a touchpoint took place",
                        "How it happened (`actual_mode`), when (default now), and an optional private note "
                        "for the logger. A human-touch policy may refuse a mode (422 naming "
                        "`actual_mode`); an HR partner may override with a `justification`.",
                        {"200": _ONE_TOUCHPOINT}, _WRITE_ERRORS,
                        body={"type": "object", "required": ["actual_mode"], "properties": {
                            "actual_mode": _enum(Mode), "happened_at": _NULL_DATETIME,
                            "note": _NULL_STRING, "justification": _NULL_STRING}},
                        parameters=[_TID]),
        },
        "/touchpoints/{touchpoint_id}/reschedule": {
            "post": doc.operation("rescheduleTouchpoint", "Touchpoints", "Reschedule a touchpoint",
                        "It becomes scheduled at the new time; its sequence is bumped.",
                        {"200": _ONE_TOUCHPOINT}, _WRITE_ERRORS,
                        body={"type": "object", "required": ["due_at"], "properties": {
                            "due_at": _DATETIME, "reason": _NULL_STRING}}, parameters=[_TID]),
        },
        "/touchpoints/{touchpoint_id}/missed": {
            "post": doc.operation("markTouchpointMissed", "Touchpoints", "Mark a touchpoint missed",
                        "Only once its time has passed.", {"200": _ONE_TOUCHPOINT}, _WRITE_ERRORS,
                        body={"type": "object", "properties": {"reason": _NULL_STRING}}, parameters=[_TID]),
        },
        "/touchpoints/{touchpoint_id}/confirmation": {
            "post": doc.operation("confirmTouchpoint", "Touchpoints",
                                  "Confirm (or dispute) a logged touchpoint",
                        "Only the person it was with answers; saying it did not take place needs a comment.",
                        {"200": _ONE_TOUCHPOINT}, _WRITE_ERRORS,
                        body={"type": "object", "required": ["took_place"], "properties": {
                            "took_place": {"type": "boolean"}, "comment": _NULL_STRING}},
                        parameters=[_TID]),
        },
        "/employees/{employee_id}/lifecycle-events": {
            "get": doc.operation("listLifecycleEvents", "Journeys",
                                 "A person's lifecycle events", "Newest first.",
                       {"200": doc.json_response("The events.", {"type": "object", "properties": {
                           "data": {"type": "array", "items": doc.ref("LifecycleEvent")}}})},
                       (401, 404), parameters=[doc.path_id("employee_id")]),
            "post": doc.operation("recordLifecycleEvent", "Journeys",
                                  "Record a lifecycle event (HR partners)",
                        "Applies it: start_date_moved moves open touchpoints anchored on the start date; "
                        "manager_change hands the old manager's open touchpoints to the new one; leave "
                        "pauses recurring series and return resumes them; exit_date_set starts "
                        "offboarding; exit cancels open touchpoints; rehire starts a fresh onboarding.",
                        {"201": doc.json_response("Recorded.", doc.data_envelope(doc.ref("LifecycleEvent")))},
                        _WRITE_ERRORS, body={"type": "object", "required": ["kind"], "properties": {
                            "kind": _enum(LifecycleEventKind),
                            "effective_on": {"type": ["string", "null"], "format": "date"},
                            "start_date": {"type": "string", "format": "date"},
                            "hire_date": {"type": "string", "format": "date"},
                            "exit_date": {"type": "string", "format": "date"},
                            "manager_id": {"type": ["integer", "null"]},
                            "expected_return": {"type": ["string", "null"], "format": "date"}}},
                        parameters=[doc.path_id("employee_id")]),
        },
    },
    _SCHEMAS,
    tags={"Journeys": "Journey templates, enrolments and lifecycle events.",
          "Touchpoints": "Planned moments and what actually happened."},
)
