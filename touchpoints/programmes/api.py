"""Buddy and mentor programmes over the API: programmes, suggestions, making and ending pairs, own pairs.

The same rules as the pages: HR partners match anyone; managers match buddies (not mentors) for
their own reports; the two people in a pair, or HR, end it; everyone reads their own pairs.
"""
from __future__ import annotations

from typing import Any

from flask import g, request, url_for

from touchpoints.api import openapi as doc
from touchpoints.api.auth import api_token_required
from touchpoints.api.helpers import ApiProblem, iso, not_found, read_json_object
from touchpoints.api.views import bp
from touchpoints.extensions import db
from touchpoints.journeys.models import SupportKind
from touchpoints.people.access import can_view_employee
from touchpoints.people.models import Employee
from touchpoints.programmes import services
from touchpoints.programmes.models import EndedBy, EndReason, MatchStatus, Programme, ProgrammeMatch


def programme_json(programme: Programme, *, figures: bool) -> dict[str, Any]:
    """A programme's settings, and for HR its figures."""
    data: dict[str, Any] = {
        "id": programme.id, "key": programme.key, "name": programme.name, "kind": programme.kind.value,
        "description": programme.description, "journey_key": programme.journey_key,
        "load_cap": programme.load_cap, "min_tenure_months": programme.min_tenure_months,
        "active": programme.active, "figures": None,
    }
    if figures:
        f = services.programme_figures(programme, timezone=g.api_user.employee.timezone)
        data["figures"] = {
            "active_pairs": f.active_pairs, "meetings_held_this_month": f.meetings_this_month,
            "meetings_held_overall": f.meetings_overall, "pairs_ended": f.ended,
            "pairs_ended_by_reason": {reason.value: count for reason, count in f.ended_by_reason},
            "people_at_cap": [{"id": pid, "full_name": name, "load": load} for pid, name, load in f.at_cap],
        }
    return data


def match_json(match: ProgrammeMatch, held: int = 0) -> dict[str, Any]:
    """A pair, as the two people in it and HR see it."""
    return {
        "id": match.id, "programme_id": match.programme_id, "programme": match.programme.name,
        "kind": match.programme.kind.value,
        "employee": {"id": match.employee_id, "full_name": match.employee.full_name},
        "partner": {"id": match.partner_id, "full_name": match.partner.full_name},
        "status": match.status.value, "started_on": iso(match.started_on), "ended_on": iso(match.ended_on),
        "ended_by": match.ended_by.value if match.ended_by else None,
        "end_reason": match.end_reason.value if match.end_reason else None, "end_note": match.end_note,
        "enrolment_id": match.enrolment_id, "meetings_held": held,
    }


def _programme(programme_id: int) -> Programme:
    programme = db.session.get(Programme, programme_id)
    if programme is None:
        raise not_found("programme")
    return programme


def _person(employee_id: Any, name: str) -> Employee:
    if isinstance(employee_id, bool) or not isinstance(employee_id, int):
        raise ApiProblem(422, "Some fields are not valid.", {name: "Send the person's id (a whole number)."})
    person = db.session.get(Employee, employee_id)
    if person is None:
        raise ApiProblem(422, "Some fields are not valid.", {name: "No person has this id."})
    return person


def _may_match(programme: Programme, person: Employee) -> None:
    user = g.api_user
    if not can_view_employee(user, person.id):
        raise not_found("person")
    refusal = services.match_refusal(user, programme, person.id, manager_of=services.manages(user, person.id))
    if refusal:
        raise ApiProblem(403, refusal)


@bp.get("/programmes")
@api_token_required
def list_programmes():
    """Every programme; HR tokens also get each one's figures."""
    return {"data": [programme_json(p, figures=g.api_user.is_hr) for p in services.list_programmes()]}


@bp.get("/programmes/<int:programme_id>")
@api_token_required
def get_programme(programme_id: int):
    """One programme; HR tokens also get its figures."""
    return {"data": programme_json(_programme(programme_id), figures=g.api_user.is_hr)}


@bp.get("/programmes/<int:programme_id>/suggestions")
@api_token_required
def programme_suggestions(programme_id: int):
    """Suggested buddies or mentors for one person (employee_id), best first, with reasons."""
    programme = _programme(programme_id)
    raw = request.args.get("employee_id", "").strip()
    if not raw.isdigit():
        raise ApiProblem(400, "Say whom the suggestions are for.", {"employee_id": "Give a person's id."})
    person = db.session.get(Employee, int(raw))
    if person is None:
        raise not_found("person")
    _may_match(programme, person)
    return {"data": [
        {"employee": {"id": s.employee_id, "full_name": s.full_name, "job_title": s.job_title, "team": s.team,
                      "location": s.location, "timezone": s.timezone},
         "score": s.score, "reasons": s.reasons, "load": s.load, "load_cap": s.cap,
         "tenure_months": s.tenure_months}
        for s in services.suggestions_for(programme, person)]}


