"""What the nudges ask the policies before they deliver: when a person may be reached, and whether a
channel may carry a moment's content.

Quiet hours are a policy like any other (rule kind `quiet_hours`): when one covers a person, a
nudge waits for their working hours, on their working days, in their own time zone, and outside
the quiet hours they set for themselves. Everything is computed on local wall-clock times and
converted back to UTC per day, so a change to or from summer time moves the window with it.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from touchpoints.journeys.calendar import WorkCalendar, zone
from touchpoints.journeys.models import Mode, TouchpointKind
from touchpoints.people.models import Channel, Employee
from touchpoints.policies.engine.evaluation import ActivePolicy, active_policies
from touchpoints.policies.rules import ChannelGuidelines, QuietHours

MAX_DAYS_AHEAD = 31
CHANNEL_MODES = {Channel.SLACK: Mode.CHAT, Channel.TEAMS: Mode.CHAT, Channel.EMAIL: Mode.EMAIL}


def _covers(policy: ActivePolicy, employee: Employee, kind: TouchpointKind | None) -> bool:
    team_name = employee.team.name if employee.team is not None else None
    if kind is not None and not policy.scope.covers_kind(kind):
        return False
    return policy.scope.covers_employee(status=employee.status, team_name=team_name,
                                        location=employee.location)


def delivery_window_for(employee: Employee, kind: TouchpointKind | None = None,
                        policies: list[ActivePolicy] | None = None) -> list[ActivePolicy]:
    """The active quiet-hours policies that apply to nudging this person (about this kind)."""
    policies = active_policies([QuietHours.kind]) if policies is None else policies
    return [p for p in policies if isinstance(p.rule, QuietHours) and _covers(p, employee, kind)]


def _local(day: date, moment: time, timezone: str) -> datetime:
    """A wall-clock time on a day in a zone, as UTC (a time skipped by a clock change moves forward)."""
    return datetime.combine(day, moment, tzinfo=zone(timezone)).astimezone(UTC)


def _quiet_spans(day: date, employee: Employee) -> list[tuple[datetime, datetime]]:
    """The person's own quiet hours touching this local day, as UTC spans (they may pass midnight)."""
    start, end = employee.quiet_hours_start, employee.quiet_hours_end
    if start is None or end is None or start == end:
        return []
    tz = employee.timezone
    if start < end:
        return [(_local(day, start, tz), _local(day, end, tz))]
    # Overnight, e.g. 20:00-07:00: the evening of this day and the early morning of it.
    return [(_local(day - timedelta(days=1), start, tz), _local(day, end, tz)),
            (_local(day, start, tz), _local(day + timedelta(days=1), end, tz))]


def next_allowed_delivery(employee: Employee, at_utc: datetime, kind: TouchpointKind | None = None,
                          policies: list[ActivePolicy] | None = None) -> datetime:
    """The first moment at or after at_utc when a nudge may reach this person.

    Without a quiet-hours policy covering them it is at_utc itself. Otherwise it falls inside their
    working hours (work_start to work_end, local), on a working day when the policy says so (their
    weekdays, minus public holidays where they are), and outside their own quiet hours.
    """
    rules = [p.rule for p in delivery_window_for(employee, kind, policies)]
    if not rules:
        return at_utc
    working_days_only = any(r.working_days_only for r in rules)
    personal = any(r.respect_personal_quiet_hours for r in rules)
    calendar = WorkCalendar(employee.country_code or "GB", employee.subdivision or "", employee.work_days)
    tz = employee.timezone
    day = at_utc.astimezone(zone(tz)).date()
    for _ in range(MAX_DAYS_AHEAD):
        if not working_days_only or calendar.is_working_day(day):
            start, end = _local(day, employee.work_start, tz), _local(day, employee.work_end, tz)
            candidate = max(at_utc, start)
            if personal:
                moved = True
                while moved:  # step past each quiet span the candidate falls in
                    moved = False
                    for quiet_start, quiet_end in _quiet_spans(day, employee):
                        if quiet_start <= candidate < quiet_end:
                            candidate, moved = quiet_end, True
            if candidate < end:
                return candidate
        day += timedelta(days=1)
    return at_utc  # a calendar with no reachable hour in a month: never hold a nudge forever


def is_quiet_now(employee: Employee, at_utc: datetime, kind: TouchpointKind | None = None) -> bool:
    """Whether a nudge to this person would have to wait at this moment."""
    return next_allowed_delivery(employee, at_utc, kind) > at_utc


def channel_allows_content(kind: TouchpointKind, channel: Channel | str,
                           employee: Employee | None = None) -> bool:
    """Whether a nudge on this channel may say what a touchpoint is about (channel guidelines).

    Chat (Slack, Teams) and email may not carry the substance of a kind a channel-guidelines
    policy covers: such a nudge says who and when, with a link, and the content stays in the app.
    """
    channel = Channel(channel)
    mode = CHANNEL_MODES.get(channel)
    if mode is None:
        return True
    for policy in active_policies([ChannelGuidelines.kind]):
        if not policy.scope.covers_kind(kind):
            continue
        if employee is not None and not _covers(policy, employee, kind):
            continue
        if not policy.rule.allows(mode):
            return False
    return True
