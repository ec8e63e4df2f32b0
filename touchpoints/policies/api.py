"""Human-touch policies over the API: list, get, create and update (with dry run), activate, restore,
evaluate, and the overrides. Policies are HR's: other tokens get 403; compliance follows the pages
(HR everyone, managers their reports without grievances, employees nothing).
"""
from __future__ import annotations

from typing import Any

from flask import g, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from touchpoints.api import openapi as doc
from touchpoints.api.auth import api_token_required
from touchpoints.api.helpers import (
    ApiProblem,
    iso,
    not_found,
    paginated,
    query_int,
    read_json_object,
    require_hr,
)
from touchpoints.api.views import bp
from touchpoints.extensions import db
from touchpoints.journeys.models import Mode, TouchpointKind
from touchpoints.people.models import LifecycleStatus
from touchpoints.policies import compliance, services
from touchpoints.policies.engine import ComplianceReport, TeamViolation, Violation
from touchpoints.policies.models import Policy, PolicyOverride, PolicyVersion, Severity, VersionStatus
from touchpoints.policies.rules import POLICY_FIELDS, RULE_KINDS

MAX_DRY_RUN_ITEMS = 1000
TRUE = ("1", "true", "yes")


def _policy(policy_id: int) -> Policy:
    policy = services.get_policy(policy_id)
    if policy is None:
        raise not_found("policy")
    return policy


def _dry_run_requested() -> bool:
    raw = request.args.get("dry_run", "").strip().lower()
    if raw and raw not in (*TRUE, "0", "false", "no"):
        raise ApiProblem(400, "The query parameter dry_run must be true or false.",
                         {"dry_run": "Use true or false."})
    return raw in TRUE


def version_json(version: PolicyVersion) -> dict[str, Any]:
    """A version: its definition in the policy-file shape, its status and history."""
    spec = services.spec_of(version)
    return {
        "number": version.number, "status": version.status.value, **spec.as_data(),
        "summary": spec.rule.describe(spec.scope), "change_note": version.change_note,
        "created_at": iso(version.created_at), "created_by_id": version.created_by_id,
        "activated_at": iso(version.activated_at), "ended_at": iso(version.ended_at),
    }


def policy_json(policy: Policy) -> dict[str, Any]:
    """A policy with its enforced version, its draft and the list of its versions."""
    active, draft = services.active_version(policy), services.draft_version(policy)
    return {
        "id": policy.id, "key": policy.key, "name": policy.name,
        "active": version_json(active) if active else None,
        "draft": version_json(draft) if draft else None,
        "versions": [{"number": v.number, "status": v.status.value, "created_at": iso(v.created_at),
                      "activated_at": iso(v.activated_at)} for v in policy.versions],
        "created_at": iso(policy.created_at),
    }


def violation_json(violation: Violation, report: ComplianceReport) -> dict[str, Any]:
    """One violation with the person it concerns."""
    person = report.people.get(violation.employee_id)
    return {
        "policy_id": violation.policy_id or None, "policy_key": violation.policy_key,
        "policy_name": violation.policy_name, "severity": violation.severity.value,
        "rule": violation.rule_kind,
        "employee": {"id": person.id, "full_name": person.full_name, "team_id": person.team_id,
                     "team": person.team_name, "manager_id": person.manager_id} if person else None,
        "touchpoint_id": violation.touchpoint_id,
        "touchpoint_kind": violation.touchpoint_kind.value if violation.touchpoint_kind else None,
        "detail": violation.detail, "since": violation.since.isoformat(),
    }


def dry_run_json(result: services.DryRun) -> dict[str, Any]:
    """The impact of a candidate definition, as the dry-run page shows it."""
    items = result.report.violations
    return {
        "people_out_of_compliance": result.people, "violations": result.violations,
        "in_scope": result.in_scope,
        "currently_out_of_compliance": result.current_people,
        "newly_out_of_compliance": result.newly_out, "back_in_compliance": result.back_in,
        "company_people_out_of_compliance_before": result.company_before,
        "company_people_out_of_compliance_after": result.company_after,
        "items": [violation_json(v, result.report) for v in items[:MAX_DRY_RUN_ITEMS]],
        "truncated": len(items) > MAX_DRY_RUN_ITEMS,
        "teams_out_of_compliance": result.teams,
        "team_items": [team_violation_json(t) for t in result.report.team_violations],
    }


