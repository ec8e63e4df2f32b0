"""A pulse-survey invitation that went out inside a person's daily Slack digest: once they answer (on
the page, through the API, or in the Slack dialog opened from the digest), the digest is updated with
chat.update. The survey's entry says it is answered and loses its buttons; the digest's other entries
keep theirs; nothing of the answer travels or is stored."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import make_employee, make_manager, make_team
from tests.fakes.slack import signed_interaction
from tests.nudges.conftest import SIGNING_SECRET, make_touchpoint, nudges
from tests.surveys.helpers import open_round, pulse_survey
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.nudges.models import NudgeKind, NudgeStatus
from touchpoints.nudges.reminders import queue_survey_nudges
from touchpoints.nudges.services import deliver, digest_moment, enqueue, profile_for
from touchpoints.people.models import Channel
from touchpoints.surveys import services

COMMENT = "Fewer meetings on Fridays please"


def _page_answers(round_) -> dict[str, str]:
    data = {}
    for q in round_.version.questions:
        if q.audience.value == "new_hires":
            continue
        data[f"q_{q.id}"] = {"agreement": "2", "enps": "3", "short_text": COMMENT}.get(
            q.kind.value, q.choices[0]["key"] if q.choices else "")
    return data


@pytest.fixture
def digest(app, fake_slack):
    """Rosa manages Ravi and reads Slack as one daily digest: a reminder and the pulse invitation."""
    team = make_team("Design")
    rosa = make_manager("Rosa Slack", team=team, preferred_channel=Channel.SLACK)
    ravi = make_employee("Ravi Report", team=team, manager=rosa, preferred_channel=Channel.IN_APP)
    for i in range(4):
        make_employee(f"Colleague {i}", team=team, preferred_channel=Channel.IN_APP)
    fake_slack.add_user(rosa.email, "U0ROSA")
    profile_for(rosa.id).daily_digest = True
    db.session.commit()
    tp = make_touchpoint(ravi, rosa, due_at=(utcnow() + timedelta(days=3)).replace(microsecond=0),
                         title="Career conversation")
    enqueue(dedup_key=f"remind:{tp.id}", kind=NudgeKind.REMINDER, recipient=rosa, touchpoint_id=tp.id,
            payload={"lead": "2wd", "due_at": tp.due_at.isoformat()})
    db.session.commit()
    round_ = open_round(pulse_survey())
    queue_survey_nudges(now=utcnow())
    deliver(now=digest_moment(rosa, utcnow()) + timedelta(minutes=1))
    [message] = fake_slack.messages()  # one Slack message: the reminder and the invitation together
    [ref] = {n.external_ref for n in nudges(recipient_id=rosa.id, status=NudgeStatus.SENT)}
    assert all(n.bundled for n in nudges(recipient_id=rosa.id))
    return {"rosa": rosa, "round": round_, "tp": tp, "message": {**message, "ts": ref.partition(":")[2]}}


def _actions(blocks) -> dict[str, list[str]]:
    """Each actions block's id with its buttons' action ids."""
    return {b["block_id"]: [e["action_id"] for e in b["elements"]] for b in blocks if b["type"] == "actions"}


def _assert_digest_marked_answered(fake_slack, digest) -> None:
    [update] = fake_slack.calls_to("chat.update")
    message = digest["message"]
    assert (update.params["channel"], update.params["ts"]) == (message["channel"], message["ts"])
    before, after = _actions(message["blocks"]), _actions(update.params["blocks"])
    survey_block = next(k for k, v in before.items() if "tp_survey_answer" in v)
    reminder_block = f"tp:{digest['tp'].id}:" + next(
        str(n.id) for n in nudges(kind=NudgeKind.REMINDER))
    # The reminder's buttons stay; the survey's are gone, its entry says it is answered.
    assert after == {reminder_block: before[reminder_block]}
    assert survey_block not in after
    text = update.params["text"]
    assert "Career conversation with Ravi Report" in text
    assert "Connection pulse: answered — thank you" in text
    assert "Your answer: recorded anonymously, without your name or the time" in text
    assert "waiting for your answers" not in text
    sent = json.dumps(update.params)
    assert COMMENT not in sent and "tp_survey_answer" not in sent


def test_answering_on_the_page_marks_the_survey_answered_in_the_digest(digest, client, login, fake_slack):
    login(digest["rosa"])
    round_ = digest["round"]
    queued = len(nudges())
    response = client.post(f"/surveys/rounds/{round_.id}/answer", data=_page_answers(round_))
    assert response.status_code == 302
    assert fake_slack.calls_to("chat.update") == []  # Slack is called once the page has answered
    response.close()
    _assert_digest_marked_answered(fake_slack, digest)
    assert services.has_answered(round_.id, digest["rosa"].id)
    # Nothing new was written to the outbox: no row carries the moment of the answer.
    assert len(nudges()) == queued


def test_answering_in_the_dialog_opened_from_the_digest_updates_the_digest(digest, client, fake_slack):
    message = digest["message"]
    [block] = [b for b in message["blocks"] if b["type"] == "actions"
               and any(e["action_id"] == "tp_survey_answer" for e in b["elements"])]
    [button] = [e for e in block["elements"] if e["action_id"] == "tp_survey_answer"]
    press = {
        "type": "block_actions", "user": {"id": "U0ROSA"}, "trigger_id": "1.2.3",
        "container": {"type": "message", "channel_id": message["channel"], "message_ts": message["ts"]},
        "channel": {"id": message["channel"]}, "message": {"ts": message["ts"], "blocks": message["blocks"]},
        "actions": [{"type": "button", "action_id": "tp_survey_answer", "block_id": block["block_id"],
                     "value": button["value"], "action_ts": str(time.time())}],
    }
    body, headers = signed_interaction(press, secret=SIGNING_SECRET)
    assert client.post("/slack/interactions", data=body, headers=headers).status_code == 200
    [opened] = fake_slack.calls_to("views.open")
    view = opened.params["view"]
    values = {}
    for b in view["blocks"]:
        if b["type"] != "input":
            continue
        element = b["element"]
        if element["type"] == "plain_text_input":
            values[b["block_id"]] = {"value": {"type": "plain_text_input", "value": COMMENT}}
        else:
            picked = {"type": element["type"], "selected_option": element["options"][2]}
            values[b["block_id"]] = {"value": picked}
    submission = {"type": "view_submission", "user": {"id": "U0ROSA"},
                  "view": {"callback_id": view["callback_id"], "private_metadata": view["private_metadata"],
                           "state": {"values": values}}}
    body, headers = signed_interaction(submission, secret=SIGNING_SECRET)
    response = client.post("/slack/interactions", data=body, headers=headers)
    assert response.status_code == 200 and response.get_data() == b""  # the dialog closes
    response.close()
    _assert_digest_marked_answered(fake_slack, digest)


def test_answering_through_the_api_updates_the_digest(digest, client, fake_slack):
    from touchpoints.api.services import issue_token, user_for_email

    issued = issue_token(user_for_email(digest["rosa"].email), "Survey app", created_by=None)
    db.session.commit()
    round_ = digest["round"]
    answers = {q.key: {"agreement": 2, "enps": 3, "short_text": COMMENT}.get(
        q.kind.value, q.choices[0]["key"] if q.choices else None)
        for q in round_.version.questions if q.audience.value != "new_hires"}
    response = client.post(f"/api/v1/rounds/{round_.id}/responses", json={"answers": answers},
                           headers={"Authorization": f"Bearer {issued.raw}"})
    assert response.status_code == 201, response.get_json()
    response.close()
    _assert_digest_marked_answered(fake_slack, digest)


def test_a_survey_dm_of_its_own_is_thanked_when_answered_on_the_page(app, client, login, fake_slack):
    team = make_team("Design")
    rosa = make_employee("Rosa Slack", team=team, preferred_channel=Channel.SLACK)
    for i in range(5):
        make_employee(f"Colleague {i}", team=team, preferred_channel=Channel.IN_APP)
    fake_slack.add_user(rosa.email, "U0ROSA")
    db.session.commit()
    round_ = open_round(pulse_survey())
    queue_survey_nudges(now=utcnow())
    deliver(now=utcnow())
    [message] = fake_slack.messages()
    [sent] = nudges(recipient_id=rosa.id, channel="slack")
    assert not sent.bundled

    login(rosa)
    client.post(f"/surveys/rounds/{round_.id}/answer", data=_page_answers(round_)).close()
    [update] = fake_slack.calls_to("chat.update")
    assert (update.params["channel"], update.params["ts"]) == tuple(sent.external_ref.split(":", 1))
    assert update.params["channel"] == message["channel"]
    assert update.params["text"].startswith("✅ Thanks — your answer is in. It is anonymous")
    assert COMMENT not in json.dumps(update.params) and "actions" not in json.dumps(update.params["blocks"])


def test_an_unanswered_survey_in_a_digest_is_left_alone(digest, client, fake_slack):
    """Someone else answering changes nothing in Rosa's digest."""
    round_ = digest["round"]
    other = db.session.scalar(select(services.SurveyInvitation.employee_id).where(
        services.SurveyInvitation.round_id == round_.id,
        services.SurveyInvitation.employee_id != digest["rosa"].id).limit(1))
    from tests.surveys.helpers import answers

    services.submit_response(round_.id, other, answers(round_))
    assert fake_slack.calls_to("chat.update") == []
