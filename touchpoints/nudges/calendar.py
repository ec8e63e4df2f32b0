"""Calendar invitations (.ics) for scheduled touchpoints, and each person's subscribable feed.

An invitation keeps one UID per touchpoint and carries its SEQUENCE (bumped by the journeys
services on every change), so a calendar replaces the earlier version; a cancelled touchpoint
becomes METHOD:CANCEL. Times carry the person's own zone with its VTIMEZONE, so they stay right
across summer time. The feed is a secret, revocable address per person (METHOD:PUBLISH).
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.calendar import to_local
from touchpoints.journeys.models import OPEN_STATUSES, Touchpoint, TouchpointKind, TouchpointStatus
from touchpoints.nudges.models import DeliveryProfile
from touchpoints.nudges.services import profile_for
from touchpoints.nudges.settings import NudgeSettings
from touchpoints.people.models import Employee
from touchpoints.rituals.calendar import feed_events

# icalendar (3 MB once imported) is imported where an .ics is built: the web worker imports this
# module for the calendar pages, and only a download or a feed needs it.
if TYPE_CHECKING:
    from icalendar import Calendar, Event, vCalAddress

PRODID = "-//Touchpoints//Touchpoints calendar//EN"
INVITE_KINDS = frozenset({TouchpointKind.ONE_ON_ONE, TouchpointKind.CHECK_IN})
FEED_PAST_DAYS = 30
FEED_FUTURE_DAYS = 180


def uid_for(touchpoint_id: int, settings: NudgeSettings) -> str:
    """The stable UID of a touchpoint's event, whatever changes."""
    host = urlsplit(settings.base_url).hostname or "touchpoints"
    return f"touchpoint-{touchpoint_id}@{host}"


def event_summary(tp: Touchpoint, viewer_id: int | None) -> str:
    """The event's title as one of the two people sees it (no subject for sensitive kinds)."""
    other = tp.owner if viewer_id == tp.employee_id else tp.employee
    name = other.full_name if other is not None else "HR"
    if tp.sensitive or tp.kind.is_sensitive:
        return f"Conversation with {name}"  # the subject stays in the app
    return f"{tp.title} with {name}" if tp.title else f"{tp.kind.label} with {name}"


def _attendee(person: Employee, role: str) -> vCalAddress:
    from icalendar import vCalAddress, vText

    address = vCalAddress(f"mailto:{person.email}")
    address.params["cn"] = vText(person.full_name)
    address.params["role"] = vText(role)
    address.params["partstat"] = vText("NEEDS-ACTION" if role == "REQ-PARTICIPANT" else "ACCEPTED")
    return address


def _event(tp: Touchpoint, settings: NudgeSettings, *, viewer_id: int | None, cancelled: bool) -> Event:
    from icalendar import Event

    tz = tp.employee.timezone if tp.employee is not None else "UTC"
    start = to_local(tp.due_at, tz)
    event = Event()
    event.add("uid", uid_for(tp.id, settings))
    event.add("sequence", tp.sequence)
    event.add("dtstamp", utcnow())
    event.add("last-modified", tp.updated_at or utcnow())
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=tp.duration_minutes or 30))
    event.add("summary", event_summary(tp, viewer_id))
    event.add("url", settings.link(f"/touchpoints/{tp.id}"))
    if tp.sensitive or tp.kind.is_sensitive:
        event.add("class", "PRIVATE")
        event.add("description", f"Details in Touchpoints: {settings.link(f'/touchpoints/{tp.id}')}")
    else:
        event.add(
            "description",
            f"{tp.kind.label}, planned {tp.planned_mode.label.lower()}. "
            f"Agenda and notes: {settings.link(f'/touchpoints/{tp.id}')}",
        )
    if tp.planned_mode.value == "in_person":
        event.add("location", "In person")
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    if tp.owner is not None:
        event.add("organizer", _attendee(tp.owner, "CHAIR"))
    if tp.employee is not None:
        event.add("attendee", _attendee(tp.employee, "REQ-PARTICIPANT"), encode=0)
    return event


def _calendar(method: str) -> Calendar:
    from icalendar import Calendar

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    return cal


def cancelled_for(tp: Touchpoint, invitee_id: int) -> bool:
    """Whether the event is off for someone once sent an invitation: called off, or no longer theirs
    (handed to a new manager, buddy or mentor, so it must leave their calendar)."""
    if tp.status is TouchpointStatus.CANCELLED:
        return True
    return invitee_id not in (tp.employee_id, tp.owner_id)


def invitation(tp: Touchpoint, settings: NudgeSettings, *, viewer_id: int | None = None,
               cancelled: bool | None = None) -> bytes:
    """The .ics of one touchpoint: METHOD:REQUEST while it stands, METHOD:CANCEL once called off
    (or when `cancelled` says it is off for this invitee)."""
    if cancelled is None:
        cancelled = tp.status is TouchpointStatus.CANCELLED
    cal = _calendar("CANCEL" if cancelled else "REQUEST")
    cal.add_component(_event(tp, settings, viewer_id=viewer_id, cancelled=cancelled))
    cal.add_missing_timezones()
    return cal.to_ical()


def feed(employee: Employee, settings: NudgeSettings) -> bytes:
    """A person's feed: their open touchpoints (as the person or the owner) from a month ago on."""
    now = utcnow()
    touchpoints = db.session.scalars(
        select(Touchpoint)
        .options(joinedload(Touchpoint.employee), joinedload(Touchpoint.owner))
        .where(
            or_(Touchpoint.employee_id == employee.id, Touchpoint.owner_id == employee.id),
            Touchpoint.status.in_(OPEN_STATUSES),
            Touchpoint.due_at >= now - timedelta(days=FEED_PAST_DAYS),
            Touchpoint.due_at <= now + timedelta(days=FEED_FUTURE_DAYS),
        )
        .order_by(Touchpoint.due_at)
        .limit(2000)
    ).all()
    cal = _calendar("PUBLISH")
    cal.add("x-wr-calname", f"Touchpoints — {employee.full_name}")
    cal.add("x-wr-timezone", employee.timezone)
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    for tp in touchpoints:
        if tp.kind.hr_only and employee.id not in (tp.employee_id, tp.owner_id):
            continue
        cal.add_component(_event(tp, settings, viewer_id=employee.id, cancelled=False))
    # Team meetings and town halls the person is invited to or organises.
    for event in feed_events(employee, base_url=settings.base_url, link=settings.link,
                             since=now - timedelta(days=FEED_PAST_DAYS),
                             until=now + timedelta(days=FEED_FUTURE_DAYS)):
        cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()


def new_feed_token(employee_id: int) -> str:
    """Give a person a new secret feed address (the old one stops working). Caller commits."""
    profile = profile_for(employee_id)
    profile.calendar_token = secrets.token_urlsafe(32)
    profile.calendar_token_created_at = utcnow()
    return profile.calendar_token


def revoke_feed_token(employee_id: int) -> None:
    """Switch a person's feed off. Caller commits."""
    profile = profile_for(employee_id)
    profile.calendar_token = None
    profile.calendar_token_created_at = None


def employee_for_feed(token: str) -> Employee | None:
    """The person whose feed this secret opens, if any (and still active)."""
    if not token or len(token) < 20:
        return None
    profile = db.session.scalar(select(DeliveryProfile).where(DeliveryProfile.calendar_token == token))
    if profile is None or profile.employee is None or profile.employee.is_deactivated:
        return None
    return profile.employee
