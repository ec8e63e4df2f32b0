"""Surveys over the API: surveys and rounds, answering as the token's person, aggregated results.

Answers go through `services.submit_response` and results through the anonymity layer, exactly
as on the pages: the API shows nothing a page would hide, and comments are never exported.
"""
from __future__ import annotations

from typing import Any

from flask import g, request
from sqlalchemy import func, select

from touchpoints.api import openapi as doc
from touchpoints.api.auth import api_token_required
from touchpoints.api.helpers import ApiProblem, check_types, iso, not_found, read_json_object, split_csv
from touchpoints.api.views import bp
from touchpoints.extensions import db
from touchpoints.surveys import anonymity, services
from touchpoints.surveys.anonymity import DIMENSIONS, FilterError, GroupResult, QuestionResult
from touchpoints.surveys.models import (
    AudienceKind,
    QuestionKind,
    RoundStatus,
    Survey,
    SurveyParticipation,
    SurveyQuestion,
    SurveyRound,
)

ROUND_FIELDS = {
    "opens_on": "string", "open_days": "integer", "audience_kind": "string", "team_ids": "array",
    "stages": "array", "milestone_days": "integer?", "milestone_window_days": "integer?",
    "repeat_every_days": "integer?", "min_group_size": "integer", "send_reminder": "boolean",
}


def _require_results_reader() -> None:
    if not (g.api_user.is_hr or g.api_user.is_manager):
        raise ApiProblem(403, "Only HR partners and managers read surveys and their results.")


def question_json(q: SurveyQuestion) -> dict[str, Any]:
    """A question as a respondent or an integration sees it."""
    scale = q.kind.scale
    return {"key": q.key, "position": q.position, "kind": q.kind.value, "prompt": q.prompt,
            "help_text": q.help_text, "audience": q.audience.value,
            "counts_toward_connection": q.counts_toward_connection,
            "scale": {"min": scale.start, "max": scale.stop - 1} if scale else None,
            "choices": [dict(c) for c in q.choices] if q.kind is QuestionKind.SINGLE_CHOICE else [],
            "required": q.kind is not QuestionKind.SHORT_TEXT}


def survey_json(survey: Survey, *, with_questions: bool = False) -> dict[str, Any]:
    """A survey; its current version's questions when asked for."""
    body: dict[str, Any] = {
        "id": survey.id, "key": survey.key, "title": survey.title, "description": survey.description,
        "alert_below": survey.alert_below, "alert_drop": survey.alert_drop,
        "version": survey.current_version.number, "archived": survey.archived_at is not None,
    }
    if with_questions:
        body["questions"] = [question_json(q) for q in survey.current_version.questions]
    return body


def round_json(r: SurveyRound, *, responded: int | None = None) -> dict[str, Any]:
    """A round's plan and status; `responded` only where the reader may see participation."""
    return {
        "id": r.id, "survey_id": r.survey_id, "sequence": r.sequence, "label": r.label,
        "status": r.status.value, "opens_at": iso(r.opens_at), "closes_at": iso(r.closes_at),
        "remind_at": iso(r.remind_at), "repeat_every_days": r.repeat_every_days,
        "min_group_size": r.min_group_size,
        "audience": {"kind": r.audience_kind.value, "team_ids": list(r.audience_team_ids or []),
                     "stages": list(r.audience_stages or []), "milestone_days": r.milestone_days,
                     "milestone_window_days": r.milestone_window_days},
        "invited": r.invited_count if r.status in (RoundStatus.OPEN, RoundStatus.CLOSED) else None,
        "responded": responded,
        "results_available": r.status is RoundStatus.CLOSED and r.results_built_at is not None,
    }


def _survey(survey_id: int) -> Survey:
    survey = db.session.get(Survey, survey_id)
    if survey is None:
        raise not_found("survey")
    return survey


def _responded(round_ids: list[int]) -> dict[int, int]:
    if not round_ids:
        return {}
    return dict(db.session.execute(select(SurveyParticipation.round_id, func.count())
                                   .where(SurveyParticipation.round_id.in_(round_ids))
                                   .group_by(SurveyParticipation.round_id)).all())


