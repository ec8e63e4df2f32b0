"""Logging a touchpoint from any channel asks the other person to confirm it, once, with the log."""

from __future__ import annotations

from datetime import timedelta

from tests.api.conftest import ApiClient
from tests.factories import make_employee, make_manager
from tests.nudges.conftest import activate_policy, make_touchpoint, nudges
from touchpoints.api.services import issue_token, user_for_email
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.models import Confirmation, Mode, TouchpointKind, TouchpointStatus
from touchpoints.journeys.outcomes import after_log_hooks, log_touchpoint
from touchpoints.nudges.models import NudgeKind
from touchpoints.nudges.services import deliver
from touchpoints.people.models import Channel


def _pair():
    manager = make_manager("Mia Manager", preferred_channel=Channel.SLACK)
    report = make_employee("Ravi Report", manager=manager, preferred_channel=Channel.IN_APP)
    tp = make_touchpoint(report, manager, due_at=utcnow() - timedelta(hours=2))
    return manager, report, tp


def _api(client, employee) -> ApiClient:
    issued = issue_token(user_for_email(employee.email), "Confirmation tests", created_by=None)
    db.session.commit()
    return ApiClient(client, issued.raw)


def test_the_hook_is_registered_once_with_the_journeys_services(app):
    names = [hook.__name__ for hook in after_log_hooks()]
    assert names.count("_ask_to_confirm") == 1


def test_logging_on_the_page_asks_the_report_to_confirm_once(client, login):
    manager, report, tp = _pair()
    login(manager)
    when = (utcnow() - timedelta(hours=1)).astimezone(__import__("zoneinfo").ZoneInfo("Europe/London"))
    response = client.post(
        f"/touchpoints/{tp.id}/log",
        data={"actual_mode": "in_person", "happened_at": when.strftime("%Y-%m-%dT%H:%M"), "note": ""},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    [request] = nudges(kind=NudgeKind.CONFIRMATION)
    assert request.recipient_id == report.id and request.touchpoint_id == tp.id
    assert request.payload["logged_by"] == "Mia Manager"
    # The report sees it in their notifications once it is delivered.
    assert deliver().sent == 1
    client.post("/logout")
    login(report)
    page = client.get("/notifications").get_data(as_text=True)
    assert "Mia Manager logged One-on-one with you: did it take place?" in page
    assert "Confirmation request" in page


def test_logging_over_the_api_asks_the_report_to_confirm_once(client):
    manager, report, tp = _pair()
    api = _api(client, manager)
    logged = api.post(f"/api/v1/touchpoints/{tp.id}/log", json={"actual_mode": "video"})
    assert logged.status_code == 200, logged.json
    [request] = nudges(kind=NudgeKind.CONFIRMATION)
    assert request.recipient_id == report.id
    # Logging again is refused, and no second request appears.
    assert api.post(f"/api/v1/touchpoints/{tp.id}/log", json={"actual_mode": "video"}).status_code == 409
    assert len(nudges(kind=NudgeKind.CONFIRMATION)) == 1


def test_the_person_logging_it_themself_is_not_asked(client):
    _manager, report, tp = _pair()
    logged = _api(client, report)
    tp.owner_id = report.id
    db.session.commit()
    assert logged.post(f"/api/v1/touchpoints/{tp.id}/log", json={"actual_mode": "chat"}).status_code == 200
    db.session.refresh(tp)
    assert tp.confirmation is Confirmation.CONFIRMED
    assert nudges(kind=NudgeKind.CONFIRMATION) == []


def test_a_refused_log_queues_nothing(client):
    activate_policy(
        key="reviews-in-person",
        name="Reviews in person",
        rule="required_modes",
        scope={"kinds": ["performance_review"]},
        params={"modes": ["in_person"]},
    )
    manager = make_manager("Mia Manager")
    report = make_employee("Ravi Report", manager=manager)
    tp = make_touchpoint(
        report, manager, due_at=utcnow() - timedelta(hours=2), kind=TouchpointKind.PERFORMANCE_REVIEW
    )
    refused = _api(client, manager).post(f"/api/v1/touchpoints/{tp.id}/log", json={"actual_mode": "email"})
    assert refused.status_code in (403, 409, 422), refused.json
    assert nudges(kind=NudgeKind.CONFIRMATION) == []
    db.session.refresh(tp)
    assert tp.status is TouchpointStatus.SCHEDULED


def test_the_request_is_part_of_the_logs_transaction(app):
    manager, _report, tp = _pair()
    from sqlalchemy import select

    from touchpoints.auth.models import User

    actor = db.session.scalar(select(User).where(User.employee_id == manager.id))
    log_touchpoint(tp, actual_mode=Mode.IN_PERSON, actor=actor)
    assert len(nudges(kind=NudgeKind.CONFIRMATION)) == 1  # flushed with the log ...
    db.session.rollback()  # ... and gone with it when the caller does not commit
    assert nudges(kind=NudgeKind.CONFIRMATION) == []
    db.session.refresh(tp)
    assert tp.status is TouchpointStatus.SCHEDULED
