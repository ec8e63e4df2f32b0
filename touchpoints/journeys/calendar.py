"""Working days and due times: offsets skip weekends and the public holidays of a person's location.

Everything here is pure (no database) and cached, because bulk enrolment asks the same questions
thousands of times: the same start date, the same country, the same time zone.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateutil.rrule import DAILY, rrulestr

from touchpoints.journeys.models import Anchor, OffsetUnit

# Subdivisions assumed when a record names only the country: most people in GB work in England,
# whose bank holidays (Easter Monday, August) are not the UK-wide ones.
DEFAULT_SUBDIVISIONS = {"GB": "ENG"}
MAX_WALK_DAYS = 3660  # a working-day walk never needs ten years; stops a calendar with no working days


def _country_holidays(country: str, **options: object) -> dict[date, str]:
    """The holidays package's calendar of a country, imported on first use: its country data
    takes several MB, which a web worker that never asks about holidays need not hold."""
    import holidays

    return holidays.country_holidays(country, **options)


@lru_cache(maxsize=4096)
def holiday_dates(country: str, subdivision: str, year: int) -> frozenset[date]:
    """The public holidays of a country (and subdivision) in one year; none for unknown places."""
    country = (country or "").upper()
    subdivision = (subdivision or DEFAULT_SUBDIVISIONS.get(country, "")).upper()
    try:
        found = _country_holidays(country, subdiv=subdivision or None, years=year)
    except NotImplementedError:
        try:
            found = _country_holidays(country, years=year)  # unknown subdivision: country-wide
        except NotImplementedError:
            return frozenset()
    return frozenset(found.keys())


def holiday_name(country: str, subdivision: str, day: date) -> str | None:
    """The name of the public holiday on that day in that place, if any."""
    if day not in holiday_dates(country, subdivision, day.year):
        return None
    subdivision = (subdivision or DEFAULT_SUBDIVISIONS.get(country.upper(), "")).upper()
    try:
        found = _country_holidays(country.upper(), subdiv=subdivision or None, years=day.year)
    except NotImplementedError:
        found = _country_holidays(country.upper(), years=day.year)
    return found.get(day)


@dataclass(frozen=True)
class WorkCalendar:
    """Which days a person works: their weekdays, minus their location's public holidays."""

    country: str = "GB"
    subdivision: str = ""
    work_days: str = "12345"

    @property
    def weekdays(self) -> frozenset[int]:
        days = frozenset(int(c) for c in self.work_days if c in "1234567")
        return days or frozenset({1, 2, 3, 4, 5})

    def is_working_day(self, day: date) -> bool:
        """A weekday this person works that is not a public holiday where they are."""
        return day.isoweekday() in self.weekdays and \
            day not in holiday_dates(self.country, self.subdivision, day.year)

    def roll(self, day: date, *, backward: bool = False) -> date:
        """The day itself when it is a working day, else the nearest working day in that direction."""
        step = timedelta(days=-1 if backward else 1)
        for _ in range(MAX_WALK_DAYS):
            if self.is_working_day(day):
                return day
            day += step
        raise ValueError(f"No working day within ten years of {day} for work days {self.work_days!r}.")

    def add_working_days(self, day: date, count: int) -> date:
        """Move `count` working days from day (negative goes back); the start day itself is not counted."""
        if count == 0:
            return self.roll(day)
        step = timedelta(days=1 if count > 0 else -1)
        remaining = abs(count)
        for _ in range(MAX_WALK_DAYS):
            day += step
            if self.is_working_day(day):
                remaining -= 1
                if remaining == 0:
                    return day
        raise ValueError(f"No working day within ten years of {day} for work days {self.work_days!r}.")


@lru_cache(maxsize=65536)
def offset_date(anchor_date: date, offset: int, unit: OffsetUnit, calendar: WorkCalendar,
                anchor: Anchor | None = None) -> date:
    """The working day a touchpoint falls on: anchor date plus offset, never a weekend or holiday.

    A calendar-day offset landing on a day off moves to the next working day, except when the
    moment must stay before its anchor (a negative offset, or the last day before an exit), where it
    moves back to the previous working day.
    """
    if unit is OffsetUnit.WORKING_DAYS:
        if offset == 0 and anchor is Anchor.EXIT_DATE:
            return calendar.roll(anchor_date, backward=True)
        return calendar.add_working_days(anchor_date, offset)
    day = anchor_date + timedelta(days=offset)
    backward = offset < 0 or (offset == 0 and anchor is Anchor.EXIT_DATE)
    return calendar.roll(day, backward=backward)


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """The IANA zone of that name, UTC when the name is unknown."""
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


