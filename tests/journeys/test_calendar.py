"""Working days and due times: weekends, public holidays, month ends, DST, recurrence."""
from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from touchpoints.journeys.calendar import (
    RecurrenceError,
    WorkCalendar,
    cadence_rule,
    local_due_at,
    nth_occurrence,
    offset_date,
    series_dates,
    validate_rrule,
)
from touchpoints.journeys.models import Anchor, OffsetUnit

GB = WorkCalendar("GB", "", "12345")
US_NY = WorkCalendar("US", "NY", "12345")
AU_NSW = WorkCalendar("AU", "NSW", "12345")
WORKING, CALENDAR = OffsetUnit.WORKING_DAYS, OffsetUnit.CALENDAR_DAYS


def test_working_days_skip_the_weekend():
    friday = date(2025, 3, 7)
    assert offset_date(friday, 1, WORKING, GB) == date(2025, 3, 10)  # Monday
    assert offset_date(friday, 5, WORKING, GB) == date(2025, 3, 14)
    assert offset_date(date(2025, 3, 10), -1, WORKING, GB) == date(2025, 3, 7)


def test_working_days_skip_christmas_and_boxing_day_in_england():
    # Tue 23 Dec 2025 + 2 working days: 24th (Wed), then 25/26 are bank holidays and 27/28 a
    # weekend, so the second working day is Mon 29 Dec.
    assert offset_date(date(2025, 12, 23), 2, WORKING, GB) == date(2025, 12, 29)
    # New Year's Day is a holiday too.
    assert offset_date(date(2025, 12, 31), 1, WORKING, GB) == date(2026, 1, 2)


def test_english_bank_holidays_apply_when_only_the_country_is_given():
    # Easter Monday is a bank holiday in England but not UK-wide: a London record names only GB.
    assert not GB.is_working_day(date(2025, 4, 21))
    assert offset_date(date(2025, 4, 17), 1, WORKING, GB) == date(2025, 4, 22)  # Good Friday too


def test_working_days_skip_thanksgiving_in_the_us_but_not_in_england():
    wednesday = date(2025, 11, 26)
    assert offset_date(wednesday, 1, WORKING, US_NY) == date(2025, 11, 28)
    assert offset_date(wednesday, 1, WORKING, GB) == date(2025, 11, 27)


def test_calendar_offsets_land_on_the_next_working_day():
    # 30 days from Sat 1 Mar 2025 is Mon 31 Mar; 31 days is Tue 1 Apr.
    assert offset_date(date(2025, 1, 31), 30, CALENDAR, GB) == date(2025, 3, 3)  # Sun 2 Mar -> Mon
    assert offset_date(date(2025, 1, 31), 28, CALENDAR, GB) == date(2025, 2, 28)


def test_month_ends_and_leap_years():
    # 29 calendar days after 31 Jan: 1 Mar in 2025, 29 Feb in the leap year 2024 (a Thursday).
    assert offset_date(date(2025, 1, 31), 29, CALENDAR, GB) == date(2025, 3, 3)  # Sat 1 Mar -> Mon
    assert offset_date(date(2024, 1, 31), 29, CALENDAR, GB) == date(2024, 2, 29)
    # A monthly series from 31 Jan keeps to months that have a 31st (RFC 5545 semantics).
    dates = [d for _, d in series_dates(date(2025, 1, 31), "FREQ=MONTHLY", GB, count=3)]
    assert dates == [date(2025, 1, 31), date(2025, 3, 31), date(2025, 6, 2)]  # 31 May is a Saturday


def test_negative_offsets_and_exit_dates_stay_before_their_anchor():
    monday_start = date(2025, 3, 10)
    # Two calendar days before a Monday start is a Saturday: the welcome moves back to Friday.
    assert offset_date(monday_start, -2, CALENDAR, GB, Anchor.START_DATE) == date(2025, 3, 7)
    # A farewell on an exit date that falls on a Sunday happens on the Friday before.
    assert offset_date(date(2025, 3, 16), 0, WORKING, GB, Anchor.EXIT_DATE) == date(2025, 3, 14)
    assert offset_date(date(2025, 3, 16), 0, CALENDAR, GB, Anchor.EXIT_DATE) == date(2025, 3, 14)


def test_part_time_work_days_are_respected():
    mon_wed_fri = WorkCalendar("GB", "", "135")
    assert offset_date(date(2025, 3, 10), 1, WORKING, mon_wed_fri) == date(2025, 3, 12)
    assert offset_date(date(2025, 3, 10), 3, WORKING, mon_wed_fri) == date(2025, 3, 17)


