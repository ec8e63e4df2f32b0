"""Ritual series: planned to the horizon with the journeys' RRULE code, at the same local time across
daylight-saving changes, idempotently, and re-planned when the plan changes."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from tests.rituals.helpers import plan, team_with_manager, user_of
from touchpoints.extensions import db
from touchpoints.rituals.models import OccurrenceStatus, RitualOccurrence
from touchpoints.rituals.services import Viewer, extend_ritual_series, materialise, save_ritual

LONDON = ZoneInfo("Europe/London")


def _dues(ritual_id: int) -> list[datetime]:
    return list(db.session.scalars(select(RitualOccurrence.due_at)
                                   .where(RitualOccurrence.ritual_id == ritual_id)
                                   .order_by(RitualOccurrence.due_at)))


def test_a_weekly_meeting_stays_at_ten_local_across_the_spring_change(app):
    team, manager, _ = team_with_manager("Platform")
    # Mondays at 10:00 in London, from 16 March 2026; the clocks go forward on 29 March.
    ritual = plan(manager, team, rrule="FREQ=WEEKLY", starts_on=date(2026, 3, 16), at=time(10, 0),
                  today=date(2026, 3, 16))
    dues = _dues(ritual.id)
    assert dues[0] == datetime(2026, 3, 16, 10, 0, tzinfo=UTC)  # GMT: 10:00 local is 10:00 UTC
    assert dues[1] == datetime(2026, 3, 23, 10, 0, tzinfo=UTC)
    assert dues[2] == datetime(2026, 3, 30, 9, 0, tzinfo=UTC)  # BST: 10:00 local is 09:00 UTC
    assert dues[2].astimezone(LONDON).hour == 10


def test_a_berlin_meeting_keeps_its_time_in_autumn_too(app):
    team, manager, _ = team_with_manager("Berlin Ops")
    ritual = plan(manager, team, rrule="FREQ=WEEKLY", starts_on=date(2026, 10, 19), at=time(10, 0),
                  timezone="Europe/Berlin", today=date(2026, 10, 19))
    dues = _dues(ritual.id)
    assert dues[0] == datetime(2026, 10, 19, 8, 0, tzinfo=UTC)  # CEST, UTC+2
    assert dues[1] == datetime(2026, 10, 26, 9, 0, tzinfo=UTC)  # CET, UTC+1 after 25 October


def test_the_series_reaches_the_horizon_and_a_second_run_adds_nothing(app):
    team, manager, _ = team_with_manager("Data")
    ritual = plan(manager, team, rrule="FREQ=WEEKLY", starts_on=date(2026, 1, 5), today=date(2026, 1, 5))
    first = len(_dues(ritual.id))
    assert 12 <= first <= 14  # 90 days of Mondays
    assert materialise([ritual.id], today=date(2026, 1, 5)) == 0
    # A month later the scheduler job extends the series by about four more, once.
    assert extend_ritual_series(today=date(2026, 2, 5))["occurrences"] in (4, 5)
    assert extend_ritual_series(today=date(2026, 2, 5))["occurrences"] == 0
    assert len(_dues(ritual.id)) > first


def test_a_date_on_a_public_holiday_moves_to_the_next_working_day(app):
    team, manager, _ = team_with_manager("Support")
    # 25 December 2026 is a Friday and Christmas: the meeting moves to Monday 28 December (Boxing Day
    # is a Saturday, its substitute is Monday 28th, so Tuesday 29 December in England).
    ritual = plan(manager, team, rrule="FREQ=YEARLY", starts_on=date(2026, 12, 25), today=date(2026, 12, 1))
    (due,) = _dues(ritual.id)
    assert due.date() == date(2026, 12, 29)


def test_a_one_off_retreat_is_one_occurrence(app):
    team, manager, _ = team_with_manager("Research")
    ritual = plan(manager, team, rrule=None, kind="team_retreat", starts_on=date(2026, 6, 10),
                  today=date(2026, 5, 1))
    assert _dues(ritual.id) == [datetime(2026, 6, 10, 9, 0, tzinfo=UTC)]


def test_changing_the_time_replans_the_future_but_keeps_what_was_logged(app):
    team, manager, _ = team_with_manager("Growth")
    today = date.today()
    ritual = plan(manager, team, rrule="FREQ=WEEKLY", starts_on=today - timedelta(days=21), today=today,
                  at=time(10, 0))
    past = plan(manager, team, title="Earlier", rrule="FREQ=WEEKLY", starts_on=today - timedelta(days=21),
                today=today - timedelta(days=21))
    held = db.session.scalar(select(RitualOccurrence).where(RitualOccurrence.ritual_id == past.id)
                             .order_by(RitualOccurrence.due_at))
    held.status = OccurrenceStatus.HELD
    db.session.commit()
    held_at = held.due_at
    save_ritual(past, {"time_of_day": time(14, 0)}, viewer=Viewer.of(user_of(manager)), today=today)
    db.session.commit()
    rows = db.session.execute(select(RitualOccurrence.due_at, RitualOccurrence.status)
                              .where(RitualOccurrence.ritual_id == past.id)
                              .order_by(RitualOccurrence.due_at)).all()
    assert rows[0] == (held_at, OccurrenceStatus.HELD)  # the logged one stays where it was
    future = [due for due, _ in rows if due > datetime.now(UTC)]
    assert future and all(due.astimezone(LONDON).hour == 14 for due in future)
    assert all(due.astimezone(LONDON).hour == 10 for due in _dues(ritual.id))  # the other is untouched


def test_a_paused_ritual_drops_its_coming_dates_and_the_scheduler_adds_none(app):
    team, manager, _ = team_with_manager("Paused")
    today = date.today()
    ritual = plan(manager, team, rrule="FREQ=WEEKLY", starts_on=today + timedelta(days=1), today=today)
    assert _dues(ritual.id)
    save_ritual(ritual, {"active": False}, viewer=Viewer.of(user_of(manager)), today=today)
    db.session.commit()
    assert _dues(ritual.id) == []
    assert extend_ritual_series(today=today + timedelta(days=30))["occurrences"] == 0
    save_ritual(ritual, {"active": True}, viewer=Viewer.of(user_of(manager)), today=today)
    db.session.commit()
    assert len(_dues(ritual.id)) >= 12


def test_the_scheduler_runs_the_ritual_jobs():
    from touchpoints.rituals.services import remind_organisers
    from touchpoints.scheduling.scheduler import job_specs

    jobs = job_specs()
    assert jobs["ritual-series"].func is extend_ritual_series
    assert jobs["ritual-reminders"].func is remind_organisers
