"""A person's ritual attendance is part of what Touchpoints holds about them: counted on their
privacy page and in their export."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from tests.rituals.helpers import plan, team_with_manager
from touchpoints.extensions import db
from touchpoints.privacy.export import export_person
from touchpoints.privacy.inventory import holdings
from touchpoints.rituals.models import Presence, RitualAttendance, RitualOccurrence


def test_attendance_is_in_the_export_and_the_counts(app):
    team, manager, people = team_with_manager("Private")
    start = date.today() - timedelta(days=14)
    ritual = plan(manager, team, title="Team day", rrule="FREQ=WEEKLY", starts_on=start, today=start)
    occurrence = db.session.scalar(select(RitualOccurrence).where(RitualOccurrence.ritual_id == ritual.id)
                                   .order_by(RitualOccurrence.due_at))
    db.session.add(RitualAttendance(occurrence_id=occurrence.id, employee_id=people[0].id,
                                    presence=Presence.REMOTE))
    db.session.commit()
    assert holdings(people[0].id)["rituals"] == 1
    assert holdings(people[1].id)["rituals"] == 0
    (row,) = export_person(people[0].id)["team_rituals_attendance"]
    assert (row["ritual"], row["team"], row["presence"], row["kind"]) == ("Team day", "Private", "remote",
                                                                          "team_meeting")
