"""Slack's interactions endpoint (signatures, buttons, dialogs) and the signed links of Teams and email."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.signature import SignatureVerifier

from tests.fakes.slack import signed_interaction
from tests.nudges.conftest import SIGNING_SECRET, activate_policy, make_touchpoint, nudges
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.models import Mode, Touchpoint, TouchpointKind, TouchpointStatus
from touchpoints.nudges.links import sign_action
from touchpoints.nudges.models import NudgeKind

# Slack's documented example (api.slack.com/authentication/verifying-requests-from-slack).
DOC_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
DOC_TIMESTAMP = 1531420618
DOC_BODY = (
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
    "&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
    "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    "&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
DOC_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


class FixedClock:
    def __init__(self, now: float):
        self._now = now

    def now(self) -> float:
        return self._now


def test_slacks_documented_example_verifies_and_a_changed_byte_does_not():
    verifier = SignatureVerifier(DOC_SECRET, clock=FixedClock(DOC_TIMESTAMP + 10))
    assert verifier.is_valid(DOC_BODY, str(DOC_TIMESTAMP), DOC_SIGNATURE)
    assert not verifier.is_valid(DOC_BODY.replace("roadrunner", "coyote"), str(DOC_TIMESTAMP), DOC_SIGNATURE)
    # Six minutes later the same request is stale.
    stale = SignatureVerifier(DOC_SECRET, clock=FixedClock(DOC_TIMESTAMP + 6 * 60))
    assert not stale.is_valid(DOC_BODY, str(DOC_TIMESTAMP), DOC_SIGNATURE)


def _signed(payload: dict, *, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> tuple[str, dict]:
    return signed_interaction(payload, secret=secret, timestamp=timestamp)


def _post(client, payload, **kwargs):
    body, headers = _signed(payload, **kwargs)
    return client.post("/slack/interactions", data=body, headers=headers)


def _button(tp: Touchpoint, action_id: str, user: str = "U0MIA") -> dict:
    block_id = f"tp:{tp.id}:1"
    return {
        "type": "block_actions",
        "user": {"id": user},
        "trigger_id": "123.456.abc",
        "container": {"type": "message", "channel_id": "D0MIA", "message_ts": "1700000001.000100"},
        "message": {
            "ts": "1700000001.000100",
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": "One-on-one"}},
                {"type": "actions", "block_id": block_id, "elements": []},
            ],
        },
        "actions": [{"action_id": action_id, "block_id": block_id, "value": str(tp.id), "type": "button"}],
    }


@pytest.fixture
def linked(people):
    """The manager's Slack id is known (as after a first delivery)."""
    people["manager"].slack_user_id = "U0MIA"
    db.session.commit()
    return people


@pytest.fixture
def due_tp(linked):
    return make_touchpoint(linked["report"], linked["manager"], due_at=utcnow() - timedelta(hours=1))


def test_unsigned_stale_or_forged_requests_are_refused(client, due_tp, fake_slack):
    payload = _button(due_tp, "tp_done_in_person")
    body, _ = _signed(payload)
    assert (
        client.post(
            "/slack/interactions", data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        ).status_code
        == 401
    )
    assert _post(client, payload, timestamp=int(time.time()) - 10 * 60).status_code == 401
    assert _post(client, payload, secret="not-the-secret").status_code == 401
    db.session.refresh(due_tp)
    assert due_tp.status is TouchpointStatus.SCHEDULED
    assert fake_slack.state.calls == []


def test_done_in_person_logs_it_asks_for_confirmation_and_updates_the_message(client, due_tp, fake_slack):
    started = time.monotonic()
    response = _post(client, _button(due_tp, "tp_done_in_person"))
    assert response.status_code == 200 and time.monotonic() - started < 3  # within Slack's three seconds
    db.session.expire_all()
    tp = db.session.get(Touchpoint, due_tp.id)
    assert tp.status is TouchpointStatus.DONE and tp.actual_mode is Mode.IN_PERSON
    assert tp.logged_by_id == due_tp.owner_id
    [update] = fake_slack.calls_to("chat.update")
    assert update.params["channel"] == "D0MIA" and update.params["ts"] == "1700000001.000100"
    assert "Logged as in person by Mia Manager" in update.params["text"]
    assert all(b["type"] != "actions" for b in update.params["blocks"])  # the buttons are gone
    # Same transaction: the person is asked to confirm it took place.
    [confirm] = nudges(kind=NudgeKind.CONFIRMATION)
    assert confirm.recipient_id == tp.employee_id and confirm.touchpoint_id == tp.id


def test_a_policy_refusal_in_slack_is_the_same_as_on_the_page(client, linked, fake_slack):
    activate_policy(
        key="reviews-by-video",
        name="Reviews by video",
        rule="required_modes",
        scope={"kinds": ["performance_review"]},
        params={"modes": ["video"]},
    )
    tp = make_touchpoint(
        linked["report"],
        linked["manager"],
        due_at=utcnow() - timedelta(hours=1),
        kind=TouchpointKind.PERFORMANCE_REVIEW,
        title="Review",
    )
    assert _post(client, _button(tp, "tp_done_in_person")).status_code == 200
    db.session.expire_all()
    assert db.session.get(Touchpoint, tp.id).status is TouchpointStatus.SCHEDULED
    [update] = fake_slack.calls_to("chat.update")
    assert update.params["text"].startswith("Not logged:") and "Reviews by video" in update.params["text"]
    assert any(b["type"] == "actions" for b in update.params["blocks"])  # buttons kept to try another way


