"""Answering a pulse survey from Slack through a signed interaction, and the invitations that offer it.

The real endpoint (`/slack/interactions`) gets requests signed as Slack signs them; slack-sdk's
WebClient talks to the fake Slack on 127.0.0.1, which records views.open and chat.update.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, inspect, select

from tests.factories import make_employee, make_team
from tests.fakes.slack import VALID_TOKEN, FakeSlack, signed_interaction
from tests.surveys.helpers import open_round, pulse_survey
from touchpoints.audit.models import AuditEntry
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.nudges.models import Nudge
from touchpoints.nudges.reminders import queue_survey_nudges
from touchpoints.nudges.services import deliver, profile_for
from touchpoints.people.models import Channel, Employee, LifecycleStatus
from touchpoints.surveys import services
from touchpoints.surveys.models import SurveyAnswer, SurveyParticipation, SurveyResponse, SurveyRound

SIGNING_SECRET = "survey-signing-secret-0123456789abcdef"
BASE_URL = "http://touchpoints.test"
COMMENT = "Lunch walks with the design team would help me"


@pytest.fixture
def app(make_app, fake_slack) -> Iterator[Flask]:
    """The app wired to the fake Slack, with Slack interactivity set up."""
    application = make_app(
        SLACK_BOT_TOKEN=VALID_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_slack.base_url,
        BASE_URL=BASE_URL,
        NUDGE_SLACK_TIMEOUT=2,
    )
    with application.app_context():
        yield application
        db.session.remove()


@pytest.fixture
def company(app, fake_slack):
    """Six people at work (enough for a real round); Rosa prefers Slack and Slack knows her."""
    team = make_team("Design")
    rosa = make_employee("Rosa Slack", team=team, preferred_channel=Channel.SLACK)
    others = [make_employee(f"Colleague {i}", team=team, preferred_channel=Channel.IN_APP) for i in range(5)]
    fake_slack.add_user(rosa.email, "U0ROSA")
    return {"rosa": rosa, "others": others, "team": team}


def _signed(payload: dict, *, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> tuple[str, dict]:
    return signed_interaction(payload, secret=secret, timestamp=timestamp)


def _post(client, payload: dict, **kwargs):
    body, headers = _signed(payload, **kwargs)
    response = client.post("/slack/interactions", data=body, headers=headers)
    # What the WSGI server does once the answer has left: runs the deferred Slack calls.
    response.close()
    return response


def _invite(fake_slack: FakeSlack) -> dict[str, Any]:
    """Queue and deliver the round's invitations; Rosa's Slack DM as posted."""
    queue_survey_nudges(now=utcnow())
    deliver(now=utcnow())
    [message] = [m for m in fake_slack.messages() if m["channel"] == "D0ROSA"]
    # Slack's answer gave the message its ts; the outbox kept it as "channel:ts".
    [ref] = db.session.scalars(select(Nudge.external_ref).where(Nudge.external_ref.like("D0ROSA:%")))
    return {**message, "ts": ref.partition(":")[2]}


def _buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


def _press(message: dict[str, Any], user: str = "U0ROSA") -> dict[str, Any]:
    """The block_actions payload Slack sends when "Answer here" is pressed in the DM."""
    [button] = [b for b in _buttons(message) if b["action_id"] == "tp_survey_answer"]
    [block] = [b for b in message["blocks"] if b["type"] == "actions"]
    return {
        "type": "block_actions",
        "user": {"id": user, "team_id": "T0EXAMPLE"},
        "api_app_id": "A0TOUCH",
        "trigger_id": "1234.5678.survey",
        "container": {"type": "message", "channel_id": message["channel"], "message_ts": message["ts"]},
        "channel": {"id": message["channel"]},
        "message": {"ts": message["ts"], "blocks": message["blocks"]},
        "actions": [
            {"type": "button", "action_id": button["action_id"], "block_id": block["block_id"],
             "value": button["value"], "action_ts": str(time.time())}
        ],
    }


def _opened_view(fake_slack: FakeSlack) -> dict[str, Any]:
    [call] = fake_slack.calls_to("views.open")
    return call.params["view"]


def _submission(view: dict[str, Any], picks: dict[str, str | None], user: str = "U0ROSA") -> dict[str, Any]:
    """The view_submission payload Slack sends: state.values per input block, by element type."""
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element = block["element"]
        key = block["block_id"].removeprefix("q_")
        pick = picks.get(key)
        if element["type"] == "plain_text_input":
            state = {"type": "plain_text_input", "value": pick}
        else:
            option = next((o for o in element["options"] if o["value"] == pick), None)
            if option is None and pick is not None:  # a value the dialog never offered
                option = {"text": {"type": "plain_text", "text": pick}, "value": pick}
            state = {"type": element["type"], "selected_option": option}
        values[block["block_id"]] = {element["action_id"]: state}
    return {
        "type": "view_submission",
        "team": {"id": "T0EXAMPLE"},
        "user": {"id": user, "team_id": "T0EXAMPLE"},
        "api_app_id": "A0TOUCH",
        "trigger_id": "9876.5432.submit",
        "view": {
            "id": "V0SURVEY",
            "type": "modal",
            "callback_id": view["callback_id"],
            "private_metadata": view["private_metadata"],
            "blocks": view["blocks"],
            "state": {"values": values},
            "hash": "1700000000.abcdef",
        },
        "response_urls": [],
    }


def _good_picks(round_: SurveyRound, comment: str | None = COMMENT) -> dict[str, str | None]:
    picks: dict[str, str | None] = {}
    for q in round_.version.questions:
        picks[q.key] = {"agreement": "4", "enps": "9", "short_text": comment}.get(
            q.kind.value, (q.choices[0]["key"] if q.choices else None)
        )
    return picks


def _counts(round_id: int) -> tuple[int, int]:
    db.session.expire_all()
    responses = db.session.scalar(
        select(func.count()).select_from(SurveyResponse).where(SurveyResponse.round_id == round_id)
    )
    participation = db.session.scalar(
        select(func.count()).select_from(SurveyParticipation).where(SurveyParticipation.round_id == round_id)
    )
    return responses, participation


@pytest.fixture
def invited(company, fake_slack):
    """The default connection pulse is open and Rosa's Slack invitation has arrived."""
    round_ = open_round(pulse_survey())
    message = _invite(fake_slack)
    return {**company, "round": round_, "message": message}