@bp.get("/surveys")
@api_token_required
def list_surveys():
    """Every survey (HR partners and managers)."""
    _require_results_reader()
    surveys = db.session.scalars(select(Survey).order_by(Survey.title)).all()
    return {"data": [survey_json(s) for s in surveys]}


@bp.get("/surveys/<int:survey_id>")
@api_token_required
def get_survey(survey_id: int):
    """One survey with the questions of its current version."""
    _require_results_reader()
    return {"data": survey_json(_survey(survey_id), with_questions=True)}


@bp.get("/surveys/<int:survey_id>/rounds")
@api_token_required
def list_rounds(survey_id: int):
    """A survey's rounds, newest first, with participation counts for HR partners."""
    _require_results_reader()
    _survey(survey_id)
    rounds = db.session.scalars(select(SurveyRound).where(SurveyRound.survey_id == survey_id)
                                .order_by(SurveyRound.sequence.desc())).all()
    responded = _responded([r.id for r in rounds]) if g.api_user.is_hr else {}
    return {"data": [round_json(r, responded=responded.get(r.id, 0) if g.api_user.is_hr else None)
                     for r in rounds]}


@bp.post("/surveys/<int:survey_id>/rounds")
@api_token_required
def create_round(survey_id: int):
    """Plan a round (HR partners); days are in the token's person's time zone."""
    if not g.api_user.is_hr:
        raise ApiProblem(403, "Only HR partners may plan survey rounds.")
    survey = _survey(survey_id)
    data = read_json_object()
    lists = {k: v for k, v in data.items() if ROUND_FIELDS.get(k) == "array"}
    problems = check_types({k: v for k, v in data.items() if k not in lists},
                           {k: t for k, t in ROUND_FIELDS.items() if t != "array"})
    for name, value in lists.items():
        if not isinstance(value, list):
            problems[name] = "Send a list."
    if problems:
        # Report everything at once: the service's verdict on the well-formed fields as well.
        try:
            services.plan_round({k: v for k, v in data.items() if k not in problems},
                                tz=g.api_user.employee.timezone)
        except services.SurveyValidationError as error:
            problems = {**error.errors, **problems}
        raise ApiProblem(422, "Some fields are not valid.", problems)
    try:
        round_ = services.schedule_round(survey, data, tz=g.api_user.employee.timezone,
                                         actor_id=g.api_user.id)
    except services.SurveyValidationError as error:
        db.session.rollback()
        raise ApiProblem(422, "Some fields are not valid.", error.errors) from None
    db.session.commit()
    return {"data": round_json(round_)}, 201


def _visible_round(round_id: int) -> tuple[SurveyRound, Any]:
    """A round the token's person may see: as HR or a manager, or because they were invited."""
    round_ = db.session.get(SurveyRound, round_id)
    invitation = services.invitation_for(round_id, g.api_user.employee_id) if round_ else None
    if round_ is None or not (g.api_user.is_hr or g.api_user.is_manager or invitation):
        raise not_found("round")
    return round_, invitation


@bp.get("/rounds/<int:round_id>")
@api_token_required
def get_round(round_id: int):
    """A round; for an invited person, the questions they are asked and whether they answered."""
    round_, invitation = _visible_round(round_id)
    body = round_json(round_)
    if invitation is not None:
        body["you"] = {"invited": True, "answered": services.has_answered(round_id, g.api_user.employee_id),
                       "questions": [question_json(q) for q in
                                     services.questions_for(round_, new_hire=invitation.new_hire)]}
    return {"data": body}


@bp.get("/me/surveys")
@api_token_required
def my_open_surveys():
    """The open rounds waiting for the token's person to answer."""
    return {"data": [{"round": round_json(item.round), "survey": survey_json(item.survey),
                      "reminded": item.reminded}
                     for item in services.open_invitations(g.api_user.employee_id)]}