def team_violation_json(finding: TeamViolation) -> dict[str, Any]:
    """One team out of compliance with a rule that judges teams."""
    return {"policy_id": finding.policy_id or None, "policy_key": finding.policy_key,
            "policy_name": finding.policy_name, "severity": finding.severity.value, "rule": finding.rule_kind,
            "team": {"id": finding.team_id, "name": finding.team_name}, "detail": finding.detail,
            "last_in_person": finding.last_in_person.isoformat() if finding.last_in_person else None,
            "since": finding.since.isoformat()}


def _definition() -> dict[str, Any]:
    data = read_json_object()
    unknown = {name: "Unknown field." for name in data if name not in (*POLICY_FIELDS, "change_note")}
    if unknown:
        raise ApiProblem(422, "Some fields are not valid.", unknown)
    if "change_note" in data and not isinstance(data["change_note"], str | type(None)):
        raise ApiProblem(422, "Some fields are not valid.", {"change_note": "Send a string."})
    return data


def _invalid(error: services.PolicyValidationError) -> ApiProblem:
    db.session.rollback()
    return ApiProblem(422, "Some fields are not valid.", error.errors)


@bp.get("/policies")
@api_token_required
def list_policies():
    """Every policy with its enforced and draft versions (HR partners)."""
    require_hr("read policies")
    return {"data": [policy_json(row.policy) for row in services.list_policies()]}


@bp.get("/policies/<int:policy_id>")
@api_token_required
def get_policy(policy_id: int):
    """One policy (HR partners)."""
    require_hr("read policies")
    return {"data": policy_json(_policy(policy_id))}


@bp.post("/policies")
@api_token_required
def create_policy():
    """Create a policy as a draft; with ?dry_run=true, only say what it would change."""
    require_hr("create policies")
    data = _definition()
    note = data.pop("change_note", None) or ""
    if _dry_run_requested():
        try:
            spec = services.check_definition(data)
        except services.PolicyValidationError as error:
            raise _invalid(error) from None
        if services.policy_by_key(spec.key) is not None:
            raise ApiProblem(422, "Some fields are not valid.", {"key": f"'{spec.key}' is already used."})
        return {"data": {"dry_run": dry_run_json(services.dry_run(spec))}}
    try:
        version = services.create_policy(data, actor_id=g.api_user.id, change_note=note)
    except services.PolicyValidationError as error:
        raise _invalid(error) from None
    db.session.commit()
    policy_id = version.policy_id
    db.session.expire_all()
    location = url_for("api.get_policy", policy_id=policy_id, _external=True)
    return {"data": policy_json(_policy(policy_id))}, 201, {"Location": location}


@bp.patch("/policies/<int:policy_id>")
@api_token_required
def update_policy(policy_id: int):
    """Change a policy: fields sent replace the latest definition's and become the draft.

    With ?dry_run=true nothing is written and the answer is the change's impact.
    """
    require_hr("change policies")
    policy = _policy(policy_id)
    data = _definition()
    note = data.pop("change_note", None) or ""
    if "key" in data and data["key"] != policy.key:
        raise ApiProblem(422, "Some fields are not valid.", {"key": "A policy's key never changes."})
    base = services.draft_version(policy) or services.active_version(policy) or policy.versions[-1]
    merged = {**services.spec_of(base).as_data(), **data}
    if _dry_run_requested():
        try:
            spec = services.check_definition(merged, key=policy.key)
        except services.PolicyValidationError as error:
            raise _invalid(error) from None
        return {"data": {"dry_run": dry_run_json(services.dry_run(spec, policy=policy))}}
    try:
        services.save_draft(policy, merged, actor_id=g.api_user.id, change_note=note)
    except services.PolicyValidationError as error:
        raise _invalid(error) from None
    db.session.commit()
    db.session.expire_all()
    return {"data": policy_json(_policy(policy_id))}


@bp.get("/policies/<int:policy_id>/dry-run")
@api_token_required
def dry_run_policy(policy_id: int):
    """The impact of activating the policy's draft, with today's data."""
    require_hr("read policies")
    policy = _policy(policy_id)
    draft = services.draft_version(policy)
    if draft is None:
        raise ApiProblem(409, f"{policy.name} has no draft: PATCH it to make one.")
    return {"data": {"version": draft.number, "dry_run": dry_run_json(services.dry_run_version(draft))}}


