"""An occurrence nobody logged: the organiser is asked the morning after, in their own zone, once;
an occurrence logged or called off is not asked about; the pages say what waits to be logged."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from tests.factories import make_employee
from tests.nudges.conftest import activate_policy
from tests.rituals.helpers import plan, team_with_manager, user_of
from touchpoints.extensions import db
from touchpoints.nudges.models import Nudge, NudgeKind, NudgeStatus
from touchpoints.nudges.services import deliver
from touchpoints.rituals.models import OccurrenceStatus, RitualOccurrence
from touchpoints.rituals.services import (
    cancel_occurrence,
    log_occurrence,
    log_reminder_moment,
    remind_organisers,
    remind_to_log_attendance,
)


def only_occurrence(ritual) -> RitualOccurrence:
    return db.session.scalar(select(RitualOccurrence).where(RitualOccurrence.ritual_id == ritual.id)
                             .order_by(RitualOccurrence.due_at))


def log_reminders() -> list[Nudge]:
    return list(db.session.scalars(select(Nudge).where(Nudge.dedup_key.like("ritual-log:%"))
                                   .order_by(Nudge.id)))


def one_off(organiser, team, day: date, *, timezone: str = "Europe/London", at: time = time(10, 0),
            **extra):
    """A 90-minute team day on one day, organised by `organiser`."""
    return plan(organiser, team, title="Team day", rrule=None, starts_on=day, today=day, at=at,
                timezone=timezone, **extra)


def test_the_organiser_is_asked_the_morning_after_in_their_own_zone_once(app):
    team, manager, _ = team_with_manager("Log team")
    organiser = make_employee("Nora NewYork", team=team, timezone="America/New_York")
    ritual = one_off(manager, team, date(2026, 1, 14), organiser_email=organiser.email)
    occurrence = only_occurrence(ritual)
    assert occurrence.due_at == datetime(2026, 1, 14, 10, 0, tzinfo=UTC)  # 10:00 in London, GMT
    # Still going on (10:00-11:30 London): nothing yet.
    assert remind_to_log_attendance(datetime(2026, 1, 14, 11, 0, tzinfo=UTC))["queued"] == 0
    assert remind_to_log_attendance(datetime(2026, 1, 14, 11, 45, tzinfo=UTC))["queued"] == 1
    assert remind_to_log_attendance(datetime(2026, 1, 14, 12, 0, tzinfo=UTC))["queued"] == 0
    (nudge,) = log_reminders()
    assert nudge.dedup_key == f"ritual-log:{occurrence.id}"
    assert nudge.recipient_id == organiser.id and nudge.kind is NudgeKind.RITUAL_REMINDER
    # Nine the next morning in New York (EST, UTC-5), not in London.
    assert nudge.next_attempt_at == datetime(2026, 1, 15, 14, 0, tzinfo=UTC)
    assert nudge.payload["headline"] == "Who came to Team day on Wed 14 Jan?"
    assert nudge.payload["link"] == f"/rituals/occurrences/{occurrence.id}#log"


def test_without_an_organiser_the_teams_manager_is_asked(app):
    team, manager, _ = team_with_manager("Managed team")
    ritual = one_off(manager, team, date(2026, 1, 14))
    ritual.organiser_id = None
    db.session.commit()
    remind_to_log_attendance(datetime(2026, 1, 14, 12, 0, tzinfo=UTC))
    (nudge,) = log_reminders()
    assert nudge.recipient_id == manager.id
    assert nudge.next_attempt_at == datetime(2026, 1, 15, 9, 0, tzinfo=UTC)


def test_the_morning_after_stays_at_nine_across_the_spring_change(app):
    team, manager, _ = team_with_manager("Clock team")
    organiser = make_employee("Tamar Jerusalem", team=team, timezone="Asia/Jerusalem")
    # Israel moves to summer time on Friday 27 March 2026: Thursday is UTC+2, Friday morning UTC+3.
    occurrence = only_occurrence(one_off(manager, team, date(2026, 3, 26), timezone="Asia/Jerusalem",
                                         organiser_email=organiser.email))
    assert occurrence.due_at == datetime(2026, 3, 26, 8, 0, tzinfo=UTC)
    remind_to_log_attendance(datetime(2026, 3, 26, 12, 0, tzinfo=UTC))
    (nudge,) = log_reminders()
    assert nudge.recipient_id == organiser.id
    assert nudge.next_attempt_at == datetime(2026, 3, 27, 6, 0, tzinfo=UTC)  # 09:00 IDT, not 10:00


def test_the_morning_after_stays_at_nine_across_the_autumn_change():
    # London goes back to GMT on Sunday 25 October 2026: a Saturday event is asked about at 09:00 GMT.
    saturday = datetime(2026, 10, 24, 9, 0, tzinfo=UTC)  # 10:00 BST
    assert log_reminder_moment(saturday, saturday + timedelta(minutes=90), "Europe/London") == \
        datetime(2026, 10, 25, 9, 0, tzinfo=UTC)
    assert log_reminder_moment(saturday, saturday + timedelta(minutes=90), "America/New_York") == \
        datetime(2026, 10, 25, 13, 0, tzinfo=UTC)  # 09:00 EDT: New York changes a week later


def test_the_morning_after_an_evening_and_after_a_retreat():
    london = "Europe/London"
    evening = datetime(2026, 1, 14, 23, 0, tzinfo=UTC)
    assert log_reminder_moment(evening, evening + timedelta(minutes=90), london) == \
        datetime(2026, 1, 15, 9, 0, tzinfo=UTC)  # it ended after midnight: asked that same morning
    retreat = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)  # Monday 09:00 in London (BST)
    assert log_reminder_moment(retreat, retreat + timedelta(days=4, hours=8), london) == \
        datetime(2026, 6, 6, 8, 0, tzinfo=UTC)  # the Saturday after it ended, 09:00 BST


def test_a_logged_or_cancelled_occurrence_gets_no_reminder(app):
    team, manager, people = team_with_manager("Tidy team")
    held = only_occurrence(one_off(manager, team, date(2026, 1, 14)))
    off = only_occurrence(one_off(manager, team, date(2026, 1, 15)))
    log_occurrence(held, actual_mode="in_person", presences={people[0].id: "in_person"},
                   member_ids={p.id for p in people}, actor=user_of(manager),
                   now=datetime(2026, 1, 14, 12, 0, tzinfo=UTC))
    cancel_occurrence(off, reason="Snow", actor=user_of(manager))
    db.session.commit()
    assert remind_to_log_attendance(datetime(2026, 1, 16, 12, 0, tzinfo=UTC))["queued"] == 0
    assert log_reminders() == []


def test_logging_after_the_reminder_was_queued_withdraws_it(app):
    team, manager, people = team_with_manager("Late team")
    occurrence = only_occurrence(one_off(manager, team, date(2026, 1, 14)))
    remind_to_log_attendance(datetime(2026, 1, 14, 12, 0, tzinfo=UTC))
    (nudge,) = log_reminders()
    log_occurrence(occurrence, actual_mode="video", presences={}, member_ids={p.id for p in people},
                   actor=user_of(manager), now=datetime(2026, 1, 14, 18, 0, tzinfo=UTC))
    db.session.commit()
    db.session.refresh(nudge)
    assert nudge.status is NudgeStatus.CANCELLED
    assert deliver(now=datetime(2026, 1, 15, 9, 0, tzinfo=UTC)).sent == 0
    assert occurrence.status is OccurrenceStatus.HELD


def test_the_reminder_waits_for_the_organisers_working_hours_and_quiet_hours(app):
    activate_policy(key="quiet-hours", name="Quiet hours", rule="quiet_hours",
                    params={"working_days_only": True, "respect_personal_quiet_hours": True})
    team, manager, _ = team_with_manager("Quiet team")
    organiser = make_employee("Quinn Quiet", team=team, timezone="Europe/London", work_start=time(9, 0),
                              work_end=time(17, 0), quiet_hours_start=time(8, 30),
                              quiet_hours_end=time(10, 30))
    # Friday 16 January: the morning after is a Saturday, so the reminder waits for Monday.
    one_off(manager, team, date(2026, 1, 16), organiser_email=organiser.email)
    remind_to_log_attendance(datetime(2026, 1, 16, 12, 0, tzinfo=UTC))
    (nudge,) = log_reminders()
    assert nudge.next_attempt_at == datetime(2026, 1, 17, 9, 0, tzinfo=UTC)
    assert deliver(now=datetime(2026, 1, 17, 9, 0, tzinfo=UTC)).sent == 0
    db.session.refresh(nudge)
    # Held to Monday, after the organiser's own quiet hours (08:30-10:30).
    assert nudge.status is NudgeStatus.PENDING
    assert nudge.next_attempt_at == datetime(2026, 1, 19, 10, 30, tzinfo=UTC)
    assert deliver(now=datetime(2026, 1, 19, 10, 30, tzinfo=UTC)).sent == 1


def test_old_occurrences_are_left_to_the_page_and_the_usual_job_queues_the_reminder(app):
    team, manager, _ = team_with_manager("Old team")
    only_occurrence(one_off(manager, team, date(2026, 1, 1)))
    recent = only_occurrence(one_off(manager, team, date(2026, 1, 20)))
    counts = remind_organisers(datetime(2026, 1, 20, 14, 0, tzinfo=UTC))
    assert counts["log_reminders"] == 1
    assert [n.dedup_key for n in log_reminders()] == [f"ritual-log:{recent.id}"]


# ---------------------------------------------------------------- pages


def past_team_day(manager, team):
    """A team day on a Wednesday one to two weeks ago (a working day, well past whatever today is)."""
    today = date.today()
    day = today - timedelta(days=7 + (today.weekday() - 2) % 7)
    return only_occurrence(one_off(manager, team, day))


def test_the_ritual_page_asks_those_who_run_it_to_log_attendance(app, client, login):
    team, manager, people = team_with_manager("Page team")
    occurrence = past_team_day(manager, team)
    login(manager)
    page = client.get(f"/rituals/{occurrence.ritual_id}").get_data(as_text=True)
    assert "Waiting to be logged" in page
    assert f'href="/rituals/occurrences/{occurrence.id}#log"' in page and "Log attendance" in page
    client.post("/logout")
    login(people[0])
    member = client.get(f"/rituals/{occurrence.ritual_id}").get_data(as_text=True)
    assert "Waiting to be logged" not in member and "Log attendance" not in member


def test_the_list_and_the_managers_home_show_what_waits_to_be_logged(app, client, login):
    team, manager, people = team_with_manager("Home log team")
    occurrence = past_team_day(manager, team)
    other, other_lead, _ = team_with_manager("Someone else's team")
    elsewhere = past_team_day(other_lead, other)
    login(manager)
    listing = client.get("/rituals").get_data(as_text=True)
    assert 'id="to-log"' in listing and f"/rituals/occurrences/{occurrence.id}#log" in listing
    assert f"/rituals/occurrences/{elsewhere.id}#log" not in listing
    home = client.get("/?view=manager").get_data(as_text=True)
    assert 'id="rituals-to-log-heading"' in home and f"/rituals/occurrences/{occurrence.id}#log" in home
    assert f"/rituals/occurrences/{elsewhere.id}#log" not in home
    # Once logged, it leaves both.
    log_occurrence(occurrence, actual_mode="in_person", presences={}, member_ids={p.id for p in people},
                   actor=user_of(manager))
    db.session.commit()
    assert 'id="to-log"' not in client.get("/rituals").get_data(as_text=True)
    assert 'id="rituals-to-log-heading"' not in client.get("/?view=manager").get_data(as_text=True)
