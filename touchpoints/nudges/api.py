"""Nudges over the API: one's own notifications (list, mark read); for HR partners the outbox
filtered by state, retrying or dismissing a failed, unknown or dead nudge, and the scheduler's jobs.

Notifications are the token's person's own (someone else's answer 404, as if they did not exist);
the outbox and the jobs are HR's (other tokens get 403), as on the Delivery page.
"""
from __future__ import annotations

from typing import Any

from flask import g, request
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from touchpoints.api import openapi as doc
from touchpoints.api.auth import api_token_required
from touchpoints.api.helpers import ApiProblem, iso, not_found, paginated, read_json_object, require_hr
from touchpoints.api.views import bp
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.models import Touchpoint
from touchpoints.nudges.delivery_page import describe_nudge, job_rows, notification_rows
from touchpoints.nudges.models import PROBLEM_STATUSES, Nudge, NudgeStatus
from touchpoints.nudges.services import NudgeActionError, dismiss_nudge, retry_nudge
from touchpoints.nudges.settings import NudgeSettings

_TAG = "Nudges"
TRUE, FALSE = ("1", "true", "yes"), ("0", "false", "no")
# What HR may filter the outbox by: each state, or "problems" (failed, unknown and dead together).
STATUS_FILTERS: dict[str, tuple[NudgeStatus, ...]] = {
    "problems": PROBLEM_STATUSES,
    **{status.value: (status,) for status in NudgeStatus},
}


def _flag(name: str) -> bool | None:
    raw = request.args.get(name, "").strip().lower()
    if not raw:
        return None
    if raw not in (*TRUE, *FALSE):
        raise ApiProblem(
            400, f"The query parameter {name} must be true or false.", {name: "Use true or false."}
        )
    return raw in TRUE


def _with_touchpoint(query):
    return query.options(
        joinedload(Nudge.touchpoint).joinedload(Touchpoint.employee),
        joinedload(Nudge.touchpoint).joinedload(Touchpoint.owner),
    )


# ---------------------------------------------------------------- my notifications


def _mine():
    return select(Nudge).where(Nudge.recipient_id == g.api_user.employee_id, Nudge.status == NudgeStatus.SENT)


def _notifications_json(nudges: list[Nudge]) -> list[dict[str, Any]]:
    settings = NudgeSettings.current()
    rows = notification_rows(nudges, g.api_user.employee.timezone, settings)
    return [
        {
            "id": row.nudge.id,
            "kind": row.nudge.kind.value,
            "channel": row.nudge.channel.value,
            "headline": row.headline,
            "facts": [{"label": label, "value": value} for label, value in row.facts],
            "link": row.link,
            "touchpoint_id": row.nudge.touchpoint_id,
            "sent_at": iso(row.nudge.sent_at),
            "read_at": iso(row.nudge.read_at),
            "unread": row.nudge.read_at is None,
        }
        for row in rows
    ]


def _one_page(query) -> dict[str, Any]:
    """One page of notifications, drawn in one batch (their facts need the touchpoints, loaded together)."""
    page = paginated(query, lambda nudge: {"nudge": nudge})
    page["data"] = _notifications_json([item["nudge"] for item in page["data"]])
    return page


@bp.get("/notifications")
@api_token_required
def list_notifications():
    """The token's person's notifications, newest first; ?unread=true for the unread ones."""
    query = _with_touchpoint(_mine()).order_by(Nudge.sent_at.desc(), Nudge.id.desc())
    unread = _flag("unread")
    if unread is not None:
        query = query.where(Nudge.read_at.is_(None) if unread else Nudge.read_at.is_not(None))
    return _one_page(query)


