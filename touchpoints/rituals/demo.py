"""Team rituals for the demo company: who leads each team and how it works, a monthly team day for
three teams, a quarterly town hall, and the past months logged with who attended."""
from __future__ import annotations

import random
from datetime import date, time, timedelta

import click
from sqlalchemy import func, select

from touchpoints.audit.services import record
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.calendar import WorkCalendar
from touchpoints.journeys.models import Mode, TouchpointKind
from touchpoints.people.demo import email_for
from touchpoints.people.models import Employee, Team, WorkPattern
from touchpoints.rituals.models import (
    Audience,
    OccurrenceStatus,
    Presence,
    Ritual,
    RitualAttendance,
    RitualOccurrence,
)
from touchpoints.rituals.services import TeamTree, materialise, members_query, occurrence_times

# team: (lead, work pattern)
LEADS = {
    "Engineering": ("Marco Rossi", WorkPattern.HYBRID),
    "Customer Success": ("Priya Raman", WorkPattern.HYBRID),
    "Sales": ("Daniel Brooks", WorkPattern.ON_SITE),
    "Design": ("Inês Carvalho", WorkPattern.REMOTE),
    "Operations": ("Hana Okafor", WorkPattern.ON_SITE),
}
# (title, team or None for everyone, organiser, rule, mode, place, time, zone, months back, in person until)
RITUALS = [
    ("Engineering team day", "Engineering", "Marco Rossi", "FREQ=MONTHLY;BYDAY=1TU", Mode.IN_PERSON,
     "Berlin office, 4th floor", time(10, 0), "Europe/Berlin", 8, None),
    # Customer Success drifted to video calls: its last in-person day was six months ago, which the
    # hybrid-teams policy flags on the compliance dashboard.
    ("Customer Success get-together", "Customer Success", "Priya Raman", "FREQ=MONTHLY;BYDAY=2WE",
     Mode.IN_PERSON, "London office, Thames room", time(14, 0), "Europe/London", 9, 6),
    ("Design crit and catch-up", "Design", "Inês Carvalho", "FREQ=MONTHLY;BYDAY=3TH", Mode.VIDEO,
     "", time(15, 0), "Europe/Lisbon", 6, None),
    ("Company town hall", None, "Amara Nwosu", "FREQ=MONTHLY;INTERVAL=3;BYDAY=-1TH", Mode.IN_PERSON,
     "London office, auditorium (and streamed)", time(16, 0), "Europe/London", 10, None),
]


def load_demo_rituals(*, today: date | None = None, seed: int = 23) -> int:
    """Team leads, work patterns and rituals for the demo company; returns how many rituals were added."""
    if db.session.scalar(select(func.count()).select_from(Ritual)):
        return 0
    rng = random.Random(seed)
    today = today or date.today()
    people = {e.email: e for e in db.session.scalars(select(Employee))}
    teams = {t.name: t for t in db.session.scalars(select(Team))}
    if not teams:
        return 0
    for name, (lead, pattern) in LEADS.items():
        team = teams.get(name)
        if team is not None:
            team.manager_id = people[email_for(lead)].id
            team.work_pattern = pattern
            # The demo company has existed for years, so the last quarter is judged for every team.
            team.created_at = utcnow() - timedelta(days=3 * 365)
    db.session.flush()
    tree = TeamTree.load()
    added = 0
    for (title, team_name, organiser_name, rule, mode, place, at, zone_name, months,
         in_person_until) in RITUALS:
        organiser = people[email_for(organiser_name)]
        kind = TouchpointKind.TOWN_HALL if team_name is None else TouchpointKind.TEAM_MEETING
        ritual = Ritual(team_id=teams[team_name].id if team_name else None,
                        audience=Audience.EVERYONE if team_name is None else Audience.TEAM, kind=kind,
                        title=title, planned_mode=mode, rrule=rule,
                        starts_on=today - timedelta(days=30 * months), time_of_day=at, timezone=zone_name,
                        duration_minutes=90 if team_name else 60, location=place, organiser_id=organiser.id,
                        description="", created_at=utcnow() - timedelta(days=30 * months))
        db.session.add(ritual)
        db.session.flush()
        _past(ritual, organiser, tree, rng, today, in_person_until)
        added += 1
    materialise([r.id for r in db.session.scalars(select(Ritual))], today=today)
    record("demo.rituals", "company", None, actor_id=None, summary=f"Loaded {added} demo team rituals")
    db.session.commit()
    click.echo(f"Demo rituals: {added} team rituals with their past occurrences logged.")
    return added


def _past(ritual: Ritual, organiser: Employee, tree: TeamTree, rng: random.Random, today: date,
          in_person_until: int | None) -> None:
    """The occurrences before today, logged as held (the latest one left for the organiser to log)."""
    calendar = WorkCalendar(organiser.country_code, organiser.subdivision, organiser.work_days)
    dues = occurrence_times(ritual, calendar, from_day=ritual.starts_on, through=today - timedelta(days=1))
    members = list(db.session.scalars(members_query(ritual, tree)))
    now = utcnow()
    for index, due in enumerate(dues):
        last = index == len(dues) - 1
        occurrence = RitualOccurrence(ritual_id=ritual.id, due_at=due, location=ritual.location, note="",
                                      status=OccurrenceStatus.PLANNED if last else OccurrenceStatus.HELD)
        db.session.add(occurrence)
        if last:
            continue  # the most recent one waits for its log: the organiser's next task
        months_ago = (today - due.date()).days // 30
        mode = ritual.planned_mode
        if in_person_until is not None and months_ago < in_person_until:
            mode = Mode.VIDEO
        occurrence.actual_mode = mode
        occurrence.logged_at = due + timedelta(hours=3)
        db.session.flush()
        rows = []
        for person in members:
            roll = rng.random()
            if roll < 0.1:
                presence = Presence.ABSENT
            elif mode is Mode.IN_PERSON and roll < 0.25:
                presence = Presence.REMOTE
            else:
                presence = Presence.IN_PERSON if mode is Mode.IN_PERSON else Presence.REMOTE
            rows.append({"occurrence_id": occurrence.id, "employee_id": person.id, "presence": presence,
                         "marked_by_id": None, "marked_at": now})
        if rows:
            db.session.execute(RitualAttendance.__table__.insert(), rows)