def test_another_way_opens_a_dialog_and_its_submission_logs_through_the_policies(client, due_tp, fake_slack):
    assert _post(client, _button(due_tp, "tp_done_other")).status_code == 200
    [opened] = fake_slack.calls_to("views.open")
    view = opened.params["view"]
    assert view["callback_id"] == "tp_log" and opened.params["trigger_id"] == "123.456.abc"
    submission = {
        "type": "view_submission",
        "user": {"id": "U0MIA"},
        "view": {
            "callback_id": "tp_log",
            "private_metadata": view["private_metadata"],
            "state": {
                "values": {
                    "mode": {"value": {"type": "static_select", "selected_option": {"value": "video"}}}
                }
            },
        },
    }
    response = _post(client, submission)
    assert response.status_code == 200 and not response.data  # an empty answer closes the dialog
    db.session.expire_all()
    assert db.session.get(Touchpoint, due_tp.id).actual_mode is Mode.VIDEO
    assert "Logged as video call" in fake_slack.calls_to("chat.update")[0].params["text"]


def test_a_refused_dialog_answers_with_the_reason_on_the_field(client, linked, fake_slack):
    activate_policy(
        key="reviews-in-person",
        name="Reviews in person",
        rule="required_modes",
        scope={"kinds": ["performance_review"]},
        params={"modes": ["in_person"]},
    )
    tp = make_touchpoint(
        linked["report"],
        linked["manager"],
        due_at=utcnow() - timedelta(hours=1),
        kind=TouchpointKind.PERFORMANCE_REVIEW,
        title="Review",
    )
    submission = {
        "type": "view_submission",
        "user": {"id": "U0MIA"},
        "view": {
            "callback_id": "tp_log",
            "private_metadata": json.dumps({"tp": tp.id}),
            "state": {"values": {"mode": {"value": {"selected_option": {"value": "chat"}}}}},
        },
    }
    response = _post(client, submission)
    assert response.json["response_action"] == "errors"
    assert "Reviews in person" in response.json["errors"]["mode"]


def test_reschedule_dialog_moves_it_in_the_managers_zone(client, linked, fake_slack):
    linked["manager"].timezone = "America/New_York"
    db.session.commit()
    tp = make_touchpoint(linked["report"], linked["manager"], due_at=utcnow() + timedelta(days=3))
    sequence_before = tp.sequence
    _post(client, _button(tp, "tp_reschedule"))
    view = fake_slack.calls_to("views.open")[0].params["view"]
    day = (utcnow() + timedelta(days=10)).date().isoformat()
    submission = {
        "type": "view_submission",
        "user": {"id": "U0MIA"},
        "view": {
            "callback_id": "tp_reschedule",
            "private_metadata": view["private_metadata"],
            "state": {
                "values": {
                    "date": {"value": {"selected_date": day}},
                    "time": {"value": {"selected_time": "09:30"}},
                    "reason": {"value": {"value": "Travelling"}},
                }
            },
        },
    }
    assert _post(client, submission).status_code == 200
    db.session.expire_all()
    moved = db.session.get(Touchpoint, tp.id)
    local = moved.due_at.astimezone(ZoneInfo("America/New_York"))
    assert local.date().isoformat() == day and local.strftime("%H:%M") == "09:30"
    assert moved.sequence == sequence_before + 1


def test_someone_slack_does_not_know_is_told_to_use_the_app(client, due_tp, fake_slack):
    _post(client, _button(due_tp, "tp_done_in_person", user="U0NOBODY"))
    db.session.expire_all()
    assert db.session.get(Touchpoint, due_tp.id).status is TouchpointStatus.SCHEDULED
    assert "does not know your Slack account" in fake_slack.calls_to("chat.update")[0].params["text"]


# ---------------------------------------------------------------- Teams and email links


def test_a_signed_link_opens_a_confirmation_and_only_a_post_logs(client, login, due_tp, linked):
    token = sign_action("done_in_person", due_tp.id, linked["manager"].id)
    login(linked["manager"])
    page = client.get(f"/nudges/act/{token}")
    assert page.status_code == 200 and b"Log it as in person, now" in page.data
    db.session.expire_all()
    assert db.session.get(Touchpoint, due_tp.id).status is TouchpointStatus.SCHEDULED  # a GET changes nothing
    response = client.post(f"/nudges/act/{token}")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Touchpoint, due_tp.id).actual_mode is Mode.IN_PERSON


def test_a_link_is_bound_to_its_recipient_and_cannot_be_altered(client, login, due_tp, linked):
    token = sign_action("done_in_person", due_tp.id, linked["manager"].id)
    login(linked["report"])
    assert client.get(f"/nudges/act/{token}").status_code == 403
    login(linked["manager"])
    assert client.get(f"/nudges/act/{token[:-2]}xx").status_code == 403


def test_other_link_actions_lead_to_the_pages(client, login, due_tp, linked):
    login(linked["manager"])
    for action, path in (
        ("open", f"/touchpoints/{due_tp.id}"),
        ("done_other", f"/touchpoints/{due_tp.id}/log"),
        ("reschedule", f"/touchpoints/{due_tp.id}/reschedule"),
    ):
        response = client.get(f"/nudges/act/{sign_action(action, due_tp.id, linked['manager'].id)}")
        assert response.status_code == 302 and response.headers["Location"].endswith(path)


def test_an_expired_link_is_refused(client, login, due_tp, linked, app):
    token = sign_action("done_in_person", due_tp.id, linked["manager"].id)
    app.config["NUDGE_ACTION_LINK_DAYS"] = 0
    login(linked["manager"])
    time.sleep(1.1)
    response = client.get(f"/nudges/act/{token}")
    assert response.status_code == 403 and b"expired" in response.data