def test_unknown_places_have_weekends_but_no_holidays():
    nowhere = WorkCalendar("XX", "", "12345")
    assert nowhere.is_working_day(date(2025, 12, 25))
    assert not nowhere.is_working_day(date(2025, 12, 27))


@pytest.mark.parametrize(("zone", "winter", "summer"), [
    ("Europe/London", datetime(2025, 3, 28, 10, tzinfo=UTC), datetime(2025, 3, 31, 9, tzinfo=UTC)),
    ("America/New_York", datetime(2025, 3, 7, 15, tzinfo=UTC), datetime(2025, 3, 10, 14, tzinfo=UTC)),
    # Sydney leaves daylight saving on 6 April 2025: 10:00 is 23:00 UTC before, 00:00 UTC after.
    ("Australia/Sydney", datetime(2025, 4, 3, 23, tzinfo=UTC), datetime(2025, 4, 7, 0, tzinfo=UTC)),
])
def test_ten_o_clock_local_stays_ten_o_clock_across_dst(zone, winter, summer):
    before_day = {"Europe/London": date(2025, 3, 28), "America/New_York": date(2025, 3, 7),
                  "Australia/Sydney": date(2025, 4, 4)}[zone]
    after_day = {"Europe/London": date(2025, 3, 31), "America/New_York": date(2025, 3, 10),
                 "Australia/Sydney": date(2025, 4, 7)}[zone]
    nine, five = time(9), time(17, 30)
    assert local_due_at(before_day, time(10), 30, zone, nine, five) == winter
    assert local_due_at(after_day, time(10), 30, zone, nine, five) == summer


def test_a_weekly_series_keeps_its_local_time_across_the_clock_change():
    days = [d for _, d in series_dates(date(2025, 3, 24), "FREQ=WEEKLY", GB, count=2)]
    due = [local_due_at(d, time(14), 30, "Europe/London", time(9), time(17, 30)) for d in days]
    assert [d.hour for d in due] == [14, 13]  # 14:00 GMT, then 14:00 BST = 13:00 UTC


def test_due_times_are_kept_inside_working_hours():
    nine, five = time(9), time(17)
    day = date(2025, 3, 10)
    assert local_due_at(day, time(7), 30, "Europe/London", nine, five).hour == 9
    # A 60-minute meeting wanted at 16:30 would run past 17:00: it starts at 16:00 instead.
    late = local_due_at(day, time(16, 30), 60, "Europe/London", nine, five)
    assert (late.hour, late.minute) == (16, 0)


def test_recurring_occurrences_on_holidays_move_to_the_next_working_day():
    # Fortnightly Mondays from 12 May 2025 meet the Spring Bank Holiday on 26 May.
    occurrences = list(series_dates(date(2025, 5, 12), cadence_rule(14), GB, count=3))
    assert occurrences == [(1, date(2025, 5, 12)), (2, date(2025, 5, 27)), (3, date(2025, 6, 9))]


def test_series_stop_at_until_count_and_horizon():
    rule = "FREQ=WEEKLY;INTERVAL=2"
    start = date(2025, 1, 6)
    assert len(list(series_dates(start, rule, GB, count=4))) == 4
    assert [d for _, d in series_dates(start, rule, GB, until=date(2025, 2, 3))][-1] == date(2025, 2, 3)
    assert [d for _, d in series_dates(start, rule, GB, through=date(2025, 1, 31))] == \
        [date(2025, 1, 6), date(2025, 1, 20)]
    assert nth_occurrence(start, rule, GB, 3) == date(2025, 2, 3)


def test_cadence_rules():
    assert cadence_rule(14) == "FREQ=WEEKLY;INTERVAL=2"
    assert cadence_rule(10) == "FREQ=DAILY;INTERVAL=10"


@pytest.mark.parametrize(("text", "reason"), [
    ("", "empty"),
    ("FREQ=HOURLY", "FREQ must be"),
    ("FREQ=WEEKLY;INTERVAL=two", "not a valid RRULE"),
    ("DTSTART:20250101T000000\nRRULE:FREQ=WEEKLY", "DTSTART"),
])
def test_unusable_rrules_are_refused_with_a_reason(text, reason):
    with pytest.raises(RecurrenceError, match=reason):
        validate_rrule(text)


def test_rrule_prefix_and_case_are_normalised():
    assert validate_rrule("rrule:freq=monthly;interval=3") == "FREQ=MONTHLY;INTERVAL=3"
