"""Respect for people: quiet and working hours in their zone across DST, digests, a daily cap, the
preferred channel; and the passes: reminder moments, rescheduling, escalations, and catch-up after
a scheduler was down for three days without a flood."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from tests.factories import make_employee, make_team
from tests.nudges.conftest import NOW, activate_policy, in_days, make_touchpoint, nudges
from touchpoints.extensions import db
from touchpoints.journeys.models import TouchpointStatus
from touchpoints.nudges.models import DeliveryProfile, NudgeKind, NudgeStatus
from touchpoints.nudges.reminders import escalate_overdue, remind_owners
from touchpoints.nudges.services import deliver, enqueue
from touchpoints.people.models import Channel


def _quiet_hours_policy():
    activate_policy(
        key="quiet-hours",
        name="Quiet hours",
        rule="quiet_hours",
        params={"working_days_only": True, "respect_personal_quiet_hours": True},
    )


def test_nothing_arrives_in_quiet_hours_across_the_spring_dst_change(app, fake_slack):
    _quiet_hours_policy()
    # New York moves to summer time on Sunday 9 March 2025 (02:00 -> 03:00).
    person = make_employee(
        "Nia NewYork",
        preferred_channel=Channel.SLACK,
        timezone="America/New_York",
        country_code="US",
        work_start=time(9, 0),
        work_end=time(17, 0),
        quiet_hours_start=time(8, 0),
        quiet_hours_end=time(10, 0),
    )
    fake_slack.add_user(person.email, "U0NIA")
    friday_evening = datetime(2025, 3, 7, 23, 0, tzinfo=UTC)  # 18:00 in New York (EST, UTC-5)
    enqueue(
        dedup_key="dst",
        kind=NudgeKind.REMINDER,
        recipient=person,
        at=friday_evening,
        payload={"headline": "Your week ahead"},
    )
    db.session.commit()
    assert deliver(now=friday_evening).held == 1 and fake_slack.messages() == []
    [held] = nudges()
    # Held to Monday 10:00 New York time (after the person's own quiet hours), now EDT: 14:00 UTC.
    assert held.next_attempt_at == datetime(2025, 3, 10, 14, 0, tzinfo=UTC)
    assert deliver(now=datetime(2025, 3, 10, 13, 59, tzinfo=UTC)).sent == 0
    assert deliver(now=datetime(2025, 3, 10, 14, 0, tzinfo=UTC)).sent == 1


def test_daily_digest_bundles_a_managers_nudges_into_one_message(app, people, fake_slack):
    from touchpoints.nudges.services import profile_for

    profile_for(people["manager"].id).daily_digest = True
    db.session.commit()
    for hour in (11, 14, 16):
        make_touchpoint(
            people["report"],
            people["manager"],
            due_at=in_days(2, NOW.replace(hour=hour)),
            title=f"Check-in at {hour}",
        )
    remind_owners(now=NOW)
    report = deliver(now=NOW)
    assert report.sent == 3 and report.messages == 1
    # Something that comes up later in the day waits for tomorrow's digest.
    enqueue(
        dedup_key="later",
        kind=NudgeKind.REMINDER,
        recipient=people["manager"],
        at=NOW + timedelta(hours=2),
        payload={"headline": "Later today"},
    )
    db.session.commit()
    assert deliver(now=NOW + timedelta(hours=2)).held == 1
    assert nudges(dedup_key="later")[0].next_attempt_at == datetime(2025, 1, 16, 9, 0, tzinfo=UTC)
    [message] = fake_slack.messages()
    assert (
        "Your touchpoints today (3)" in message["text"]
        and "Check-in at 11" in message["text"]
        and "Check-in at 16" in message["text"]
    )
    assert all(n.bundled for n in nudges(kind=NudgeKind.REMINDER)[:3])


def test_a_daily_cap_holds_the_rest_until_tomorrow(app, people, fake_slack):
    app.config["NUDGE_DAILY_CAP"] = 2
    for i in range(3):
        enqueue(
            dedup_key=f"cap:{i}",
            kind=NudgeKind.REMINDER,
            recipient=people["manager"],
            at=NOW + timedelta(minutes=i),
            payload={"headline": f"Item {i}"},
        )
        db.session.commit()
        deliver(now=NOW + timedelta(minutes=i))
    assert len(fake_slack.messages()) == 2
    held = nudges(status=NudgeStatus.PENDING)
    assert len(held) == 1 and held[0].next_attempt_at.date() == (NOW + timedelta(days=1)).date()
    deliver(now=NOW + timedelta(days=1))
    assert len(fake_slack.messages()) == 3


def test_the_preferred_channel_is_honoured_when_it_changes(app, people, fake_slack, fake_smtp):
    enqueue(
        dedup_key="pref",
        kind=NudgeKind.REMINDER,
        recipient=people["manager"],
        at=NOW,
        payload={"headline": "Hello"},
    )
    db.session.commit()
    people["manager"].preferred_channel = Channel.EMAIL  # changed after it was queued
    db.session.commit()
    deliver(now=NOW)
    assert fake_slack.messages() == [] and len(fake_smtp.state.messages) == 1


def test_reminders_come_two_working_days_before_and_the_same_morning_once_each(app, people, fake_slack):
    # Due Monday 20 January 15:00: two working days before is Thursday 09:00 (the weekend is skipped).
    tp = make_touchpoint(people["report"], people["manager"], due_at=datetime(2025, 1, 20, 15, 0, tzinfo=UTC))
    moments = [NOW + timedelta(minutes=5 * i) for i in range(12 * 24 * 6)]  # every five minutes for six days
    queued = [m for m in moments[::6] if remind_owners(now=m)["queued"]]
    assert [q.strftime("%a %H:%M") for q in queued] == ["Thu 09:00", "Mon 09:00"]
    assert [n.payload["lead"] for n in nudges(touchpoint_id=tp.id)] == ["2wd", "morning"]
    remind_owners(now=moments[-1])  # again: nothing new
    assert len(nudges()) == 2


def test_a_moved_touchpoint_drops_its_old_reminder_and_gets_a_new_one(app, people, fake_slack):
    tp = make_touchpoint(people["report"], people["manager"], due_at=in_days(2, NOW.replace(hour=14)))
    remind_owners(now=NOW)
    tp.due_at = in_days(2, NOW.replace(hour=16))
    db.session.commit()
    deliver(now=NOW)
    [old] = nudges()
    assert old.status is NudgeStatus.CANCELLED and "moved" in old.last_error


def test_a_logged_touchpoint_cancels_its_reminder(app, people, fake_slack):
    tp = make_touchpoint(people["report"], people["manager"], due_at=in_days(2, NOW.replace(hour=14)))
    remind_owners(now=NOW)
    tp.status = TouchpointStatus.DONE
    db.session.commit()
    deliver(now=NOW)
    assert nudges()[0].status is NudgeStatus.CANCELLED and fake_slack.messages() == []


def test_overdue_touchpoints_escalate_to_the_teams_hr_partner_once(app, people, fake_slack):
    team_hr = make_employee("Tess TeamHR", preferred_channel=Channel.IN_APP)
    team = make_team("Support", hr_partner_id=team_hr.id)
    people["report"].team = team
    db.session.commit()
    tp = make_touchpoint(people["report"], people["manager"], due_at=NOW - timedelta(days=3, hours=1))
    assert escalate_overdue(now=NOW)["queued"] == 1
    assert escalate_overdue(now=NOW + timedelta(hours=1))["queued"] == 0
    [escalation] = nudges(kind=NudgeKind.ESCALATION)
    assert escalation.recipient_id == team_hr.id and escalation.touchpoint_id == tp.id


def test_three_days_down_catches_up_without_a_flood(app, people, fake_slack):
    hr = people["hr"]
    hr.preferred_channel = Channel.SLACK
    fake_slack.add_user(hr.email, "U0HANA")
    db.session.commit()
    remind_owners(now=NOW)
    escalate_overdue(now=NOW)
    deliver(now=NOW)
    # While the scheduler is down: touchpoints come due, pass and go overdue.
    for day in range(1, 4):
        make_touchpoint(
            people["report"],
            people["manager"],
            due_at=NOW + timedelta(days=day, hours=2),
            title=f"Missed while down {day}",
        )
    make_touchpoint(people["report"], people["manager"], due_at=NOW - timedelta(days=1), title="Older")
    make_touchpoint(
        people["report"], people["manager"], due_at=NOW + timedelta(days=3, hours=5), title="Today"
    )
    back = NOW + timedelta(days=3, hours=1)
    remind_owners(now=back)
    escalate_overdue(now=back)
    deliver(now=back)
    messages = fake_slack.messages()
    by_channel = {}
    for m in messages:
        by_channel.setdefault(m["channel"], []).append(m)
    # The manager gets one message (today's meeting), not a reminder for each day missed.
    assert len(by_channel.get("D0MIA", [])) == 1 and "Today" in by_channel["D0MIA"][0]["text"]
    # HR gets the overdue ones bundled in one message.
    assert len(by_channel.get("D0HANA", [])) == 1
    assert "Missed while down 1" not in by_channel["D0MIA"][0]["text"]


def test_digest_profile_row_exists_once(app, people):
    from touchpoints.nudges.services import profile_for

    assert profile_for(people["manager"].id) is profile_for(people["manager"].id)
    assert db.session.get(DeliveryProfile, people["manager"].id) is not None