@bp.post("/programmes/<int:programme_id>/matches")
@api_token_required
def create_programme_match(programme_id: int):
    """Pair a person with a buddy or mentor; refused (422, partner_id) when the partner is at the cap."""
    programme = _programme(programme_id)
    data = read_json_object()
    unknown = {name: "Unknown field." for name in data if name not in ("employee_id", "partner_id")}
    if unknown:
        raise ApiProblem(422, "Some fields are not valid.", unknown)
    person = _person(data.get("employee_id"), "employee_id")
    partner = _person(data.get("partner_id"), "partner_id")
    _may_match(programme, person)
    try:
        match = services.create_match(programme, person, partner, actor=g.api_user)
    except services.NotAllowed as error:
        db.session.rollback()
        raise ApiProblem(403, str(error)) from None
    except services.ProgrammeValidationError as error:
        db.session.rollback()
        raise ApiProblem(422, "Some fields are not valid.", error.errors) from None
    except services.ProgrammeError as error:
        db.session.rollback()
        raise ApiProblem(409, str(error)) from None
    db.session.commit()
    match_id = match.id
    db.session.expire_all()
    location = url_for("api.list_my_programme_matches", _external=True)
    return {"data": match_json(services.get_match(match_id))}, 201, {"Location": location}


@bp.post("/programme-matches/<int:programme_match_id>/end")
@api_token_required
def end_programme_match(programme_match_id: int):
    """End a pair (either person, or HR): its coming meetings are cancelled and the other side is told."""
    match = services.get_match(programme_match_id)
    if match is None or not services.can_see_match(g.api_user, match):
        raise not_found("pair")
    data = read_json_object()
    unknown = {name: "Unknown field." for name in data if name not in ("reason", "note")}
    if unknown:
        raise ApiProblem(422, "Some fields are not valid.", unknown)
    if "note" in data and not isinstance(data["note"], str | type(None)):
        raise ApiProblem(422, "Some fields are not valid.", {"note": "Send a string."})
    try:
        services.end_match(match, actor=g.api_user, reason=str(data.get("reason") or ""),
                           note=data.get("note") or "")
    except services.ProgrammeValidationError as error:
        db.session.rollback()
        raise ApiProblem(422, "Some fields are not valid.", error.errors) from None
    except services.NotAllowed as error:
        db.session.rollback()
        raise ApiProblem(403, str(error)) from None
    except services.ProgrammeError as error:
        db.session.rollback()
        raise ApiProblem(409, str(error)) from None
    db.session.commit()
    db.session.expire_all()
    fresh = services.get_match(programme_match_id)
    return {"data": match_json(fresh, services.meetings_held_by_match([fresh.id]).get(fresh.id, 0))}


@bp.get("/me/programme-matches")
@api_token_required
def list_my_programme_matches():
    """The token's person's own pairs, on either side, live first."""
    pairs = services.matches_of(g.api_user.employee_id)
    held = services.meetings_held_by_match([m.id for m in pairs])
    return {"data": [match_json(m, held.get(m.id, 0)) for m in pairs]}


# -- The OpenAPI description ---------------------------------------------------------------------

def _enum(values) -> dict[str, Any]:
    return {"type": "string", "enum": [v.value for v in values]}


