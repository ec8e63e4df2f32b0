"""Team rituals in a person's calendar feed: the coming occurrences of their team's rituals, the
company's town halls and the rituals they organise, at the ritual's own local time."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload

from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.calendar import to_local
from touchpoints.people.models import Employee
from touchpoints.rituals.models import Audience, OccurrenceStatus, Ritual, RitualOccurrence
from touchpoints.rituals.services import TeamTree

# icalendar (3 MB) is imported when a feed is built, not by every web worker that imports this.
if TYPE_CHECKING:
    from icalendar import Event

FEED_LIMIT = 500


def ritual_uid(occurrence_id: int, base_url: str) -> str:
    """The stable UID of an occurrence's event."""
    host = urlsplit(base_url).hostname or "touchpoints"
    return f"ritual-occurrence-{occurrence_id}@{host}"


def feed_events(employee: Employee, *, base_url: str, link, since: datetime,
                until: datetime) -> list[Event]:
    """Events for the planned occurrences a person is invited to or organises (two queries)."""
    from icalendar import Event

    tree = TeamTree.load()
    conditions = [Ritual.audience == Audience.EVERYONE, Ritual.organiser_id == employee.id]
    if employee.team_id is not None:
        conditions += [Ritual.team_id == employee.team_id,
                       and_(Ritual.audience == Audience.TEAM_AND_SUBTEAMS,
                            Ritual.team_id.in_(tree.ancestors(employee.team_id)))]
    occurrences = db.session.scalars(
        select(RitualOccurrence).options(joinedload(RitualOccurrence.ritual).joinedload(Ritual.team))
        .join(Ritual, Ritual.id == RitualOccurrence.ritual_id)
        .where(or_(*conditions), Ritual.active.is_(True),
               RitualOccurrence.status == OccurrenceStatus.PLANNED,
               RitualOccurrence.due_at >= since, RitualOccurrence.due_at <= until)
        .order_by(RitualOccurrence.due_at).limit(FEED_LIMIT)).all()
    events = []
    for occurrence in occurrences:
        ritual = occurrence.ritual
        start = to_local(occurrence.due_at, ritual.timezone)
        event = Event()
        event.add("uid", ritual_uid(occurrence.id, base_url))
        event.add("dtstamp", utcnow())
        event.add("last-modified", occurrence.updated_at or utcnow())
        event.add("dtstart", start)
        event.add("dtend", start + timedelta(minutes=ritual.duration_minutes))
        event.add("summary", ritual.title)
        where = occurrence.location or ritual.location
        if where:
            event.add("location", where)
        audience = ritual.team.name if ritual.team else "everyone"
        event.add("description", f"{ritual.kind.label} of {audience}, planned "
                                 f"{ritual.planned_mode.label.lower()}. Details and attendance: "
                                 f"{link(f'/rituals/occurrences/{occurrence.id}')}")
        event.add("url", link(f"/rituals/occurrences/{occurrence.id}"))
        event.add("status", "CONFIRMED")
        events.append(event)
    return events