@bp.post("/rounds/<int:round_id>/responses")
@api_token_required
def submit(round_id: int):
    """Answer a round as the token's person: once, anonymously."""
    data = read_json_object()
    unknown = set(data) - {"answers"}
    if unknown or not isinstance(data.get("answers"), dict):
        problems = {name: "Unknown field." for name in unknown}
        if not isinstance(data.get("answers"), dict):
            problems["answers"] = "Send the answers as an object of question key to value."
        raise ApiProblem(422, "Some fields are not valid.", problems)
    if services.invitation_for(round_id, g.api_user.employee_id) is None:
        raise not_found("round")
    try:
        receipt = services.submit_response(round_id, g.api_user.employee_id, data["answers"])
    except services.AnswerValidationError as error:
        raise ApiProblem(422, "Some answers are not valid.",
                         {f"answers.{key}": message for key, message in error.errors.items()}) from None
    except services.SubmissionError as error:
        raise ApiProblem(409, str(error)) from None
    return {"data": {"round_id": receipt.round_id, "answered_on": iso(receipt.responded_on),
                     "answers": receipt.answers,
                     "note": "Stored without your name or a time; counted only in groups large enough "
                             "to keep it anonymous."}}, 201


def _question_result_json(r: QuestionResult) -> dict[str, Any]:
    body: dict[str, Any] = {"key": r.question.key, "prompt": r.question.prompt, "kind": r.question.kind.value,
                            "shown": r.shown, "refusal": _refusal_json(r.refusal)}
    if r.shown:
        body.update({"answers": r.n, "mean": r.mean, "favourable": r.favourable,
                     "enps": _enps_json(r.enps),
                     "distribution": [{"value": b.value, "label": b.label, "count": b.count, "share": b.share}
                                      for b in r.buckets]})
    return body


def _refusal_json(refusal: anonymity.Refusal | None) -> dict[str, str] | None:
    return {"code": refusal.code, "message": refusal.message} if refusal else None


def _enps_json(enps: anonymity.Enps | None) -> dict[str, Any] | None:
    if enps is None:
        return None
    return {"score": enps.score, "promoters": enps.promoters, "passives": enps.passives,
            "detractors": enps.detractors, "answers": enps.n}


def group_json(group: GroupResult) -> dict[str, Any]:
    """One group's aggregates, or why they are hidden."""
    body: dict[str, Any] = {
        "group": dict(zip(DIMENSIONS, group.node, strict=True)), "label": group.label,
        "invited": group.invited, "respondents": group.respondents, "shown": group.shown,
        "refusal": _refusal_json(group.refusal),
    }
    if group.shown:
        body.update({"connection": group.connection, "enps": _enps_json(group.enps),
                     "comments": group.comments,
                     "questions": [_question_result_json(q) for q in group.questions]})
    return body


@bp.get("/rounds/<int:round_id>/results")
@api_token_required
def round_results(round_id: int):
    """Aggregated results of closed rounds, through the same anonymity rules as the pages."""
    _require_results_reader()
    round_ = db.session.get(SurveyRound, round_id)
    if round_ is None:
        raise not_found("round")
    rounds = [round_]
    extra = request.args.get("with_rounds", "").strip()
    if extra:
        ids = split_csv(extra)
        if not all(part.isdigit() for part in ids):
            raise ApiProblem(400, "with_rounds takes round ids separated by commas.",
                             {"with_rounds": "Use round ids (whole numbers)."})
        wanted = [int(i) for i in ids]
        others = db.session.scalars(select(SurveyRound).where(SurveyRound.id.in_(wanted))).all()
        if len(others) != len(set(ids)):
            raise ApiProblem(400, "One of with_rounds does not exist.", {"with_rounds": "Unknown round id."})
        rounds += [r for r in others if r.id != round_.id]
    scope = anonymity.scope_for(g.api_user)
    filters = {dim: request.args.get(dim, "") for dim in DIMENSIONS}
    try:
        result = anonymity.group_results(rounds, scope, filters=filters, breakdown=request.args.get("by"))
    except FilterError as error:
        raise ApiProblem(400, "Some query parameters are not valid.", error.errors) from None
    except anonymity.ResultsUnavailable as error:
        raise ApiProblem(409, str(error)) from None
    if result.refusal is not None and result.refusal.code == "not_in_scope" and not result.groups:
        raise ApiProblem(403, result.refusal.message)
    return {"data": {
        "rounds": [{"id": r.id, "label": r.label, "closed_at": iso(r.closed_at)} for r in result.rounds],
        "threshold": result.threshold, "comment_threshold": anonymity.COMMENT_MIN_GROUP_SIZE,
        "filters": result.filters, "breakdown": result.breakdown,
        "slice": group_json(result.slice), "groups": [group_json(gr) for gr in result.groups],
    }}


