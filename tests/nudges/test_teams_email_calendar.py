"""Teams workflows (Adaptive Card in the attachments envelope, signed links, broken webhooks, 429/5xx),
email through SMTP, the in-app list, and calendar invitations and feeds."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar

from tests.factories import DEFAULT_PASSWORD, make_employee
from tests.nudges.conftest import NOW, in_days, make_touchpoint, nudges
from touchpoints.extensions import db
from touchpoints.journeys.models import TouchpointKind, TouchpointStatus
from touchpoints.nudges.links import read_action
from touchpoints.nudges.models import DeliveryProfile
from touchpoints.nudges.reminders import remind_owners
from touchpoints.nudges.services import deliver, profile_for
from touchpoints.people.models import Channel


def _teams_owner(fake_teams, name="personal"):
    owner = make_employee("Theo Teams", preferred_channel=Channel.TEAMS)
    profile_for(owner.id).teams_webhook_url = fake_teams.url(name)
    db.session.commit()
    return owner


def test_teams_gets_an_adaptive_card_whose_buttons_are_signed_links(app, people, fake_teams):
    owner = _teams_owner(fake_teams)
    tp = make_touchpoint(people["report"], owner, due_at=in_days(2, NOW.replace(hour=14)))
    remind_owners(now=NOW)
    assert deliver(now=NOW).sent == 1
    [(name, body)] = fake_teams.state.accepted
    assert name == "personal" and body["type"] == "message"
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    actions = [
        a
        for c in card["body"]
        if c["type"] == "Container"
        for i in c["items"]
        if i["type"] == "ActionSet"
        for a in i["actions"]
    ]
    assert [a["title"] for a in actions] == ["Done — in person", "Done — another way…", "Reschedule", "Open"]
    assert all(a["type"] == "Action.OpenUrl" for a in actions)
    token = actions[0]["url"].rsplit("/", 1)[-1]
    with app.test_request_context():
        link = read_action(token, max_age_days=14)
    assert (link.action, link.touchpoint_id, link.recipient_id) == ("done_in_person", tp.id, owner.id)


def test_a_deleted_workflow_marks_the_webhook_broken_without_a_retry_storm(
    app, people, fake_teams, fake_smtp
):
    owner = _teams_owner(fake_teams, "deleted")
    fake_teams.state.gone.add("deleted")
    make_touchpoint(people["report"], owner, due_at=in_days(2, NOW.replace(hour=14)))
    remind_owners(now=NOW)
    assert deliver(now=NOW).dead == 1
    assert "404" in nudges()[0].last_error
    assert db.session.get(DeliveryProfile, owner.id).teams_webhook_broken_at is not None
    for hours in range(1, 5):
        deliver(now=NOW + timedelta(hours=hours))
    assert len(fake_teams.state.received) == 1
    # The next nudge falls back to email.
    make_touchpoint(people["report"], owner, due_at=in_days(5, NOW.replace(hour=14)))
    remind_owners(now=NOW + timedelta(days=1))
    deliver(now=NOW + timedelta(days=1))
    assert [m.recipients for m in fake_smtp.state.messages] == [[owner.email]]


def test_teams_429_and_500_are_retried_like_slack(app, people, fake_teams):
    owner = _teams_owner(fake_teams)
    make_touchpoint(people["report"], owner, due_at=in_days(2, NOW.replace(hour=14)))
    remind_owners(now=NOW)
    fake_teams.then(status=429, retry_after=90)
    assert deliver(now=NOW).retried == 1
    assert nudges()[0].next_attempt_at >= NOW + timedelta(seconds=90)
    fake_teams.then(status=502)
    assert deliver(now=NOW + timedelta(minutes=2)).retried == 1
    assert deliver(now=NOW + timedelta(hours=1)).sent == 1
    assert len(fake_teams.state.accepted) == 1


def test_email_carries_text_html_and_signed_links(app, people, fake_smtp):
    make_touchpoint(people["manager"], people["report"], due_at=in_days(2, NOW.replace(hour=14)))
    remind_owners(now=NOW)  # the report owns this one and prefers email
    assert deliver(now=NOW).sent == 1
    [mail] = fake_smtp.state.messages
    assert mail.recipients == [people["report"].email]
    assert mail.message["Subject"].startswith("One-on-one with Mia Manager")
    text = mail.message.get_body(("plain",)).get_content()
    assert "Done — in person: http://touchpoints.test/nudges/act/" in text
    assert mail.message.get_body(("html",)) is not None


def test_a_refused_address_is_dead_with_the_reason(app, people, fake_smtp):
    fake_smtp.state.refuse.add(people["report"].email.lower())
    make_touchpoint(people["manager"], people["report"], due_at=in_days(2, NOW.replace(hour=14)))
    remind_owners(now=NOW)
    assert deliver(now=NOW).dead == 1
    assert "refused" in nudges()[0].last_error


def test_mail_server_down_is_retried(app, people, fake_smtp):
    app.config["SMTP_PORT"] = 9
    make_touchpoint(people["manager"], people["report"], due_at=in_days(2, NOW.replace(hour=14)))
    remind_owners(now=NOW)
    assert deliver(now=NOW).retried == 1


def test_in_app_notifications_list_and_badge(app, client, login, people):
    from touchpoints.nudges.models import NudgeKind
    from touchpoints.nudges.services import enqueue

    enqueue(
        dedup_key="hello",
        kind=NudgeKind.NOTICE,
        recipient=people["hr"],
        at=NOW,
        payload={"headline": "Slack sending is paused", "link": "/nudges/delivery"},
    )
    db.session.commit()
    deliver(now=NOW)
    login(people["hr"])
    assert client.get("/notifications/unread.json").json == {"unread": 1}
    page = client.get("/notifications")
    assert b"Slack sending is paused" in page.data and b'href="/nudges/delivery"' in page.data
    client.post("/notifications/read")
    assert client.get("/notifications/unread.json").json == {"unread": 0}
    other = app.test_client()
    other.post("/login", data={"email": people["report"].email, "password": DEFAULT_PASSWORD})
    page = other.get("/notifications")
    assert page.status_code == 200 and b"Slack sending is paused" not in page.data


# ---------------------------------------------------------------- calendar


def _ics(response) -> Calendar:
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    return Calendar.from_ical(response.data)


def test_an_invitation_keeps_its_uid_and_counts_its_changes(app, client, login, people):
    from touchpoints.auth.models import User
    from touchpoints.db_types import utcnow
    from touchpoints.journeys.outcomes import cancel_touchpoint, reschedule

    people["report"].timezone = "Europe/Berlin"
    db.session.commit()
    tp = make_touchpoint(people["report"], people["manager"], due_at=utcnow() + timedelta(days=7))
    login(people["manager"])
    first = _ics(client.get(f"/touchpoints/{tp.id}/invite.ics"))
    [event] = first.walk("VEVENT")
    assert first["METHOD"] == "REQUEST" and event["SEQUENCE"] == 0
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin" and first.walk("VTIMEZONE")
    uid = str(event["UID"])
    manager_user = db.session.query(User).filter_by(employee_id=people["manager"].id).one()
    reschedule(tp, due_at=utcnow() + timedelta(days=8), actor=manager_user)
    db.session.commit()
    [moved] = _ics(client.get(f"/touchpoints/{tp.id}/invite.ics")).walk("VEVENT")
    assert str(moved["UID"]) == uid and moved["SEQUENCE"] == 1
    cancel_touchpoint(tp, actor=manager_user, reason="Leaving early")
    db.session.commit()
    cancelled = _ics(client.get(f"/touchpoints/{tp.id}/invite.ics"))
    [gone] = cancelled.walk("VEVENT")
    assert cancelled["METHOD"] == "CANCEL" and str(gone["UID"]) == uid and gone["SEQUENCE"] == 2
    assert tp.status is TouchpointStatus.CANCELLED


def test_sensitive_invitations_keep_their_subject_private(app, client, login, people):
    from touchpoints.db_types import utcnow

    tp = make_touchpoint(
        people["report"],
        people["manager"],
        due_at=utcnow() + timedelta(days=7),
        kind=TouchpointKind.EXIT_INTERVIEW,
        title="Exit interview: reasons for leaving",
    )
    login(people["manager"])
    [event] = _ics(client.get(f"/touchpoints/{tp.id}/invite.ics")).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Conversation with Ravi Report" and str(event["CLASS"]) == "PRIVATE"


def test_a_calendar_feed_has_a_secret_revocable_address(app, client, login, people):
    from touchpoints.db_types import utcnow

    make_touchpoint(people["report"], people["manager"], due_at=utcnow() + timedelta(days=3))
    login(people["manager"])
    client.post("/notifications/calendar", data={"action": "new"})
    token = db.session.get(DeliveryProfile, people["manager"].id).calendar_token
    anonymous = app.test_client()
    feed = _ics(anonymous.get(f"/calendar/{token}.ics"))
    assert feed["METHOD"] == "PUBLISH" and len(feed.walk("VEVENT")) == 1
    client.post("/notifications/calendar", data={"action": "new"})
    assert anonymous.get(f"/calendar/{token}.ics").status_code == 404  # the old address stops working
    db.session.expire_all()
    token = db.session.get(DeliveryProfile, people["manager"].id).calendar_token
    client.post("/notifications/calendar", data={"action": "revoke"})
    assert anonymous.get(f"/calendar/{token}.ics").status_code == 404