@bp.post("/policies/<int:policy_id>/activate")
@api_token_required
def activate_policy(policy_id: int):
    """Activate the draft; send {"version": n} to be sure it is the draft whose dry run you read."""
    require_hr("activate policies")
    policy = _policy(policy_id)
    data = read_json_object() if request.content_length else {}
    draft = services.draft_version(policy)
    if draft is None:
        raise ApiProblem(409, f"{policy.name} has no draft to activate.")
    wanted = data.get("version")
    if wanted is not None and (isinstance(wanted, bool) or not isinstance(wanted, int)):
        raise ApiProblem(422, "Some fields are not valid.", {"version": "Send the draft's version number."})
    if wanted is not None and wanted != draft.number:
        raise ApiProblem(409, f"The draft is version {draft.number}, not {wanted}: read its dry run again.",
                         {"version": f"The draft is version {draft.number}."})
    services.activate(draft, actor_id=g.api_user.id)
    db.session.commit()
    db.session.expire_all()
    return {"data": policy_json(_policy(policy_id))}


@bp.post("/policies/<int:policy_id>/switch-off")
@api_token_required
def switch_off_policy(policy_id: int):
    """Stop enforcing a policy (its versions stay and can be restored)."""
    require_hr("switch policies off")
    policy = _policy(policy_id)
    try:
        services.switch_off(policy, actor_id=g.api_user.id)
    except services.PolicyStateError as error:
        db.session.rollback()
        raise ApiProblem(409, str(error)) from None
    db.session.commit()
    db.session.expire_all()
    return {"data": policy_json(_policy(policy_id))}


@bp.get("/policies/<int:policy_id>/versions/<int:number>")
@api_token_required
def get_policy_version(policy_id: int, number: int):
    """One version of a policy, as it was written."""
    require_hr("read policies")
    version = services.version_of(_policy(policy_id), number)
    if version is None:
        raise not_found("policy version")
    return {"data": version_json(version)}


@bp.post("/policies/<int:policy_id>/versions/<int:number>/restore")
@api_token_required
def restore_policy_version(policy_id: int, number: int):
    """Copy an older version into the draft (then read its dry run and activate it)."""
    require_hr("restore policies")
    policy = _policy(policy_id)
    version = services.version_of(policy, number)
    if version is None:
        raise not_found("policy version")
    if version.status is VersionStatus.DRAFT:
        raise ApiProblem(409, f"Version {number} is the draft already.")
    services.restore(version, actor_id=g.api_user.id)
    db.session.commit()
    db.session.expire_all()
    return {"data": policy_json(_policy(policy_id))}


def _filter_report(report: ComplianceReport) -> ComplianceReport:
    problems: dict[str, str] = {}
    values: dict[str, int | None] = {}
    for name in ("policy_id", "team_id", "employee_id"):
        raw = request.args.get(name, "").strip()
        if raw and not raw.isdigit():
            problems[name] = "Use a whole number."
        values[name] = int(raw) if raw.isdigit() else None
    if problems:
        raise ApiProblem(400, "Some query parameters are not valid.", problems)
    found = [v for v in report.violations
             if (values["policy_id"] is None or v.policy_id == values["policy_id"])
             and (values["employee_id"] is None or v.employee_id == values["employee_id"])
             and (values["team_id"] is None
                  or getattr(report.people.get(v.employee_id), "team_id", None) == values["team_id"])]
    teams = [t for t in report.team_violations
             if (values["policy_id"] is None or t.policy_id == values["policy_id"])
             and values["employee_id"] is None
             and (values["team_id"] is None or t.team_id == values["team_id"])]
    return ComplianceReport(report.now, report.policies, found, report.people, report.in_scope, teams)


@bp.get("/compliance")
@api_token_required
def evaluate_compliance():
    """Evaluate the active policies now: counts by policy, team and manager, and the violations.

    HR tokens see everyone; managers their direct and indirect reports, never grievance matters.
    """
    user = g.api_user
    if not (user.is_hr or user.is_manager):
        raise ApiProblem(403, "Only HR partners and managers may read compliance.")
    report = _filter_report(compliance.report_for(user))
    page = query_int("page", 1)
    per_page = min(query_int("per_page", 50), 200)
    items = report.violations[(page - 1) * per_page: page * per_page]
    return {
        "data": {
            "evaluated_at": iso(report.now),
            "people_out_of_compliance": report.people_out_of_compliance,
            "violations": len(report.violations),
            "by_policy": [{"policy_id": p.policy_id, "key": p.key, "name": p.name,
                           "severity": p.severity.value, "rule": p.rule_kind, "violations": count,
                           "people": people, "in_scope": report.in_scope.get(p.policy_id, 0)}
                          for p, count, people in report.by_policy()],
            "by_team": [{"team_id": tid, "team": name, "violations": count, "people": people}
                        for tid, name, count, people in report.by_team()],
            "by_manager": [{"manager_id": mid, "manager": name, "violations": count, "people": people}
                           for mid, name, count, people in report.by_manager()],
            "items": [violation_json(v, report) for v in items],
            "teams_out_of_compliance": len(report.team_violations),
            "team_items": [team_violation_json(t) for t in report.team_violations],
        },
        "meta": {"page": page, "per_page": per_page, "total": len(report.violations)},
    }