# ---------------------------------------------------------------------------------------------
# The OpenAPI description

_REFUSAL = {"type": ["object", "null"], "properties": {
    "code": {"type": "string", "enum": ["too_few", "difference", "wider_group_hidden", "round_difference",
                                        "not_in_scope"]},
    "message": {"type": "string"}}, "description": "Why this is hidden; null when shown."}
_ENPS = {"type": ["object", "null"], "properties": {
    "score": {"type": "integer", "minimum": -100, "maximum": 100}, "promoters": {"type": "number"},
    "passives": {"type": "number"}, "detractors": {"type": "number"}, "answers": {"type": "integer"}}}
_QUESTION = {"type": "object", "required": ["key", "kind", "prompt"], "properties": {
    "key": {"type": "string", "description": "Stable across versions; answers are keyed by it."},
    "position": {"type": "integer"},
    "kind": {"type": "string", "enum": [k.value for k in QuestionKind]},
    "prompt": {"type": "string"}, "help_text": {"type": "string"},
    "audience": {"type": "string", "enum": ["everyone", "new_hires"]},
    "counts_toward_connection": {"type": "boolean"},
    "scale": {"type": ["object", "null"],
              "properties": {"min": {"type": "integer"}, "max": {"type": "integer"}}},
    "choices": {"type": "array", "items": {"type": "object", "properties": {
        "key": {"type": "string"}, "label": {"type": "string"}}}},
    "required": {"type": "boolean"}}}
_SURVEY = {"type": "object", "required": ["id", "title"], "properties": {
    "id": {"type": "integer"}, "key": {"type": ["string", "null"]}, "title": {"type": "string"},
    "description": {"type": "string"}, "alert_below": {"type": "number"}, "alert_drop": {"type": "number"},
    "version": {"type": "integer"}, "archived": {"type": "boolean"},
    "questions": {"type": "array", "items": doc.ref("SurveyQuestion")}}}
_ROUND = {"type": "object", "required": ["id", "survey_id", "status"], "properties": {
    "id": {"type": "integer"}, "survey_id": {"type": "integer"}, "sequence": {"type": "integer"},
    "label": {"type": "string"},
    "status": {"type": "string", "enum": [s.value for s in RoundStatus]},
    "opens_at": {"type": "string", "format": "date-time"},
    "closes_at": {"type": "string", "format": "date-time"},
    "remind_at": {"type": ["string", "null"], "format": "date-time"},
    "repeat_every_days": {"type": ["integer", "null"]}, "min_group_size": {"type": "integer"},
    "audience": {"type": "object", "properties": {
        "kind": {"type": "string", "enum": [a.value for a in AudienceKind]},
        "team_ids": {"type": "array", "items": {"type": "integer"}},
        "stages": {"type": "array", "items": {"type": "string"}},
        "milestone_days": {"type": ["integer", "null"]},
        "milestone_window_days": {"type": ["integer", "null"]}}},
    "invited": {"type": ["integer", "null"]},
    "responded": {"type": ["integer", "null"], "description": "HR partners only."},
    "results_available": {"type": "boolean"},
    "you": {"type": "object", "description": "Only for a person the round was sent to.", "properties": {
        "invited": {"type": "boolean"}, "answered": {"type": "boolean"},
        "questions": {"type": "array", "items": doc.ref("SurveyQuestion")}}}}}