@pytest.fixture
def dialog(invited, client, fake_slack):
    """Rosa pressed "Answer here" and the dialog opened."""
    assert _post(client, _press(invited["message"])).status_code == 200
    return {**invited, "view": _opened_view(fake_slack)}


# ---------------------------------------------------------------- the invitation


def test_a_short_surveys_slack_invitation_offers_a_dialog_and_a_link(invited):
    round_, message = invited["round"], invited["message"]
    buttons = _buttons(message)
    assert [b["text"]["text"] for b in buttons] == ["Answer here", "Answer in Touchpoints"]
    here, link = buttons
    assert here["action_id"] == "tp_survey_answer" and here["value"] == str(round_.id)
    assert "url" not in here and here["style"] == "primary"
    assert link["url"] == f"{BASE_URL}/surveys/rounds/{round_.id}/answer"
    assert db.session.get(Employee, invited["rosa"].id).slack_user_id == "U0ROSA"


def test_a_long_survey_is_only_linked(company, fake_slack):
    survey = pulse_survey()
    for n in range(3):
        services.add_question(survey, {"kind": "agreement", "prompt": f"Extra statement {n}"}, actor_id=None)
    db.session.commit()
    round_ = open_round(survey)
    assert len(round_.version.questions) == 11
    buttons = _buttons(_invite(fake_slack))
    assert [(b["text"]["text"], b.get("url")) for b in buttons] == [
        ("Answer in Touchpoints", f"{BASE_URL}/surveys/rounds/{round_.id}/answer")
    ]


