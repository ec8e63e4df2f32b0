"""How journeys read on a page: time order, offsets and recurrence rules in words, local times.

Presentation only: nothing here writes, and the dates it previews come from the same calendar
functions enrolment uses, so the preview HR sees is what people will get.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from typing import Any

from touchpoints.journeys.calendar import (
    RecurrenceError,
    WorkCalendar,
    cadence_rule,
    offset_date,
    series_dates,
    to_local,
    validate_rrule,
)
from touchpoints.journeys.models import Anchor, HumanTouchLevel, OffsetUnit

# Where each anchor sits in a working life; enrolment usually happens around the hire.
ANCHOR_RANK = {Anchor.HIRE_DATE: 0, Anchor.ENROLMENT: 0, Anchor.START_DATE: 1, Anchor.EXIT_DATE: 2}
LEVEL_LETTER = {HumanTouchLevel.IN_PERSON: "P", HumanTouchLevel.LIVE_REMOTE: "L",
                HumanTouchLevel.ASYNCHRONOUS: "A", HumanTouchLevel.AUTOMATED: "M"}
PREVIEW_COUNT = 5
WEEKDAY_NAMES = {"MO": "Monday", "TU": "Tuesday", "WE": "Wednesday", "TH": "Thursday", "FR": "Friday",
                 "SA": "Saturday", "SU": "Sunday"}
FREQ_UNITS = {"DAILY": ("day", "days"), "WEEKLY": ("week", "weeks"), "MONTHLY": ("month", "months"),
              "YEARLY": ("year", "years")}
ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}


def approximate_days(offset: int, unit: OffsetUnit) -> float:
    """An offset in calendar days, roughly (five working days make a week)."""
    return offset * 7 / 5 if unit is OffsetUnit.WORKING_DAYS else float(offset)


def time_order_key(template: Any) -> tuple:
    """Sort key putting touchpoint templates in the order they happen in a working life."""
    return (ANCHOR_RANK.get(template.anchor, 3), approximate_days(template.offset, template.offset_unit),
            template.time_of_day or time(0), template.position)


def in_time_order(templates: Iterable[Any]) -> list[Any]:
    """Touchpoint templates sorted by when they happen."""
    return sorted(templates, key=time_order_key)


def describe_offset(offset: int, unit: OffsetUnit, anchor: Anchor) -> str:
    """'On the start date', '5 working days after the start date', '2 days before the exit date'."""
    what = anchor.label.lower()
    if anchor is Anchor.ENROLMENT:
        what = "enrolment"
    if offset == 0:
        return f"On the {what}" if anchor is not Anchor.ENROLMENT else "At enrolment"
    days = "working day" if unit is OffsetUnit.WORKING_DAYS else "day"
    plural = "" if abs(offset) == 1 else "s"
    side = "after" if offset > 0 else "before"
    return f"{abs(offset)} {days}{plural} {side} the {what}" if anchor is not Anchor.ENROLMENT \
        else f"{abs(offset)} {days}{plural} {side} enrolment"


def _join(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _weekday(token: str) -> str:
    token = token.strip().upper()
    prefix, code = token[:-2], token[-2:]
    name = WEEKDAY_NAMES.get(code, code)
    if prefix:
        try:
            return f"the {ORDINALS.get(int(prefix), prefix)} {name}"
        except ValueError:
            return token
    return name


def describe_rrule(rule: str | None) -> str:
    """An RRULE body in plain words: 'FREQ=WEEKLY;INTERVAL=2;BYDAY=MO' -> 'Every 2 weeks on Monday'."""
    if not rule:
        return "Once"
    parts = dict(part.partition("=")[::2] for part in rule.upper().split(";") if part)
    singular, plural = FREQ_UNITS.get(parts.get("FREQ", ""), ("time", "times"))
    interval = int(parts.get("INTERVAL", "1") or 1) if parts.get("INTERVAL", "1").isdigit() else 1
    text = f"Every {singular}" if interval == 1 else f"Every {interval} {plural}"
    if parts.get("BYDAY"):
        text += " on " + _join([_weekday(d) for d in parts["BYDAY"].split(",")])
    if parts.get("BYMONTHDAY"):
        text += " on day " + _join(parts["BYMONTHDAY"].split(","))
    if parts.get("COUNT"):
        text += f", {parts['COUNT']} times"
    if parts.get("UNTIL"):
        until = parts["UNTIL"][:8]
        if len(until) == 8 and until.isdigit():
            text += f", until {until[:4]}-{until[4:6]}-{until[6:]}"
    return text


def preview_dates(*, anchor: Anchor, offset: int, unit: OffsetUnit, rrule: str | None,
                  follows_cadence: bool, cadence_days: int, series_length: int | None,
                  anchor_day: date, calendar: WorkCalendar, count: int = PREVIEW_COUNT) -> list[date]:
    """The first dates a touchpoint would fall on for someone whose anchor date is anchor_day."""
    first = offset_date(anchor_day, offset, unit, calendar, anchor)
    rule = cadence_rule(cadence_days) if follows_cadence else rrule
    if not rule:
        return [first]
    limit = min(count, series_length) if series_length else count
    return [day for _, day in series_dates(first, rule, calendar, count=limit)]


def recurrence_preview(raw: dict[str, Any], *, today: date, cadence_days: int, country: str,
                       subdivision: str = "") -> dict[str, Any]:
    """What the editor shows under a touchpoint row: the rule in words and its next dates.

    Returns {"description", "dates" (ISO strings), "error"}; an unusable rule gives an error
    in the words the services use, and no dates.
    """
    try:
        anchor = Anchor(raw.get("anchor") or Anchor.START_DATE.value)
        unit = OffsetUnit(raw.get("offset_unit") or OffsetUnit.CALENDAR_DAYS.value)
        offset = int(str(raw.get("offset") or "0").strip())
        length = str(raw.get("series_length") or "").strip()
        series_length = int(length) if length else None
    except ValueError:
        return {"description": "", "dates": [], "error": "Fix the offset first."}
    follows = str(raw.get("follows_cadence") or "").lower() in ("1", "true", "y", "yes", "on")
    rule = (raw.get("rrule") or "").strip() or None
    if rule:
        try:
            rule = validate_rrule(rule)
        except RecurrenceError as error:
            return {"description": "", "dates": [], "error": str(error)}
    if follows:
        description = describe_rrule(cadence_rule(cadence_days)) + " (the person's one-on-one cadence)"
    else:
        description = describe_rrule(rule)
    dates = preview_dates(anchor=anchor, offset=offset, unit=unit, rrule=rule, follows_cadence=follows,
                          cadence_days=cadence_days, series_length=series_length, anchor_day=today,
                          calendar=WorkCalendar(country, subdivision))
    return {"description": description, "dates": [d.isoformat() for d in dates], "error": None}


def level_modifier(level: HumanTouchLevel) -> str:
    """The CSS modifier of a human-touch level badge."""
    return level.value.replace("_", "-")


def local_moment(moment: datetime | None, timezone: str) -> datetime | None:
    """A stored UTC moment in a person's zone."""
    return to_local(moment, timezone) if moment is not None else None