_GROUP = {"type": "object", "required": ["group", "label", "shown"], "properties": {
    "group": {"type": "object", "description": "Each dimension's value: '*' for all, '-' for groups too "
                                                "small to record, else the team id, stage or tenure band.",
              "properties": {d: {"type": "string"} for d in DIMENSIONS}},
    "label": {"type": "string"}, "invited": {"type": "integer"}, "respondents": {"type": "integer"},
    "shown": {"type": "boolean"}, "refusal": _REFUSAL,
    "connection": {"type": ["number", "null"], "description": "Mean of the connection questions, 1 to 5."},
    "enps": _ENPS, "comments": {"type": "integer", "description": "How many; the text is never exported."},
    "questions": {"type": "array", "items": {"type": "object", "properties": {
        "key": {"type": "string"}, "prompt": {"type": "string"}, "kind": {"type": "string"},
        "shown": {"type": "boolean"}, "refusal": _REFUSAL, "answers": {"type": "integer"},
        "mean": {"type": ["number", "null"]}, "favourable": {"type": ["number", "null"]}, "enps": _ENPS,
        "distribution": {"type": "array", "items": {"type": "object", "properties": {
            "value": {"type": "string"}, "label": {"type": "string"}, "count": {"type": "integer"},
            "share": {"type": "number"}}}}}}}}}
_RESULTS = {"type": "object", "required": ["slice", "groups"], "properties": {
    "rounds": {"type": "array", "items": {"type": "object", "properties": {
        "id": {"type": "integer"}, "label": {"type": "string"},
        "closed_at": {"type": ["string", "null"], "format": "date-time"}}}},
    "threshold": {"type": "integer"}, "comment_threshold": {"type": "integer"},
    "filters": {"type": "object", "additionalProperties": {"type": "string"}},
    "breakdown": {"type": ["string", "null"]},
    "slice": doc.ref("SurveyGroupResult"),
    "groups": {"type": "array", "items": doc.ref("SurveyGroupResult")}}}
_ID = {"in": "path", "required": True, "schema": {"type": "integer"}}


def _data_list(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": ["data"],
            "properties": {"data": {"type": "array", "items": item}}}


_TAG = ["Surveys"]