def test_the_teams_invitation_is_a_card_with_a_link_into_the_app(make_app, fake_teams):
    app = make_app(BASE_URL=BASE_URL)
    with app.app_context():
        theo = make_employee("Theo Teams", preferred_channel=Channel.TEAMS)
        profile_for(theo.id).teams_webhook_url = fake_teams.url("theo")
        db.session.commit()
        round_ = open_round(pulse_survey())
        queue_survey_nudges(now=utcnow())
        assert deliver(now=utcnow()).sent == 1
        [(name, body)] = fake_teams.state.accepted
        card = body["attachments"][0]["content"]
        texts = [i["text"] for c in card["body"] if c["type"] == "Container" for i in c["items"]
                 if i["type"] == "TextBlock"]
        actions = [a for c in card["body"] if c["type"] == "Container" for i in c["items"]
                   if i["type"] == "ActionSet" for a in i["actions"]]
        assert name == "theo"
        assert texts == ["Connection pulse is waiting for your answers (anonymous, a few minutes)"]
        # Teams cannot open a Slack dialog: only the link, straight to the round's answer page.
        assert actions == [{"type": "Action.OpenUrl", "title": "Answer in Touchpoints",
                            "url": f"{BASE_URL}/surveys/rounds/{round_.id}/answer", "style": "positive"}]
        db.session.remove()


# ---------------------------------------------------------------- the dialog


def test_answer_here_opens_the_dialog_with_the_rounds_questions_in_order(dialog, fake_slack):
    round_, view = dialog["round"], dialog["view"]
    [call] = fake_slack.calls_to("views.open")
    assert call.params["trigger_id"] == "1234.5678.survey"
    assert view["type"] == "modal" and view["callback_id"] == "tp_survey_answer"
    assert view["title"]["text"] == "Connection pulse" and view["submit"]["text"] == "Send answers"
    # The metadata names the round and nothing else: no employee, no Slack user, no channel.
    assert json.loads(view["private_metadata"]) == {"round": round_.id}
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    asked = services.questions_for(round_, new_hire=False)
    assert [b["block_id"] for b in inputs] == [f"q_{q.key}" for q in asked]
    assert [b["label"]["text"] for b in inputs] == [q.prompt for q in asked]
    assert "q_onboarding-prepared-me" not in [b["block_id"] for b in inputs]  # Rosa is no new hire
    kinds = {b["block_id"]: (b["element"]["type"], b.get("optional", False)) for b in inputs}
    assert kinds["q_connected-to-people"] == ("radio_buttons", False)
    assert kinds["q_enps"] == ("static_select", False)
    assert kinds["q_important-news-channel"] == ("radio_buttons", False)
    assert kinds["q_one-thing"] == ("plain_text_input", True)
    agreement = inputs[0]["element"]["options"]
    assert [o["value"] for o in agreement] == ["1", "2", "3", "4", "5"]
    assert agreement[4]["text"]["text"] == "5 · Strongly agree"
    [enps] = [b for b in inputs if b["block_id"] == "q_enps"]
    assert [o["value"] for o in enps["element"]["options"]] == [str(v) for v in range(11)]
    assert fake_slack.calls_to("chat.update") == []


def test_a_new_hire_is_also_asked_the_onboarding_question(company, client, fake_slack):
    company["rosa"].start_date = utcnow().date() - timedelta(days=20)
    company["rosa"].status = LifecycleStatus.ONBOARDING
    db.session.commit()
    round_ = open_round(pulse_survey())
    _post(client, _press(_invite(fake_slack)))
    blocks = [b["block_id"] for b in _opened_view(fake_slack)["blocks"] if b["type"] == "input"]
    assert blocks == [f"q_{q.key}" for q in services.questions_for(round_, new_hire=True)]
    assert "q_onboarding-prepared-me" in blocks


# ---------------------------------------------------------------- answering