@bp.post("/notifications/read")
@api_token_required
def mark_notifications_read():
    """Mark the token's person's notifications read: all of them, or the ids sent."""
    data = read_json_object() if request.get_data() else {}
    unknown = {k: "Unknown field." for k in data if k != "ids"}
    if unknown:
        raise ApiProblem(422, "Some fields are not valid.", unknown)
    ids = data.get("ids")
    condition = (
        (Nudge.recipient_id == g.api_user.employee_id)
        & (Nudge.status == NudgeStatus.SENT)
        & Nudge.read_at.is_(None)
    )
    if ids is not None:
        if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            raise ApiProblem(422, "Some fields are not valid.", {"ids": "Send a list of notification ids."})
        if len(ids) > 1000:
            raise ApiProblem(422, "Some fields are not valid.", {"ids": "Send at most 1,000 ids at a time."})
        condition = condition & Nudge.id.in_(ids)
    marked = db.session.execute(
        update(Nudge).where(condition).values(read_at=utcnow()).execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return {"data": {"marked": marked}}


@bp.post("/notifications/<int:nudge_id>/read")
@api_token_required
def mark_notification_read(nudge_id: int):
    """Mark one of the token's person's notifications read."""
    nudge = db.session.scalar(_with_touchpoint(_mine()).where(Nudge.id == nudge_id))
    if nudge is None:
        raise not_found("notification")
    if nudge.read_at is None:
        nudge.read_at = utcnow()
        db.session.commit()
    return {"data": _notifications_json([nudge])[0]}


# ---------------------------------------------------------------- HR: the outbox and the jobs


def outbox_json(nudge: Nudge) -> dict[str, Any]:
    """A nudge as HR sees it: what it is about (never sensitive content), where it is, and why."""
    return {
        "id": nudge.id,
        "kind": nudge.kind.value,
        "about": describe_nudge(nudge),
        "status": nudge.status.value,
        "status_label": nudge.status.label,
        "channel": nudge.channel.value,
        "recipient": (
            {"id": nudge.recipient.id, "full_name": nudge.recipient.full_name} if nudge.recipient else None
        ),
        "team_id": nudge.team_id,
        "touchpoint_id": nudge.touchpoint_id,
        "attempts": nudge.attempts,
        "reason": nudge.last_error,
        "next_attempt_at": iso(nudge.next_attempt_at),
        "send_started_at": iso(nudge.send_started_at),
        "sent_at": iso(nudge.sent_at),
        "resolved_at": iso(nudge.resolved_at),
        "resolved_by_id": nudge.resolved_by_id,
        "created_at": iso(nudge.created_at),
        "updated_at": iso(nudge.updated_at),
    }


def _outbox_query():
    return select(Nudge).options(
        joinedload(Nudge.recipient),
        joinedload(Nudge.touchpoint).joinedload(Touchpoint.employee),
    )


def _outbox_nudge(nudge_id: int) -> Nudge:
    nudge = db.session.scalar(_outbox_query().where(Nudge.id == nudge_id))
    if nudge is None:
        raise not_found("nudge")
    return nudge


@bp.get("/nudges")
@api_token_required
def list_outbox():
    """HR: the outbox, most recently changed first; ?status=problems (default) or one state."""
    require_hr("read the outbox")
    status = request.args.get("status", "problems").strip().lower()
    if status not in STATUS_FILTERS:
        raise ApiProblem(
            400,
            "The query parameter status is not a state.",
            {"status": f"Use one of: {', '.join(STATUS_FILTERS)}."},
        )
    query = (
        _outbox_query()
        .where(Nudge.status.in_(STATUS_FILTERS[status]))
        .order_by(Nudge.updated_at.desc(), Nudge.id.desc())
    )
    return paginated(query, outbox_json)


@bp.post("/nudges/<int:nudge_id>/retry")
@api_token_required
def retry_outbox_nudge(nudge_id: int):
    """HR: send a failed, unknown, dead or expired nudge again (its channel chosen afresh)."""
    require_hr("retry nudges")
    nudge = _outbox_nudge(nudge_id)
    try:
        retry_nudge(nudge, actor=g.api_user)
    except NudgeActionError as error:
        db.session.rollback()
        raise ApiProblem(409, str(error)) from None
    return {"data": outbox_json(_outbox_nudge(nudge_id))}


@bp.post("/nudges/<int:nudge_id>/dismiss")
@api_token_required
def dismiss_outbox_nudge(nudge_id: int):
    """HR: close a problem nudge; {"arrived": true} records that an unknown one did arrive."""
    require_hr("dismiss nudges")
    data = read_json_object() if request.get_data() else {}
    unknown = {k: "Unknown field." for k in data if k != "arrived"}
    if unknown:
        raise ApiProblem(422, "Some fields are not valid.", unknown)
    arrived = data.get("arrived", False)
    if not isinstance(arrived, bool):
        raise ApiProblem(422, "Some fields are not valid.", {"arrived": "Send true or false."})
    nudge = _outbox_nudge(nudge_id)
    try:
        dismiss_nudge(nudge, actor=g.api_user, arrived=arrived)
    except NudgeActionError as error:
        db.session.rollback()
        raise ApiProblem(409, str(error)) from None
    return {"data": outbox_json(_outbox_nudge(nudge_id))}


@bp.get("/scheduler/jobs")
@api_token_required
def list_scheduler_jobs():
    """HR: each periodic job with its last run, next run, duration and last error."""
    require_hr("read the scheduler's jobs")
    return {
        "data": [
            {
                "id": row.id,
                "description": row.description,
                "interval": row.interval,
                "last_run_at": iso(row.last_run),
                "next_run_at": iso(row.next_run),
                "duration_ms": row.duration_ms,
                "last_result": row.result,
                "last_error": row.last_error,
                "last_error_at": iso(row.last_error_at),
                "runs": row.runs,
                "failures": row.failures,
                "runner": row.runner,
            }
            for row in job_rows()
        ]
    }


# ---------------------------------------------------------------- OpenAPI

_TS = {"type": ["string", "null"], "format": "date-time"}
_NID = doc.path_id("nudge_id")
_NOTIFICATION = {
    "type": "object",
    "required": ["id", "kind", "channel", "headline", "facts", "link", "sent_at", "read_at", "unread"],
    "properties": {
        "id": {"type": "integer"},
        "kind": {"type": "string", "description": "reminder, escalation, confirmation, calendar_invite …"},
        "channel": {"type": "string", "enum": ["slack", "teams", "email", "in_app"]},
        "headline": {"type": "string"},
        "facts": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"label": {"type": "string"}, "value": {"type": "string"}},
            },
        },
        "link": {"type": ["string", "null"], "description": "A path in the app."},
        "touchpoint_id": {"type": ["integer", "null"]},
        "sent_at": _TS,
        "read_at": _TS,
        "unread": {"type": "boolean"},
    },
}
_OUTBOX = {
    "type": "object",
    "required": ["id", "kind", "about", "status", "channel", "attempts", "reason"],
    "properties": {
        "id": {"type": "integer"},
        "kind": {"type": "string"},
        "about": {"type": "string", "description": "Who and what, never the content of sensitive moments."},
        "status": {"type": "string", "enum": [s.value for s in NudgeStatus]},
        "status_label": {"type": "string"},
        "channel": {"type": "string", "enum": ["slack", "teams", "email", "in_app"]},
        "recipient": {
            "type": ["object", "null"],
            "properties": {"id": {"type": "integer"}, "full_name": {"type": "string"}},
        },
        "team_id": {"type": ["integer", "null"]},
        "touchpoint_id": {"type": ["integer", "null"]},
        "attempts": {"type": "integer"},
        "reason": {"type": "string", "description": "The last answer or why it is in this state."},
        "next_attempt_at": _TS,
        "send_started_at": _TS,
        "sent_at": _TS,
        "resolved_at": _TS,
        "resolved_by_id": {"type": ["integer", "null"]},
        "created_at": _TS,
        "updated_at": _TS,
    },
}
_JOB = {
    "type": "object",
    "required": ["id", "description", "interval", "runs", "failures"],
    "properties": {
        "id": {"type": "string"},
        "description": {"type": "string"},
        "interval": {"type": "string"},
        "last_run_at": _TS,
        "next_run_at": _TS,
        "duration_ms": {"type": ["integer", "null"]},
        "last_result": {"type": "string"},
        "last_error": {"type": "string"},
        "last_error_at": _TS,
        "runs": {"type": "integer"},
        "failures": {"type": "integer"},
        "runner": {"type": "string", "description": "host:pid of the scheduler process that ran it last."},
    },
}
_ONE_OUTBOX = doc.json_response("The nudge as it is now.", doc.data_envelope(doc.ref("OutboxNudge")))