doc.register_paths({
    "/surveys": {"get": {
        "operationId": "listSurveys", "tags": _TAG, "summary": "List surveys",
        "description": "Every survey, for HR partners and managers.",
        "responses": {"200": doc.json_response("The surveys.", _data_list(doc.ref("Survey"))),
            **doc.errors(401, 403)}}},
    "/surveys/{survey_id}": {"get": {
        "operationId": "getSurvey", "tags": _TAG, "summary": "A survey with its current questions",
        "parameters": [{"name": "survey_id", **_ID}],
        "responses": {"200": doc.json_response("The survey.", doc.data_envelope(doc.ref("Survey"))),
                      **doc.errors(401, 403, 404)}}},
    "/surveys/{survey_id}/rounds": {
        "get": {
            "operationId": "listSurveyRounds", "tags": _TAG, "summary": "A survey's rounds",
            "parameters": [{"name": "survey_id", **_ID}],
            "responses": {"200": doc.json_response("The rounds, newest first.",
                                                   _data_list(doc.ref("SurveyRound"))),
                **doc.errors(401, 403, 404)}},
        "post": {
            "operationId": "planSurveyRound", "tags": _TAG, "summary": "Plan a round (HR partners)",
            "description": "Days are in the time zone of the token's person; the round opens at the start "
                           "of opens_on and stays open for open_days days. The minimum group size (3-10) "
                           "is locked once the round opens.",
            "parameters": [{"name": "survey_id", **_ID}],
            "requestBody": doc.json_body({"type": "object", "required": ["opens_on"], "properties": {
                "opens_on": {"type": "string", "format": "date"},
                "open_days": {"type": "integer", "minimum": 1, "maximum": services.MAX_OPEN_DAYS,
                              "default": 7},
                "audience_kind": {"type": "string", "enum": [a.value for a in AudienceKind]},
                "team_ids": {"type": "array", "items": {"type": "integer"}},
                "stages": {"type": "array", "items": {"type": "string"}},
                "milestone_days": {"type": ["integer", "null"]},
                "milestone_window_days": {"type": ["integer", "null"]},
                "repeat_every_days": {"type": ["integer", "null"]},
                "min_group_size": {"type": "integer", "minimum": 3, "maximum": 10, "default": 5},
                "send_reminder": {"type": "boolean", "default": True}}}),
            "responses": {"201": doc.json_response("The planned round.",
                                                   doc.data_envelope(doc.ref("SurveyRound"))),
                          **doc.errors(401, 403, 404, 415, 422)}}},
    "/rounds/{round_id}": {"get": {
        "operationId": "getSurveyRound", "tags": _TAG, "summary": "A round",
        "description": "HR partners and managers see any round; anyone else only rounds sent to them, "
                       "with the questions they are asked under `you`.",
        "parameters": [{"name": "round_id", **_ID}],
        "responses": {"200": doc.json_response("The round.", doc.data_envelope(doc.ref("SurveyRound"))),
                      **doc.errors(401, 404)}}},
    "/me/surveys": {"get": {
        "operationId": "listMyOpenSurveys", "tags": _TAG, "summary": "Surveys waiting for me",
        "responses": {"200": doc.json_response(
            "Open rounds the token's person has not answered.",
            _data_list({"type": "object", "properties": {
                "round": doc.ref("SurveyRound"), "survey": doc.ref("Survey"),
                "reminded": {"type": "boolean"}}})),
            **doc.errors(401)}}},
    "/rounds/{round_id}/responses": {"post": {
        "operationId": "answerSurveyRound", "tags": _TAG, "summary": "Answer a round as the token's person",
        "description": "Once per person per round; the answers are stored without the person or a time. "
                       "Scored and single-choice questions are required, short text is optional.",
        "parameters": [{"name": "round_id", **_ID}],
        "requestBody": doc.json_body({"type": "object", "required": ["answers"], "properties": {
            "answers": {"type": "object", "description": "Question key to value: 1-5, 0-10, a choice key, "
                                                         "or text up to 1000 characters.",
                        "additionalProperties": {"type": ["integer", "string"]}}}}),
        "responses": {"201": doc.json_response("Answer received.", doc.data_envelope({
            "type": "object", "properties": {"round_id": {"type": "integer"},
                                             "answered_on": {"type": "string", "format": "date"},
                                             "answers": {"type": "integer"}, "note": {"type": "string"}}})),
                      **doc.errors(401, 404, 409, 415, 422)}}},
    "/rounds/{round_id}/results": {"get": {
        "operationId": "getSurveyRoundResults", "tags": _TAG,
        "summary": "Aggregated results of a closed round",
        "description": "Through the same anonymity rules as the pages: groups show from the round's "
                       "threshold, a group that would reveal a smaller one by subtraction is hidden with "
                       "the reason, managers see only the teams they lead, and comments are never "
                       "exported (only their number).",
        "parameters": [
            {"name": "round_id", **_ID},
            {"name": "by", "in": "query", "description": "Break down by team, stage or tenure.",
             "schema": {"type": "string", "enum": [*DIMENSIONS, "none"]}},
            *[{"name": d, "in": "query", "description": f"Filter to one {d} ('-' for the groups too small "
                                                         "to record).", "schema": {"type": "string"}}
              for d in DIMENSIONS],
            {"name": "with_rounds", "in": "query", "description": "Other closed rounds of the same survey to "
                                                                  "combine, comma-separated ids.",
             "schema": {"type": "string"}}],
        "responses": {"200": doc.json_response("The results.", doc.data_envelope(doc.ref("SurveyResults"))),
                      **doc.errors(400, 401, 403, 404, 409)}}},
}, schemas={"Survey": _SURVEY, "SurveyQuestion": _QUESTION, "SurveyRound": _ROUND,
            "SurveyGroupResult": _GROUP, "SurveyResults": _RESULTS},
    tags={"Surveys": "Pulse surveys: plan rounds, answer anonymously, read aggregated results."})