def override_json(override) -> dict[str, Any]:
    return {"id": override.id, "created_at": iso(override.created_at), "policy_id": override.policy_id,
            "policy_name": override.policy.name, "version": override.version.number,
            "touchpoint_id": override.touchpoint_id, "employee_id": override.employee_id,
            "employee": override.employee.full_name, "action": override.action, "mode": override.mode,
            "reason": override.reason, "justification": override.justification,
            "by": override.actor.employee.full_name if override.actor else None}


@bp.get("/policy-overrides")
@api_token_required
def list_overrides():
    """Every override HR granted, newest first (HR partners)."""
    require_hr("read overrides")
    query = (select(PolicyOverride).options(
        joinedload(PolicyOverride.policy), joinedload(PolicyOverride.version),
        joinedload(PolicyOverride.employee), joinedload(PolicyOverride.actor))
        .order_by(PolicyOverride.created_at.desc(), PolicyOverride.id.desc()))
    return paginated(query, override_json)


# -- The OpenAPI description ---------------------------------------------------------------------

def _enum(values) -> dict[str, Any]:
    return {"type": "string", "enum": [v.value if hasattr(v, "value") else v for v in values]}


_DATETIME = {"type": ["string", "null"], "format": "date-time"}
_KINDS = {"type": "array", "items": _enum(TouchpointKind)}
_DEFINITION_PROPERTIES: dict[str, Any] = {
    "key": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,63}$",
            "description": "Stable short name; never changes."},
    "name": {"type": "string", "maxLength": 120, "description": "Read by people in refusals."},
    "rule": _enum(RULE_KINDS),
    "severity": _enum(Severity),
    "description": {"type": "string", "maxLength": 2000},
    "scope": {"type": "object", "description": "An empty list means all.", "properties": {
        "kinds": _KINDS, "stages": {"type": "array", "items": _enum(LifecycleStatus)},
        "teams": {"type": "array", "items": {"type": "string"}},
        "locations": {"type": "array", "items": {"type": "string"}}}},
    "params": {"type": "object", "description": (
        "Per rule: required_modes {modes, lookback_days}; channel_guidelines {forbidden_modes, "
        "lookback_days}; maximum_gap {days}; first_days_contact {days (working days), meet "
        "[manager, buddy], lookback_days}; follow_up_pairing {days, follow_up_kinds, lookback_days}; "
        "automation_streak {max_in_a_row}; quiet_hours {working_days_only, "
        "respect_personal_quiet_hours}. Modes: " + ", ".join(m.value for m in Mode) + "."),
        "additionalProperties": True},
}
_VERSION = {"type": "object", "properties": {
    "number": {"type": "integer"}, "status": _enum(VersionStatus), **_DEFINITION_PROPERTIES,
    "summary": {"type": "string", "description": "What the rule asks, in words."},
    "change_note": {"type": "string"}, "created_at": _DATETIME,
    "created_by_id": {"type": ["integer", "null"]},
    "activated_at": _DATETIME, "ended_at": _DATETIME}}
_VIOLATION = {"type": "object", "properties": {
    "policy_id": {"type": ["integer", "null"]}, "policy_key": {"type": "string"},
    "policy_name": {"type": "string"}, "severity": _enum(Severity), "rule": _enum(RULE_KINDS),
    "employee": {"type": ["object", "null"]}, "touchpoint_id": {"type": ["integer", "null"]},
    "touchpoint_kind": {"type": ["string", "null"]}, "detail": {"type": "string"},
    "since": {"type": "string", "format": "date", "description": "In the person's own time zone."}}}
