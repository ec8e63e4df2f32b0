"""Delivery to Slack through slack-sdk's WebClient against the fake Slack: what arrives, and what
happens on every kind of answer (429, 500, ok:false errors, revoked tokens, lost answers)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.factories import make_employee
from tests.nudges.conftest import NOW, in_days, make_touchpoint, nudges
from touchpoints.extensions import db
from touchpoints.journeys.models import TouchpointKind
from touchpoints.nudges.models import ChannelState, DeliveryChannel, DeliveryProfile, NudgeKind, NudgeStatus
from touchpoints.nudges.reminders import remind_owners
from touchpoints.nudges.services import deliver, enqueue, resume_channel
from touchpoints.people.models import Channel, Employee


def _remind(people, *, days: float = 2, kind=TouchpointKind.ONE_ON_ONE, title="One-on-one"):
    tp = make_touchpoint(
        people["report"],
        people["manager"],
        due_at=in_days(days, NOW.replace(hour=14)),
        kind=kind,
        title=title,
    )
    assert remind_owners(now=NOW)["queued"] == 1
    return tp


def test_a_reminder_reaches_the_owner_as_a_direct_message_with_buttons(app, people, fake_slack):
    tp = _remind(people)
    report = deliver(now=NOW)
    assert report.sent == 1
    [message] = fake_slack.messages()
    assert message["channel"] == "D0MIA"
    assert message["text"].startswith("One-on-one with Ravi Report is due in two working days")
    assert "Fri 17 Jan 2025, 14:00 (London time)" in message["text"]  # the owner's own zone
    buttons = [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [b["text"]["text"] for b in buttons] == [
        "Done — in person",
        "Done — another way…",
        "Reschedule",
        "Open",
    ]
    assert (
        buttons[0]["value"] == str(tp.id)
        and buttons[3]["url"] == f"http://touchpoints.test/touchpoints/{tp.id}"
    )
    # The Slack id and the direct-message channel are kept: the next nudge needs one call.
    assert db.session.get(Employee, people["manager"].id).slack_user_id == "U0MIA"
    assert db.session.get(DeliveryProfile, people["manager"].id).slack_dm_channel == "D0MIA"
    make_touchpoint(people["report"], people["manager"], due_at=in_days(5, NOW.replace(hour=14)))
    assert remind_owners(now=NOW + timedelta(days=1))["queued"] == 1  # Monday's, two working days ahead
    fake_slack.state.calls.clear()
    deliver(now=NOW + timedelta(days=1))
    assert [c.method for c in fake_slack.state.calls] == ["chat.postMessage"]


def test_sensitive_moments_say_who_and_when_never_what(app, people, fake_slack):
    _remind(people, kind=TouchpointKind.PERFORMANCE_REVIEW, title="Annual review: pay band discussion")
    deliver(now=NOW)
    [message] = fake_slack.messages()
    assert "review" not in str(message).lower() and "pay band" not in str(message)
    assert message["text"].startswith("A conversation with Ravi Report is due")
    buttons = [e["text"]["text"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons == ["Open"]


def test_the_policy_that_applies_is_shown(app, people, fake_slack):
    from tests.nudges.conftest import activate_policy

    activate_policy(
        key="one-on-ones-live",
        name="One-on-ones live",
        rule="required_modes",
        scope={"kinds": ["one_on_one"]},
        params={"modes": ["in_person", "video"]},
    )
    _remind(people)
    deliver(now=NOW)
    [message] = fake_slack.messages()
    assert (
        "One-on-ones must happen in person or by video call (One-on-ones live)" in message["text"]
        or "(One-on-ones live)" in message["text"]
    )


def test_429_waits_for_retry_after_and_holds_the_rest_of_slack(app, people, fake_slack):
    _remind(people)
    other = make_employee("Omar Owner", preferred_channel=Channel.SLACK)
    fake_slack.add_user(other.email, "U0OMAR")
    enqueue(
        dedup_key="notice-omar",
        kind=NudgeKind.REMINDER,
        recipient=other,
        at=NOW,
        payload={"headline": "Something for Omar"},
    )
    db.session.commit()
    fake_slack.then("chat.postMessage", status=429, retry_after=120)
    report = deliver(now=NOW)
    assert report.retried == 1 and report.held == 1 and report.sent == 0
    failed = nudges(status=NudgeStatus.FAILED)[0]
    assert failed.next_attempt_at >= NOW + timedelta(seconds=120)
    assert "429" in failed.last_error
    assert len(fake_slack.calls_to("chat.postMessage")) == 1  # no hammering while rate limited
    # After Retry-After both go out.
    report = deliver(now=NOW + timedelta(minutes=5))
    assert report.sent == 2 and len(fake_slack.messages()) == 2


def test_500_is_retried_later_and_then_delivered_once(app, people, fake_slack):
    _remind(people)
    fake_slack.then("chat.postMessage", status=500, body="<html>Internal Server Error</html>")
    assert deliver(now=NOW).retried == 1
    [failed] = nudges()
    assert failed.status is NudgeStatus.FAILED and failed.attempts == 1
    assert deliver(now=NOW + timedelta(seconds=5)).sent == 0  # not before its backoff
    assert deliver(now=NOW + timedelta(minutes=10)).sent == 1
    assert len(fake_slack.messages()) == 1


def test_too_many_failures_end_dead_with_the_reason(app, people, fake_slack, make_app, wired_config):
    _remind(people)
    for _ in range(3):
        fake_slack.then("chat.postMessage", status=503)
    app.config["NUDGE_MAX_ATTEMPTS"] = 3
    moment = NOW
    for _ in range(3):
        deliver(now=moment)
        moment += timedelta(hours=2)
    [dead] = nudges()
    assert dead.status is NudgeStatus.DEAD and dead.attempts == 3
    assert "Gave up after 3 attempts" in dead.last_error and "503" in dead.last_error


def test_a_revoked_token_pauses_slack_keeps_the_queue_and_alerts_hr(app, people, fake_slack):
    _remind(people)
    fake_slack.revoke()
    report = deliver(now=NOW)
    assert report.sent == 0 and report.paused == ["slack"]
    [waiting] = nudges(kind=NudgeKind.REMINDER)
    assert waiting.status is NudgeStatus.PENDING and waiting.attempts == 0  # kept, uncounted
    assert db.session.get(ChannelState, "slack").paused_at is not None
    [alert] = nudges(kind=NudgeKind.NOTICE)
    assert alert.recipient_id == people["hr"].id and "paused" in alert.payload["headline"]
    # Nothing is tried while paused, however often delivery runs.
    fake_slack.state.calls.clear()
    deliver(now=NOW + timedelta(hours=1))
    assert fake_slack.calls_to("chat.postMessage") == []
    # HR fixes the token and resumes: the kept reminder goes out.
    fake_slack.state.revoked.clear()
    from touchpoints.auth.models import User

    resume_channel(
        DeliveryChannel.SLACK,
        actor=db.session.scalar(select(User).where(User.employee_id == people["hr"].id)),
    )
    assert deliver(now=NOW + timedelta(hours=1)).sent == 1
    assert len(fake_slack.messages()) == 1


def test_channel_not_found_is_dead_at_once(app, people, fake_slack):
    _remind(people)
    fake_slack.then("chat.postMessage", error="channel_not_found")
    assert deliver(now=NOW).dead == 1
    [dead] = nudges()
    assert dead.status is NudgeStatus.DEAD and dead.attempts == 1 and "channel_not_found" in dead.last_error
    assert deliver(now=NOW + timedelta(days=1)).sent == 0


def test_a_person_slack_does_not_know_is_marked_and_then_reached_by_email(app, people, fake_slack, fake_smtp):
    stranger = make_employee("Sam Stranger", preferred_channel=Channel.SLACK)
    make_touchpoint(people["report"], stranger, due_at=in_days(2, NOW.replace(hour=14)))
    remind_owners(now=NOW)
    assert deliver(now=NOW).dead == 1
    [dead] = nudges()
    assert "users_not_found" in dead.last_error
    assert db.session.get(DeliveryProfile, stranger.id).slack_not_found_at is not None
    make_touchpoint(people["report"], stranger, due_at=in_days(5, NOW.replace(hour=14)))
    remind_owners(now=NOW + timedelta(days=1))
    assert deliver(now=NOW + timedelta(days=1)).sent == 1
    assert [m.recipients for m in fake_smtp.state.messages] == [[stranger.email]]
    assert nudges()[-1].channel is DeliveryChannel.EMAIL
    assert "Slack has no account" in nudges()[-1].last_error


def test_an_answer_that_never_comes_is_unknown_and_never_resent(app, people, fake_slack):
    _remind(people)
    app.config["NUDGE_SLACK_TIMEOUT"] = 1
    fake_slack.then("chat.postMessage", delay=2.5)
    assert deliver(now=NOW).unknown == 1
    [unknown] = nudges()
    assert unknown.status is NudgeStatus.UNKNOWN and "may have arrived" in unknown.last_error
    deliver(now=NOW + timedelta(days=1))
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


def test_slack_unreachable_is_retried(app, people, fake_slack):
    _remind(people)
    app.config["SLACK_API_URL"] = "http://127.0.0.1:9/api/"  # nothing listens on the discard port
    assert deliver(now=NOW).retried == 1
    assert nudges()[0].status is NudgeStatus.FAILED


def test_without_a_slack_token_slack_people_get_email(app, people, fake_slack, fake_smtp):
    app.config["SLACK_BOT_TOKEN"] = None
    _remind(people)
    assert deliver(now=NOW).sent == 1
    assert fake_slack.state.calls == []
    [mail] = fake_smtp.state.messages
    assert mail.recipients == [people["manager"].email]
    assert "Slack is not set up" in nudges()[0].last_error
