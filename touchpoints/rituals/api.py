"""Team rituals over the API: list, read, plan and change rituals; their occurrences; logging an
occurrence as held with attendance; a member's own attendance. The same rules as the pages: HR
everything, managers the teams they lead (and sub-teams), organisers their rituals, members read
their team's rituals and mark their own attendance, nobody else (404, as if it did not exist).
"""
from __future__ import annotations

from datetime import date, time
from typing import Any

from flask import g
from sqlalchemy import select

from touchpoints.api import openapi as doc
from touchpoints.api.auth import api_token_required
from touchpoints.api.helpers import ApiProblem, hhmm, iso, not_found, paginated, read_json_object
from touchpoints.api.views import bp
from touchpoints.extensions import db
from touchpoints.journeys.models import Mode
from touchpoints.people.models import Employee
from touchpoints.rituals import services
from touchpoints.rituals.models import (
    RITUAL_KINDS,
    Audience,
    OccurrenceStatus,
    Presence,
    Ritual,
    RitualAttendance,
    RitualOccurrence,
)
from touchpoints.rituals.services import RitualValidationError, Viewer

WRITABLE = ("team_id", "audience", "kind", "title", "description", "planned_mode", "rrule", "starts_on",
            "ends_on", "time_of_day", "timezone", "duration_minutes", "location", "organiser_id", "active")


def ritual_json(ritual: Ritual) -> dict[str, Any]:
    """A ritual as the API shows it."""
    return {
        "id": ritual.id, "team_id": ritual.team_id, "audience": ritual.audience.value,
        "kind": ritual.kind.value, "title": ritual.title, "description": ritual.description,
        "planned_mode": ritual.planned_mode.value, "rrule": ritual.rrule,
        "starts_on": iso(ritual.starts_on), "ends_on": iso(ritual.ends_on),
        "time_of_day": hhmm(ritual.time_of_day), "timezone": ritual.timezone,
        "duration_minutes": ritual.duration_minutes, "location": ritual.location,
        "organiser_id": ritual.organiser_id, "active": ritual.active,
        "materialised_until": iso(ritual.materialised_until), "created_at": iso(ritual.created_at),
    }


def occurrence_json(occurrence: RitualOccurrence) -> dict[str, Any]:
    """An occurrence, without its attendance."""
    return {
        "id": occurrence.id, "ritual_id": occurrence.ritual_id, "due_at": iso(occurrence.due_at),
        "status": occurrence.status.value,
        "actual_mode": occurrence.actual_mode.value if occurrence.actual_mode else None,
        "location": occurrence.location, "note": occurrence.note, "logged_at": iso(occurrence.logged_at),
    }


def _viewer() -> Viewer:
    return Viewer.of(g.api_user)


def _ritual(ritual_id: int, viewer: Viewer) -> Ritual:
    ritual = db.session.get(Ritual, ritual_id)
    if ritual is None or not viewer.can_view(ritual):
        raise not_found("ritual")
    return ritual


def _occurrence(occurrence_id: int, viewer: Viewer) -> RitualOccurrence:
    occurrence = services.load_occurrence(occurrence_id)
    if occurrence is None or not viewer.can_view(occurrence.ritual):
        raise not_found("occurrence")
    return occurrence


def _body_values() -> dict[str, Any]:
    data = read_json_object()
    unknown = {k: "Unknown field." for k in data if k not in WRITABLE}
    if unknown:
        raise ApiProblem(422, "Some fields are not valid.", unknown)
    values = dict(data)
    for name, parse in (("starts_on", date.fromisoformat), ("ends_on", date.fromisoformat),
                        ("time_of_day", time.fromisoformat)):
        if isinstance(values.get(name), str):
            try:
                values[name] = parse(values[name])
            except ValueError:
                hint = "Use HH:MM." if name == "time_of_day" else "Use YYYY-MM-DD."
                raise ApiProblem(422, "Some fields are not valid.", {name: hint}) from None
    return values