_DRY_RUN = {"type": "object", "properties": {
    "people_out_of_compliance": {"type": "integer"}, "violations": {"type": "integer"},
    "in_scope": {"type": "integer"}, "currently_out_of_compliance": {"type": ["integer", "null"]},
    "newly_out_of_compliance": {"type": "array", "items": {"type": "integer"}},
    "back_in_compliance": {"type": "array", "items": {"type": "integer"}},
    "company_people_out_of_compliance_before": {"type": "integer"},
    "company_people_out_of_compliance_after": {"type": "integer"},
    "items": {"type": "array", "items": doc.ref("PolicyViolation")},
    "truncated": {"type": "boolean"},
    "teams_out_of_compliance": {"type": "integer",
                                "description": "Rules that judge teams (team_meets_in_person)."},
    "team_items": {"type": "array", "items": doc.ref("PolicyTeamViolation")}}}
_TEAM_VIOLATION = {"type": "object", "properties": {
    "policy_id": {"type": ["integer", "null"]}, "policy_key": {"type": "string"},
    "policy_name": {"type": "string"}, "severity": _enum(Severity), "rule": _enum(RULE_KINDS),
    "team": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
    "detail": {"type": "string"},
    "last_in_person": {"type": ["string", "null"], "format": "date"},
    "since": {"type": "string", "format": "date"}}}
_SCHEMAS = {
    "PolicyDefinition": {"type": "object", "required": ["key", "name", "rule"],
                         "properties": {**_DEFINITION_PROPERTIES, "change_note": {"type": "string"}}},
    "PolicyChange": {"type": "object", "description": "Fields left out keep the latest definition's value.",
                     "properties": {**_DEFINITION_PROPERTIES, "change_note": {"type": "string"}}},
    "PolicyVersion": _VERSION,
    "Policy": {"type": "object", "properties": {
        "id": {"type": "integer"}, "key": {"type": "string"}, "name": {"type": "string"},
        "active": {"oneOf": [doc.ref("PolicyVersion"), {"type": "null"}]},
        "draft": {"oneOf": [doc.ref("PolicyVersion"), {"type": "null"}]},
        "versions": {"type": "array", "items": {"type": "object"}}, "created_at": _DATETIME}},
    "PolicyViolation": _VIOLATION,
    "PolicyTeamViolation": _TEAM_VIOLATION,
    "PolicyDryRun": _DRY_RUN,
    "PolicyOverride": {"type": "object", "properties": {
        "id": {"type": "integer"}, "created_at": _DATETIME, "policy_id": {"type": "integer"},
        "policy_name": {"type": "string"}, "version": {"type": "integer"},
        "touchpoint_id": {"type": "integer"},
        "employee_id": {"type": "integer"}, "employee": {"type": "string"}, "action": _enum(["log", "plan"]),
        "mode": _enum(Mode), "reason": {"type": "string"}, "justification": {"type": "string"},
        "by": {"type": ["string", "null"]}}},
    "Compliance": {"type": "object", "properties": {
        "evaluated_at": _DATETIME, "people_out_of_compliance": {"type": "integer"},
        "violations": {"type": "integer"}, "by_policy": {"type": "array", "items": {"type": "object"}},
        "by_team": {"type": "array", "items": {"type": "object"}},
        "by_manager": {"type": "array", "items": {"type": "object"}},
        "items": {"type": "array", "items": doc.ref("PolicyViolation")},
        "teams_out_of_compliance": {"type": "integer"},
        "team_items": {"type": "array", "items": doc.ref("PolicyTeamViolation")}}},
}


_DRY_RUN_PARAM = {"name": "dry_run", "in": "query", "required": False,
                  "description": "true: write nothing and answer with the impact (a PolicyDryRun).",
                  "schema": {"type": "string", "enum": ["true", "false"], "default": "false"}}
_ONE = doc.json_response("The policy.", doc.data_envelope(doc.ref("Policy")))
_DRY = doc.json_response("The policy, or with dry_run=true its impact: {\"data\": {\"dry_run\": …}}.",
                         doc.data_envelope({"oneOf": [doc.ref("Policy"), {
                             "type": "object", "properties": {"dry_run": doc.ref("PolicyDryRun")}}]}))
_PID, _NUM = doc.path_id("policy_id"), doc.path_id("number")