def test_a_signed_submission_records_one_anonymous_answer_and_thanks_in_the_dm(dialog, client, fake_slack):
    round_ = dialog["round"]
    started = time.monotonic()
    response = _post(client, _submission(dialog["view"], _good_picks(round_)))
    assert response.status_code == 200 and time.monotonic() - started < 3
    assert response.get_data() == b""  # an empty 200 closes the dialog
    assert _counts(round_.id) == (1, 1)
    assert services.has_answered(round_.id, dialog["rosa"].id)
    # The response row holds no person: no column names an employee or a user, and no time.
    columns = {c.name for c in inspect(SurveyResponse).columns}
    assert columns == {"id", "round_id", "team_id", "stage", "tenure_band"}
    stored = db.session.scalars(select(SurveyAnswer)).all()
    assert sorted(a.score for a in stored if a.score is not None) == [4, 4, 4, 4, 9]
    assert [a.text for a in stored if a.text] == [COMMENT]
    # The invitation now thanks Rosa and says nothing of what she answered.
    [update] = fake_slack.calls_to("chat.update")
    message = dialog["message"]
    assert (update.params["channel"], update.params["ts"]) == (message["channel"], message["ts"])
    assert update.params["text"].startswith("✅ Thanks — your answer is in. It is anonymous: ")
    assert "groups of at least 5 people" in update.params["text"]
    sent = json.dumps(update.params)
    assert COMMENT not in sent and "tp_survey_answer" not in sent and '"actions"' not in sent


def test_the_dialog_is_acknowledged_before_a_slow_message_update(dialog, client, fake_slack):
    fake_slack.then("chat.update", delay=2.5)
    body, headers = _signed(_submission(dialog["view"], _good_picks(dialog["round"])))
    started = time.monotonic()
    response = client.post("/slack/interactions", data=body, headers=headers)
    answered_in = time.monotonic() - started
    assert response.status_code == 200 and answered_in < 2.0
    assert fake_slack.calls_to("chat.update") == []  # still to come, after the answer left
    response.close()
    assert len(fake_slack.calls_to("chat.update")) == 1
    assert _counts(dialog["round"].id) == (1, 1)


