"""Calendar invitations by email: planned, moved and cancelled one-on-ones reach both people's inboxes
as invitations calendar clients act on (text/calendar with its METHOD, stable UID, SEQUENCE, TZID)."""

from __future__ import annotations

import re
from datetime import time, timedelta

from icalendar import Calendar
from sqlalchemy import select

from tests.factories import make_employee, make_manager
from tests.nudges.conftest import nudges
from touchpoints.auth.models import User
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.models import TouchpointKind
from touchpoints.journeys.outcomes import cancel_touchpoint, plan_touchpoint, reschedule
from touchpoints.nudges.models import NudgeKind, NudgeStatus
from touchpoints.nudges.preferences import set_invites
from touchpoints.nudges.services import deliver
from touchpoints.people.models import Channel

# Working all day, every day: delivery is not held for working hours whenever the test runs.
ALWAYS = {"work_start": time(0, 0), "work_end": time(23, 59), "work_days": "1234567"}


def _pair():
    manager = make_manager("Mia Manager", preferred_channel=Channel.SLACK, timezone="Europe/London", **ALWAYS)
    report = make_employee(
        "Ravi Report", manager=manager, preferred_channel=Channel.IN_APP, timezone="Europe/Berlin", **ALWAYS
    )
    actor = db.session.scalar(select(User).where(User.employee_id == manager.id))
    return manager, report, actor


def _plan(report, actor, kind=TouchpointKind.ONE_ON_ONE, title="Weekly one-on-one"):
    tp = plan_touchpoint(
        report,
        kind=kind,
        title=title,
        planned_mode="video",
        due_at=(utcnow() + timedelta(days=7)).replace(microsecond=0),
        owner=None,
        actor=actor,
    )
    db.session.commit()
    return tp


def _invitations(fake_smtp) -> dict[str, tuple]:
    """Each received invitation by recipient: (the message, its text/calendar part, the parsed calendar)."""
    found = {}
    for received in fake_smtp.state.messages:
        message = received.message
        parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
        if not parts:
            continue
        [part] = parts
        found[received.recipients[0]] = (message, part, Calendar.from_ical(part.get_content()))
    return found


def _ticked(page: str) -> bool:
    [box] = re.findall(r'<input[^>]*name="calendar_invites"[^>]*>', page)
    return " checked" in box


def test_planning_a_one_on_one_emails_both_people_an_invitation(app, fake_smtp):
    manager, report, actor = _pair()
    tp = _plan(report, actor)
    queued = nudges(kind=NudgeKind.CALENDAR_INVITE)
    assert {n.recipient_id for n in queued} == {manager.id, report.id}
    assert {n.channel.value for n in queued} == {"email"}  # whatever their chat channel
    report_run = deliver()
    assert report_run.sent == 2, report_run.summary()
    invites = _invitations(fake_smtp)
    assert set(invites) == {manager.email, report.email}
    message, part, calendar = invites[report.email]
    assert part.get_param("method") == "REQUEST" and calendar["METHOD"] == "REQUEST"
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"touchpoint-{tp.id}@touchpoints.test" and event["SEQUENCE"] == 0
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin" and calendar.walk("VTIMEZONE")
    assert event["DTSTART"].dt == tp.due_at  # the same moment, written in the person's zone
    assert str(event["SUMMARY"]) == "Weekly one-on-one with Mia Manager"
    assert message["Subject"] == "Invitation: Weekly one-on-one with Mia Manager"
    # The same event as a file, for clients that only offer to open attachments.
    [attachment] = [p for p in message.iter_attachments() if p.get_filename() == "invite.ics"]
    assert Calendar.from_ical(attachment.get_content())["METHOD"] == "REQUEST"
    assert "Berlin time" in message.get_body(("plain",)).get_content()
    # The manager's copy is titled from their side.
    [manager_event] = invites[manager.email][2].walk("VEVENT")
    assert str(manager_event["SUMMARY"]) == "Weekly one-on-one with Ravi Report"