doc.register_paths(
    {
        "/policies": {
            "get": doc.operation("listPolicies", "Policies", "List policies (HR partners)",
                       "Every policy with its enforced (`active`) and `draft` versions.",
                       {"200": doc.json_response("The policies.", doc.data_envelope(
                           {"type": "array", "items": doc.ref("Policy")}))}, (401, 403)),
            "post": doc.operation("createPolicy", "Policies", "Create a policy (HR partners)",
                        "Creates the policy with its first version as a draft; nothing is enforced until "
                        "it is activated. Errors name each field, e.g. `params.days`.",
                        {"201": _DRY, "200": _DRY}, (400, 401, 403, 415, 422),
                        body=doc.ref("PolicyDefinition"), parameters=[_DRY_RUN_PARAM]),
        },
        "/policies/{policy_id}": {
            "get": doc.operation("getPolicy", "Policies",
                                 "Get one policy (HR partners)", "With its versions.",
                       {"200": _ONE}, (401, 403, 404), parameters=[_PID]),
            "patch": doc.operation("updatePolicy", "Policies", "Change a policy (HR partners)",
                         "The fields sent replace those of the latest definition and become the draft "
                         "(a new version number). With `dry_run=true`, nothing is written and the answer is "
                         "the impact of the change.",
                         {"200": _DRY}, (400, 401, 403, 404, 415, 422), body=doc.ref("PolicyChange"),
                         parameters=[_PID, _DRY_RUN_PARAM]),
        },
        "/policies/{policy_id}/dry-run": {
            "get": doc.operation("dryRunPolicy", "Policies", "Dry run of the draft (HR partners)",
                       "Who and what activating the draft would put out of compliance with today's data: "
                       "the same figures the evaluation gives after activation.",
                       {"200": doc.json_response("The impact.", doc.data_envelope({
                           "type": "object", "properties": {"version": {"type": "integer"},
                                                            "dry_run": doc.ref("PolicyDryRun")}}))},
                       (401, 403, 404, 409), parameters=[_PID]),
        },
        "/policies/{policy_id}/activate": {
            "post": doc.operation("activatePolicy", "Policies", "Activate the draft (HR partners)",
                        "Enforces the draft from now on; the version enforced until now is superseded. Send "
                        "`{\"version\": n}` to refuse (409) if the draft changed since you read its dry run.",
                        {"200": _ONE}, (401, 403, 404, 409, 415, 422),
                        body={"type": "object", "properties": {"version": {"type": "integer"}}},
                        parameters=[_PID]),
        },
        "/policies/{policy_id}/switch-off": {
            "post": doc.operation("switchOffPolicy", "Policies", "Switch a policy off (HR partners)",
                        "Stops enforcing and evaluating it; its versions stay and can be restored.",
                        {"200": _ONE}, (401, 403, 404, 409), parameters=[_PID]),
        },
        "/policies/{policy_id}/versions/{number}": {
            "get": doc.operation("getPolicyVersion", "Policies",
                                 "Get one version (HR partners)", "As it was written.",
                       {"200": doc.json_response("The version.",
                                                 doc.data_envelope(doc.ref("PolicyVersion")))},
                       (401, 403, 404), parameters=[_PID, _NUM]),
        },
        "/policies/{policy_id}/versions/{number}/restore": {
            "post": doc.operation("restorePolicyVersion", "Policies",
                                  "Restore an older version (HR partners)",
                        "Copies it into the draft; read the draft's dry run, then activate it.",
                        {"200": _ONE}, (401, 403, 404, 409), parameters=[_PID, _NUM]),
        },
        "/compliance": {
            "get": doc.operation("evaluateCompliance", "Policies",
                                 "Evaluate the policies now (HR partners and managers)",
                       "Counts by policy, team and manager, and one page of violations. HR tokens see "
                       "everyone; managers their direct and indirect reports, never grievance matters.",
                       {"200": doc.json_response("The evaluation.", {
                           "type": "object", "properties": {"data": doc.ref("Compliance"),
                                                            "meta": doc.ref("PageMeta")}})},
                       (400, 401, 403), parameters=[
                           *doc.PAGE_PARAMETERS,
                           {"name": "policy_id", "in": "query", "schema": {"type": "integer"}},
                           {"name": "team_id", "in": "query", "schema": {"type": "integer"}},
                           {"name": "employee_id", "in": "query", "schema": {"type": "integer"}}]),
        },
        "/policy-overrides": {
            "get": doc.operation("listPolicyOverrides", "Policies", "List overrides (HR partners)",
                       "Every time an HR partner let through what a blocking policy refused, newest first.",
                       {"200": doc.json_response("One page of overrides.",
                                                 doc.page_envelope(doc.ref("PolicyOverride")))},
                       (400, 401, 403), parameters=doc.PAGE_PARAMETERS),
        },
    },
    _SCHEMAS,
    tags={"Policies": "Human-touch policies: versioned rules, dry runs, activation, compliance, overrides."},
)