_PERSON = {"type": "object", "properties": {"id": {"type": "integer"}, "full_name": {"type": "string"}}}
_SCHEMAS = {
    "Programme": {"type": "object", "properties": {
        "id": {"type": "integer"}, "key": {"type": "string"}, "name": {"type": "string"},
        "kind": _enum(SupportKind), "description": {"type": "string"},
        "journey_key": {"type": "string",
                        "description": "The journey whose buddy/mentor touchpoints a pair gets."},
        "load_cap": {"type": "integer", "description": "Nobody supports more people than this at once."},
        "min_tenure_months": {"type": "integer", "description": "Tenure a buddy or mentor needs."},
        "active": {"type": "boolean", "description": "Open for new pairs."},
        "figures": {"oneOf": [{"type": "null"}, {
            "type": "object", "description": "HR tokens only.", "properties": {
            "active_pairs": {"type": "integer"},
            "meetings_held_this_month": {"type": "integer",
                                         "description": "Logged as done in person, by video or by phone."},
            "meetings_held_overall": {"type": "integer"}, "pairs_ended": {"type": "integer"},
            "pairs_ended_by_reason": {"type": "object", "additionalProperties": {"type": "integer"}},
            "people_at_cap": {"type": "array", "items": {"type": "object"}}}}]}}},
    "ProgrammeSuggestion": {"type": "object", "properties": {
        "employee": {"type": "object"}, "score": {"type": "number"},
        "reasons": {"type": "array", "items": {"type": "string"},
                    "description": "In words: \"other team (Design)\", \"same location (London)\" or "
                                   "\"3 hours of working-time overlap\", \"3 years' tenure\", "
                                   "\"buddies 1 of 3\"."},
        "load": {"type": "integer"}, "load_cap": {"type": "integer"}, "tenure_months": {"type": "integer"}}},
    "ProgrammeMatch": {"type": "object", "properties": {
        "id": {"type": "integer"}, "programme_id": {"type": "integer"}, "programme": {"type": "string"},
        "kind": _enum(SupportKind), "employee": _PERSON, "partner": _PERSON, "status": _enum(MatchStatus),
        "started_on": {"type": "string", "format": "date"},
        "ended_on": {"type": ["string", "null"], "format": "date"},
        "ended_by": {"oneOf": [{"type": "null"}, _enum(EndedBy)]},
        "end_reason": {"oneOf": [{"type": "null"}, _enum(EndReason)]},
        "end_note": {"type": "string"}, "enrolment_id": {"type": ["integer", "null"]},
        "meetings_held": {"type": "integer"}}},
}
_PID, _MID = doc.path_id("programme_id"), doc.path_id("programme_match_id")
_MATCH = doc.json_response("The pair.", doc.data_envelope(doc.ref("ProgrammeMatch")))

doc.register_paths(
    {
        "/programmes": {
            "get": doc.operation("listProgrammes", "Programmes", "List buddy and mentor programmes",
                                 "Every programme's settings; HR tokens also get each one's figures.",
                                 {"200": doc.json_response("The programmes.", doc.data_envelope(
                                     {"type": "array", "items": doc.ref("Programme")}))}, (401,)),
        },
        "/programmes/{programme_id}": {
            "get": doc.operation("getProgramme", "Programmes", "Get one programme",
                                 "Its settings; HR tokens also get its figures.",
                                 {"200": doc.json_response("The programme.",
                                                           doc.data_envelope(doc.ref("Programme")))},
                                 (401, 404), parameters=[_PID]),
        },
        "/programmes/{programme_id}/suggestions": {
            "get": doc.operation(
                "listProgrammeSuggestions", "Programmes", "Suggested buddies or mentors for a person",
                "Best first, each with its reasons. Left out: the person's manager and reports, people not "
                "at work now, people under the programme's tenure, people at the load cap. HR tokens for "
                "anyone; managers for their own reports, in buddy programmes only.",
                {"200": doc.json_response("The suggestions.", doc.data_envelope(
                    {"type": "array", "items": doc.ref("ProgrammeSuggestion")}))},
                (400, 401, 403, 404), parameters=[_PID, {
                    "name": "employee_id", "in": "query", "required": True, "schema": {"type": "integer"},
                    "description": "The person who needs a buddy or mentor."}]),
        },
        "/programmes/{programme_id}/matches": {
            "post": doc.operation(
                "createProgrammeMatch", "Programmes", "Pair a person with a buddy or mentor",
                "All or nothing: the support assignment, the enrolment in the programme's journey and the "
                "pair's meetings (owned by the buddy or mentor). A partner at the programme's load cap is "
                "refused with 422 and `error.fields.partner_id`, even when two requests race.",
                {"201": _MATCH}, (401, 403, 404, 409, 415, 422),
                body={"type": "object", "required": ["employee_id", "partner_id"], "properties": {
                    "employee_id": {"type": "integer"}, "partner_id": {"type": "integer"}}},
                parameters=[_PID]),
        },
        "/programme-matches/{programme_match_id}/end": {
            "post": doc.operation(
                "endProgrammeMatch", "Programmes", "End a pair",
                "Either person in the pair, or an HR partner. The pair's coming meetings are cancelled and "
                "the other side gets a kind note in the app, with `note` if given (up to 280 characters).",
                {"200": _MATCH}, (401, 403, 404, 409, 415, 422),
                body={"type": "object", "required": ["reason"], "properties": {
                    "reason": _enum(EndReason), "note": {"type": ["string", "null"], "maxLength": 280}}},
                parameters=[_MID]),
        },
        "/me/programme-matches": {
            "get": doc.operation("listMyProgrammeMatches", "Programmes", "My buddy and mentor pairs",
                                 "The token's person's pairs on either side, live first, with meetings held.",
                                 {"200": doc.json_response("The pairs.", doc.data_envelope(
                                     {"type": "array", "items": doc.ref("ProgrammeMatch")}))}, (401,)),
        },
    },
    _SCHEMAS,
    tags={"Programmes": "Buddy and mentor programmes: suggestions with reasons, pairs, their meetings."},
)