def _save(ritual: Ritual | None, viewer: Viewer) -> Ritual:
    try:
        saved = services.save_ritual(ritual, _body_values(), viewer=viewer)
    except RitualValidationError as error:
        db.session.rollback()
        raise ApiProblem(422, "Some fields are not valid.", error.errors) from None
    db.session.commit()
    return saved


@bp.get("/rituals")
@api_token_required
def list_rituals():
    """The rituals the token's person may see, by title."""
    return paginated(_viewer().visible_query().order_by(Ritual.title, Ritual.id), ritual_json)


@bp.post("/rituals")
@api_token_required
def create_ritual():
    """Plan a ritual (HR for any team or everyone; managers for the teams they lead)."""
    viewer = _viewer()
    if not viewer.team_choices():
        raise ApiProblem(403, "Only HR partners and managers who lead a team may plan rituals.")
    return {"data": ritual_json(_save(None, viewer))}, 201


@bp.get("/rituals/<int:ritual_id>")
@api_token_required
def get_ritual(ritual_id: int):
    """One ritual."""
    return {"data": ritual_json(_ritual(ritual_id, _viewer()))}


@bp.patch("/rituals/<int:ritual_id>")
@api_token_required
def update_ritual(ritual_id: int):
    """Change a ritual; its future, unlogged occurrences are planned afresh."""
    viewer = _viewer()
    ritual = _ritual(ritual_id, viewer)
    if not viewer.can_manage(ritual):
        raise ApiProblem(403, "Only HR, the organiser and the team's manager may change this ritual.")
    return {"data": ritual_json(_save(ritual, viewer))}


@bp.get("/rituals/<int:ritual_id>/occurrences")
@api_token_required
def list_occurrences(ritual_id: int):
    """A ritual's occurrences, soonest first."""
    ritual = _ritual(ritual_id, _viewer())
    query = select(RitualOccurrence).where(RitualOccurrence.ritual_id == ritual.id) \
        .order_by(RitualOccurrence.due_at)
    return paginated(query, occurrence_json)


@bp.get("/ritual-occurrences/<int:occurrence_id>")
@api_token_required
def get_occurrence(occurrence_id: int):
    """One occurrence; those who run the ritual also get everyone's attendance."""
    viewer = _viewer()
    occurrence = _occurrence(occurrence_id, viewer)
    body = occurrence_json(occurrence)
    if viewer.can_manage(occurrence.ritual):
        sheet = services.attendance_sheet(occurrence, viewer.tree)
        marks = sheet.marks
        body["attendance"] = [{"employee_id": m.id, "full_name": m.full_name,
                               "presence": marks[m.id].presence.value if m.id in marks else None}
                              for m in sheet.members]
    else:
        mine = db.session.get(RitualAttendance, (occurrence.id, g.api_user.employee_id))
        body["my_presence"] = mine.presence.value if mine else None
    return {"data": body}


@bp.post("/ritual-occurrences/<int:occurrence_id>/attendance")
@api_token_required
def log_attendance(occurrence_id: int):
    """Log an occurrence as held with everyone's attendance, all or nothing."""
    viewer = _viewer()
    occurrence = _occurrence(occurrence_id, viewer)
    if not viewer.can_manage(occurrence.ritual):
        raise ApiProblem(403, "Only HR, the organiser and the team's manager may log this occurrence.")
    data = read_json_object()
    known = ("actual_mode", "location", "note", "attendance")
    unknown = {k: "Unknown field." for k in data if k not in known}
    rows = data.get("attendance", [])
    if not isinstance(rows, list) or not all(
            isinstance(r, dict) and isinstance(r.get("employee_id"), int)
            and not isinstance(r["employee_id"], bool) for r in rows):
        unknown["attendance"] = "Send a list of {\"employee_id\": 12, \"presence\": \"in_person\"}."
    if unknown:
        raise ApiProblem(422, "Some fields are not valid.", unknown)
    if occurrence.ritual.audience is Audience.EVERYONE:  # company-wide: people mark themselves
        member_ids = set(db.session.scalars(
            select(Employee.id).where(Employee.id.in_([r["employee_id"] for r in rows]),
                                      Employee.deactivated_at.is_(None))))
    else:  # the same people the page's form lists, those marked who have since left included
        member_ids = {m.id for m in services.attendance_sheet(occurrence, viewer.tree).members}
    try:
        services.log_occurrence(occurrence, actual_mode=data.get("actual_mode"),
                                location=str(data.get("location") or ""), note=str(data.get("note") or ""),
                                presences={r["employee_id"]: r.get("presence") for r in rows},
                                member_ids=member_ids, actor=g.api_user)
    except RitualValidationError as error:
        db.session.rollback()
        fields = {("attendance[" + k.split(".", 1)[1] + "]" if k.startswith("attendance.") else k): v
                  for k, v in error.errors.items()}
        raise ApiProblem(422, "Nothing was saved: some fields are not valid.", fields) from None
    db.session.commit()
    return get_occurrence(occurrence_id)