@lru_cache(maxsize=65536)
def local_due_at(day: date, time_of_day: time, duration_minutes: int, timezone: str,
                 work_start: time, work_end: time) -> datetime:
    """The UTC moment of `time_of_day` on `day` in the person's zone, kept inside their working hours.

    A time before the working day starts moves to its start; one that would run past its end moves
    earlier so the whole meeting fits. The zone's offset on that very day applies, so 10:00 in
    London is 10:00 UTC in January and 09:00 UTC in July.
    """
    start_minutes = work_start.hour * 60 + work_start.minute
    end_minutes = work_end.hour * 60 + work_end.minute
    wanted = time_of_day.hour * 60 + time_of_day.minute
    latest = max(start_minutes, end_minutes - max(duration_minutes, 0))
    minutes = min(max(wanted, start_minutes), latest)
    local = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=zone(timezone))
    return local.astimezone(UTC)


def to_local(moment: datetime, timezone: str) -> datetime:
    """A stored UTC moment shown in the person's own zone."""
    return moment.astimezone(zone(timezone))


def local_date(moment: datetime, timezone: str) -> date:
    """The calendar date of a UTC moment where the person is."""
    return to_local(moment, timezone).date()


class RecurrenceError(ValueError):
    """An RRULE HR typed that cannot be used, with the reason in plain words."""


ALLOWED_FREQUENCIES = {"DAILY", "WEEKLY", "MONTHLY", "YEARLY"}


def validate_rrule(text: str) -> str:
    """A clean RFC 5545 RRULE body (no 'RRULE:' prefix, no DTSTART), or RecurrenceError."""
    body = (text or "").strip()
    if body.upper().startswith("RRULE:"):
        body = body[6:]
    body = body.upper()
    if not body:
        raise RecurrenceError("A recurrence rule is empty.")
    parts = dict(part.partition("=")[::2] for part in body.split(";") if part)
    if "DTSTART" in body:
        raise RecurrenceError("Leave DTSTART out: the series starts at the anchor date plus the offset.")
    if parts.get("FREQ") not in ALLOWED_FREQUENCIES:
        raise RecurrenceError(
            "FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY (for example FREQ=WEEKLY;INTERVAL=2)."
        )
    try:
        rrulestr(body, dtstart=datetime(2024, 1, 1))
    except (ValueError, TypeError) as error:
        raise RecurrenceError(f"'{text}' is not a valid RRULE: {error}") from None
    return body


def cadence_rule(days: int) -> str:
    """The RRULE of a one-on-one cadence of `days` days."""
    if days % 7 == 0:
        return f"FREQ=WEEKLY;INTERVAL={days // 7}"
    return f"FREQ=DAILY;INTERVAL={days}"


@lru_cache(maxsize=4096)
def _rule(body: str, first: date):
    return rrulestr(body, dtstart=datetime.combine(first, time()), cache=False)


def series_dates(first: date, rule: str, calendar: WorkCalendar, *, until: date | None = None,
                 count: int | None = None, through: date | None = None,
                 only_index: int | None = None) -> Iterator[tuple[int, date]]:
    """Occurrences (1-based index, working day) of a series starting on `first`.

    Stops at `count` occurrences, after `until` (e.g. the exit date) and after `through` (the
    horizon). An occurrence on a day off moves to the next working day; when that would collide
    with the following occurrence of a daily rule, the earlier one is dropped from the dates but
    keeps its index, so indexes stay stable whatever the holidays.
    """
    recurrence = _rule(rule, first)
    freq = getattr(recurrence, "_freq", None)
    for index, start in enumerate(recurrence, start=1):
        day = start.date()
        if count is not None and index > count:
            return
        if until is not None and day > until:
            return
        if through is not None and day > through:
            return
        if only_index is not None and index < only_index:
            continue
        rolled = calendar.roll(day)
        if until is not None and rolled > until:
            rolled = calendar.roll(day, backward=True)
        if freq == DAILY and rolled != day and only_index is None:
            # A daily series rolling onto its own next occurrence would double up: skip it.
            nxt = recurrence.after(start)
            if nxt is not None and nxt.date() <= rolled:
                continue
        yield index, rolled
        if only_index is not None:
            return


def nth_occurrence(first: date, rule: str, calendar: WorkCalendar, index: int) -> date | None:
    """The working day of occurrence `index` of a series, or None when the series has none."""
    for _, day in series_dates(first, rule, calendar, only_index=index):
        return day
    return None