@pytest.mark.parametrize("how", ["unsigned", "stale", "forged"])
def test_an_unsigned_or_stale_submission_is_refused_and_records_nothing(dialog, client, fake_slack, how):
    payload = _submission(dialog["view"], _good_picks(dialog["round"]))
    if how == "unsigned":
        body, _ = _signed(payload)
        response = client.post("/slack/interactions", data=body,
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
    elif how == "stale":
        response = _post(client, payload, timestamp=int(time.time()) - 6 * 60)
    else:
        response = _post(client, payload, secret="someone-elses-secret")
    assert response.status_code in (401, 403)
    assert _counts(dialog["round"].id) == (0, 0)
    assert fake_slack.calls_to("chat.update") == []


def test_a_second_submission_is_refused_politely(dialog, client, fake_slack):
    round_ = dialog["round"]
    assert _post(client, _submission(dialog["view"], _good_picks(round_))).status_code == 200
    again = _post(client, _submission(dialog["view"], _good_picks(round_, comment="A second opinion")))
    assert again.status_code == 200
    body = again.get_json()
    assert body["response_action"] == "update"
    assert "already answered this round; your first answers stand" in json.dumps(body["view"])
    assert "submit" not in body["view"]
    assert _counts(round_.id) == (1, 1)
    assert [a.text for a in db.session.scalars(select(SurveyAnswer)) if a.text] == [COMMENT]
    # Pressing the old button again says so on the message and opens nothing.
    _post(client, _press(dialog["message"]))
    assert len(fake_slack.calls_to("views.open")) == 1
    assert "already answered" in fake_slack.calls_to("chat.update")[-1].params["text"]


def test_a_closed_round_says_it_closed(dialog, client, fake_slack):
    round_ = dialog["round"]
    assert services.close_round(round_.id)
    response = _post(client, _submission(dialog["view"], _good_picks(round_)))
    body = response.get_json()
    assert response.status_code == 200 and body["response_action"] == "update"
    assert "This survey round closed on" in json.dumps(body["view"])
    assert _counts(round_.id) == (0, 0)
    # The invitation says it too, without its buttons.
    [update] = fake_slack.calls_to("chat.update")
    assert "closed on" in update.params["text"] and '"actions"' not in json.dumps(update.params["blocks"])


def test_answer_here_on_a_closed_round_opens_nothing(invited, client, fake_slack):
    assert services.close_round(invited["round"].id)
    assert _post(client, _press(invited["message"])).status_code == 200
    assert fake_slack.calls_to("views.open") == []
    [update] = fake_slack.calls_to("chat.update")
    assert "This survey round closed on" in update.params["text"]
    assert not any(b["type"] == "actions" for b in update.params["blocks"])


def test_validation_problems_are_shown_under_the_question(dialog, client, fake_slack):
    round_ = dialog["round"]
    picks = {**_good_picks(round_), "connected-to-people": None, "enps": "11",
             "one-thing": "x" * (services.MAX_TEXT_ANSWER + 1)}
    response = _post(client, _submission(dialog["view"], picks))
    assert response.status_code == 200
    assert response.get_json() == {
        "response_action": "errors",
        "errors": {
            "q_connected-to-people": "Please answer this question.",
            "q_enps": "Choose a number from 0 to 10.",
            "q_one-thing": f"Keep this under {services.MAX_TEXT_ANSWER} characters "
                           f"(it has {services.MAX_TEXT_ANSWER + 1}).",
        },
    }
    assert _counts(round_.id) == (0, 0)
    assert fake_slack.calls_to("chat.update") == []
    # Corrected, the same dialog goes through.
    assert _post(client, _submission(dialog["view"], _good_picks(round_))).get_data() == b""
    assert _counts(round_.id) == (1, 1)


def test_a_slack_user_touchpoints_does_not_know_cannot_answer(dialog, client, fake_slack):
    response = _post(client, _submission(dialog["view"], _good_picks(dialog["round"]), user="U0STRANGER"))
    assert response.get_json()["response_action"] == "update"
    assert "does not know your Slack account" in json.dumps(response.get_json()["view"])
    assert _counts(dialog["round"].id) == (0, 0)


def test_nothing_about_the_answer_is_logged_audited_or_queued(dialog, client, caplog):
    audit_before = db.session.scalar(select(func.count()).select_from(AuditEntry))
    nudges_before = db.session.scalar(select(func.count()).select_from(Nudge))
    with caplog.at_level(logging.DEBUG):
        response = _post(client, _submission(dialog["view"], _good_picks(dialog["round"])))
    assert response.status_code == 200 and _counts(dialog["round"].id) == (1, 1)
    assert COMMENT not in caplog.text and "U0ROSA" not in caplog.text
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == audit_before
    assert db.session.scalar(select(func.count()).select_from(Nudge)) == nudges_before
    for nudge in db.session.scalars(select(Nudge)):
        assert COMMENT not in json.dumps(nudge.payload) and COMMENT not in (nudge.last_error or "")
    for entry in db.session.scalars(select(AuditEntry)):
        assert COMMENT not in json.dumps([entry.summary, entry.before, entry.after])


def test_answering_from_the_reminder_also_clears_the_invitation(invited, client, fake_slack):
    round_ = invited["round"]
    round_.remind_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert services.send_due_reminders() == len(invited["others"]) + 1
    queue_survey_nudges(now=utcnow() + timedelta(seconds=1))
    deliver(now=utcnow() + timedelta(seconds=1))
    refs = db.session.scalars(
        select(Nudge.external_ref).where(Nudge.external_ref.like("D0ROSA:%")).order_by(Nudge.id)
    ).all()
    assert len(refs) == 2  # the invitation, then the reminder
    [reminder] = [m for m in fake_slack.messages() if m["channel"] == "D0ROSA"][1:]
    assert reminder["text"].startswith("Connection pulse closes soon and you have not answered yet")
    assert [b["text"]["text"] for b in _buttons(reminder)] == ["Answer here", "Answer in Touchpoints"]
    _post(client, _press({**reminder, "ts": refs[1].partition(":")[2]}))
    _post(client, _submission(_opened_view(fake_slack), _good_picks(round_)))
    assert _counts(round_.id) == (1, 1)
    updated = sorted((c.params["channel"], c.params["ts"]) for c in fake_slack.calls_to("chat.update"))
    assert updated == sorted(tuple(ref.split(":", 1)) for ref in refs)
    assert all("your answer is in" in c.params["text"] for c in fake_slack.calls_to("chat.update"))