doc.register_paths(
    {
        "/notifications": {
            "get": doc.operation(
                "listNotifications", _TAG, "List my notifications",
                "What Touchpoints told the token's person, on any channel, newest first.",
                {"200": doc.json_response(
                    "One page of notifications.", doc.page_envelope(doc.ref("Notification")))},
                (400, 401),
                parameters=[
                    {"name": "unread", "in": "query", "required": False,
                     "description": "true for the unread ones only, false for the read ones.",
                     "schema": {"type": "boolean"}},
                    *doc.PAGE_PARAMETERS,
                ],
            ),
        },
        "/notifications/read": {
            "post": doc.operation(
                "markNotificationsRead", _TAG, "Mark my notifications read",
                "All unread ones, or only the `ids` sent (ids of someone else's are ignored).",
                {"200": doc.json_response("How many were marked.", doc.data_envelope(
                    {"type": "object", "properties": {"marked": {"type": "integer"}}}))},
                (401, 415, 422),
                body={"type": "object",
                      "properties": {"ids": {"type": "array", "items": {"type": "integer"}}}},
            ),
        },
        "/notifications/{nudge_id}/read": {
            "post": doc.operation(
                "markNotificationRead", _TAG, "Mark one of my notifications read", "Idempotent.",
                {"200": doc.json_response("The notification.", doc.data_envelope(doc.ref("Notification")))},
                (401, 404), parameters=[_NID],
            ),
        },
        "/nudges": {
            "get": doc.operation(
                "listOutbox", _TAG, "List the outbox (HR partners)",
                "Nudges in a state, most recently changed first. `problems` (the default) is failed, "
                "unknown and dead together: the ones that need a decision.",
                {"200": doc.json_response(
                    "One page of nudges.", doc.page_envelope(doc.ref("OutboxNudge")))},
                (400, 401, 403),
                parameters=[
                    {"name": "status", "in": "query", "required": False,
                     "schema": {"type": "string", "enum": list(STATUS_FILTERS), "default": "problems"}},
                    *doc.PAGE_PARAMETERS,
                ],
            ),
        },
        "/nudges/{nudge_id}/retry": {
            "post": doc.operation(
                "retryNudge", _TAG, "Retry a failed, unknown, dead or expired nudge (HR partners)",
                "It goes out on the next delivery run, on the person's preferred channel as it is now. "
                "409 when its state has nothing to retry.",
                {"200": _ONE_OUTBOX}, (401, 403, 404, 409), parameters=[_NID],
            ),
        },
        "/nudges/{nudge_id}/dismiss": {
            "post": doc.operation(
                "dismissNudge", _TAG, "Dismiss a problem nudge (HR partners)",
                "Closes it; `arrived: true` records that an unknown one did reach the person. "
                "409 when its state has nothing to dismiss.",
                {"200": _ONE_OUTBOX}, (401, 403, 404, 409, 415, 422),
                body={"type": "object", "properties": {"arrived": {"type": "boolean", "default": False}}},
                parameters=[_NID],
            ),
        },
        "/scheduler/jobs": {
            "get": doc.operation(
                "listSchedulerJobs", _TAG, "The scheduler's jobs (HR partners)",
                "Each periodic job with its last run, next run, duration and last error, from whichever "
                "scheduler process ran it.",
                {"200": doc.json_response(
                    "Every job.", doc.data_envelope({"type": "array", "items": doc.ref("SchedulerJob")}))},
                (401, 403),
            ),
        },
    },
    schemas={"Notification": _NOTIFICATION, "OutboxNudge": _OUTBOX, "SchedulerJob": _JOB},
    tags={_TAG: "Notifications to the token's person; for HR partners the outbox and the scheduler's jobs."},
)