@bp.post("/ritual-occurrences/<int:occurrence_id>/my-attendance")
@api_token_required
def mark_my_attendance(occurrence_id: int):
    """The token's person says whether they were there (members of the ritual's audience)."""
    viewer = _viewer()
    occurrence = _occurrence(occurrence_id, viewer)
    if not viewer.is_member(occurrence.ritual):
        raise ApiProblem(403, "Only people the ritual is for mark their own attendance.")
    data = read_json_object()
    try:
        services.mark_own_attendance(occurrence, employee_id=g.api_user.employee_id,
                                     presence=data.get("presence"), actor=g.api_user)
    except RitualValidationError as error:
        db.session.rollback()
        raise ApiProblem(422, "Some fields are not valid.", error.errors) from None
    db.session.commit()
    return {"data": {**occurrence_json(occurrence), "my_presence": Presence(data["presence"]).value}}


# ---------------------------------------------------------------- OpenAPI


def _enum(values) -> dict[str, Any]:
    return {"type": "string", "enum": [getattr(v, "value", v) for v in values]}


_DATE = {"type": ["string", "null"], "format": "date"}
_RITUAL_PROPERTIES = {
    "team_id": {"type": ["integer", "null"], "description": "Null only for audience everyone."},
    "audience": _enum(Audience), "kind": _enum(RITUAL_KINDS), "title": {"type": "string", "maxLength": 200},
    "description": {"type": "string"}, "planned_mode": _enum(Mode),
    "rrule": {"type": ["string", "null"],
              "description": "RFC 5545 RRULE body (FREQ=MONTHLY;BYDAY=1TU); null or empty: one-off."},
    "starts_on": _DATE, "ends_on": _DATE,
    "time_of_day": {"type": "string", "description": "HH:MM, local time in `timezone` (kept across DST)."},
    "timezone": {"type": "string", "description": "IANA zone, e.g. Europe/Berlin."},
    "duration_minutes": {"type": "integer", "minimum": 5}, "location": {"type": "string"},
    "organiser_id": {"type": ["integer", "null"], "description": "Gets a reminder a day before."},
    "active": {"type": "boolean"},
}
_SCHEMAS = {
    "Ritual": {"type": "object", "properties": {
        "id": {"type": "integer"}, **_RITUAL_PROPERTIES, "materialised_until": _DATE,
        "created_at": {"type": "string", "format": "date-time"}}},
    "RitualInput": {"type": "object", "properties": _RITUAL_PROPERTIES,
                    "description": "Create: title, team_id (unless audience is everyone), starts_on and "
                                   "time_of_day are needed. Change: fields left out keep their value."},
    "RitualOccurrence": {"type": "object", "properties": {
        "id": {"type": "integer"}, "ritual_id": {"type": "integer"},
        "due_at": {"type": "string", "format": "date-time"}, "status": _enum(OccurrenceStatus),
        "actual_mode": {"oneOf": [_enum(Mode), {"type": "null"}]}, "location": {"type": "string"},
        "note": {"type": "string"}, "logged_at": {"type": ["string", "null"], "format": "date-time"},
        "attendance": {"type": "array", "description": "Only for those who run the ritual.",
                       "items": {"type": "object", "properties": {
                           "employee_id": {"type": "integer"}, "full_name": {"type": "string"},
                           "presence": {"oneOf": [_enum(Presence), {"type": "null"}]}}}},
        "my_presence": {"oneOf": [_enum(Presence), {"type": "null"}]}}},
    "RitualAttendanceLog": {"type": "object", "required": ["actual_mode"], "properties": {
        "actual_mode": _enum(Mode), "location": {"type": "string"}, "note": {"type": "string"},
        "attendance": {"type": "array", "items": {
            "type": "object", "required": ["employee_id", "presence"],
            "properties": {"employee_id": {"type": "integer"}, "presence": _enum(Presence)}}}}},
}
_RID, _OID = doc.path_id("ritual_id"), doc.path_id("occurrence_id")
_ONE = doc.json_response("The ritual.", doc.data_envelope(doc.ref("Ritual")))
_OCC = doc.json_response("The occurrence.", doc.data_envelope(doc.ref("RitualOccurrence")))
_TAG = "Rituals"