def test_moving_and_cancelling_send_new_versions_with_the_same_uid(app, fake_smtp):
    _manager, report, actor = _pair()
    tp = _plan(report, actor)
    deliver()
    reschedule(tp, due_at=tp.due_at + timedelta(days=1), actor=actor)
    db.session.commit()
    deliver()
    cancel_touchpoint(tp, actor=actor, reason="Ravi is on leave")
    db.session.commit()
    deliver()
    mine = [
        (part.get_param("method"), calendar)
        for received in fake_smtp.state.messages
        if received.recipients == [report.email]
        for part in received.message.walk()
        if part.get_content_type() == "text/calendar"
        for calendar in [Calendar.from_ical(part.get_content())]
    ]
    assert [method for method, _ in mine] == ["REQUEST", "REQUEST", "CANCEL"]
    events = [calendar.walk("VEVENT")[0] for _, calendar in mine]
    assert len({str(e["UID"]) for e in events}) == 1
    assert [e["SEQUENCE"] for e in events] == [0, 1, 2]
    assert str(events[2]["STATUS"]) == "CANCELLED"
    subjects = [r.message["Subject"] for r in fake_smtp.state.messages if r.recipients == [report.email]]
    assert subjects == [
        "Invitation: Weekly one-on-one with Mia Manager",
        "Updated invitation: Weekly one-on-one with Mia Manager",
        "Cancelled: Weekly one-on-one with Mia Manager",
    ]


def test_an_invitation_overtaken_before_it_left_is_not_sent(app, fake_smtp):
    _manager, report, actor = _pair()
    tp = _plan(report, actor)
    reschedule(tp, due_at=tp.due_at + timedelta(hours=2), actor=actor)
    db.session.commit()
    deliver()
    sequences = [
        Calendar.from_ical(part.get_content()).walk("VEVENT")[0]["SEQUENCE"]
        for received in fake_smtp.state.messages
        for part in received.message.walk()
        if part.get_content_type() == "text/calendar"
    ]
    assert sequences == [1, 1]  # only the latest version, to each person once
    old = [n for n in nudges(kind=NudgeKind.CALENDAR_INVITE) if n.payload["sequence"] == 0]
    assert {n.status for n in old} == {NudgeStatus.CANCELLED} and "later change" in old[0].last_error


def test_people_who_turned_invitations_off_get_none(app, client, login, fake_smtp):
    manager, report, actor = _pair()
    login(report)
    assert _ticked(client.get("/notifications/settings").get_data(as_text=True))  # on unless turned off
    response = client.post("/notifications/settings", data={"teams_webhook_url": ""})  # box unticked
    assert response.status_code == 302
    assert not _ticked(client.get("/notifications/settings").get_data(as_text=True))
    _plan(report, actor)
    assert {n.recipient_id for n in nudges(kind=NudgeKind.CALENDAR_INVITE)} == {manager.id}
    deliver()
    assert set(_invitations(fake_smtp)) == {manager.email}
    # Turned back on: the next change reaches them again.
    set_invites(report.id, True, actor_id=None)
    db.session.commit()
    assert _ticked(client.get("/notifications/settings").get_data(as_text=True))


def test_an_invitation_queued_before_someone_turned_them_off_is_not_sent(app, fake_smtp):
    manager, report, actor = _pair()
    _plan(report, actor)
    set_invites(report.id, False, actor_id=actor.id)
    db.session.commit()
    deliver()
    assert set(_invitations(fake_smtp)) == {manager.email}
    [held_back] = nudges(kind=NudgeKind.CALENDAR_INVITE, recipient_id=report.id)
    assert held_back.status is NudgeStatus.CANCELLED
    assert "turned calendar invitations off" in held_back.last_error


def test_kinds_without_a_calendar_slot_send_no_invitation(app, fake_smtp):
    _manager, report, actor = _pair()
    _plan(report, actor, kind=TouchpointKind.COFFEE_CHAT, title="Coffee")
    assert nudges(kind=NudgeKind.CALENDAR_INVITE) == []