doc.register_paths(
    {
        "/rituals": {
            "get": doc.operation("listRituals", _TAG, "List team rituals",
                                 "The rituals the token's person may see: HR all; managers those of the "
                                 "teams they lead; everyone their own team's and company-wide ones.",
                                 {"200": doc.json_response("One page of rituals.",
                                                           doc.page_envelope(doc.ref("Ritual")))},
                                 (400, 401), parameters=doc.PAGE_PARAMETERS),
            "post": doc.operation("createRitual", _TAG, "Plan a ritual (HR partners, team managers)",
                                  "Creates the ritual and plans its occurrences to the horizon. Errors name "
                                  "each field, e.g. `rrule`.",
                                  {"201": _ONE}, (401, 403, 415, 422), body=doc.ref("RitualInput")),
        },
        "/rituals/{ritual_id}": {
            "get": doc.operation("getRitual", _TAG, "Get one ritual", "If the token's person may see it.",
                                 {"200": _ONE}, (401, 404), parameters=[_RID]),
            "patch": doc.operation("updateRitual", _TAG, "Change a ritual (HR, organiser, team manager)",
                                   "Fields sent replace the current ones; future occurrences nobody has "
                                   "marked are planned afresh.",
                                   {"200": _ONE}, (401, 403, 404, 415, 422), body=doc.ref("RitualInput"),
                                   parameters=[_RID]),
        },
        "/rituals/{ritual_id}/occurrences": {
            "get": doc.operation("listRitualOccurrences", _TAG, "List a ritual's occurrences",
                                 "Past and planned, soonest first.",
                                 {"200": doc.json_response("One page of occurrences.",
                                                           doc.page_envelope(doc.ref("RitualOccurrence")))},
                                 (400, 401, 404), parameters=[_RID, *doc.PAGE_PARAMETERS]),
        },
        "/ritual-occurrences/{occurrence_id}": {
            "get": doc.operation("getRitualOccurrence", _TAG, "Get one occurrence",
                                 "With everyone's attendance for those who run the ritual, else one's own.",
                                 {"200": _OCC}, (401, 404), parameters=[_OID]),
        },
        "/ritual-occurrences/{occurrence_id}/attendance": {
            "post": doc.operation("logRitualAttendance", _TAG,
                                  "Log an occurrence as held, with attendance (HR, organiser, team manager)",
                                  "All or nothing: one person outside the audience or one unknown "
                                  "presence and nothing is written (`error.fields` names "
                                  "`attendance[<employee id>]`).",
                                  {"200": _OCC}, (401, 403, 404, 415, 422),
                                  body=doc.ref("RitualAttendanceLog"), parameters=[_OID]),
        },
        "/ritual-occurrences/{occurrence_id}/my-attendance": {
            "post": doc.operation("markMyRitualAttendance", _TAG, "Mark one's own attendance",
                                  "For people the ritual is for: in_person, remote or absent.",
                                  {"200": _OCC}, (401, 403, 404, 415, 422),
                                  body={"type": "object", "required": ["presence"],
                                        "properties": {"presence": _enum(Presence)}},
                                  parameters=[_OID]),
        },
    },
    _SCHEMAS,
    tags={_TAG: "Team rituals: team meetings, town halls and retreats, their occurrences and attendance."},
)
