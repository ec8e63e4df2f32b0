"""What people see of team rituals: the employee's home and list show their team's coming rituals
(and company-wide ones), never another team's; reminders reach the organiser once."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from tests.factories import make_hr
from tests.rituals.helpers import plan, team_with_manager
from touchpoints.extensions import db
from touchpoints.nudges.models import Nudge, NudgeKind
from touchpoints.rituals.models import Audience, RitualOccurrence
from touchpoints.rituals.services import remind_organisers


def test_the_employee_sees_their_teams_rituals_at_home_and_in_the_list(app, client, login):
    team, manager, people = team_with_manager("Home team")
    other, other_lead, _ = team_with_manager("Other team")
    soon = date.today() + timedelta(days=3)
    plan(manager, team, title="Home team day", starts_on=soon, today=date.today())
    plan(other_lead, other, title="Other team day", starts_on=soon, today=date.today())
    plan(make_hr(), None, title="All-hands", kind="town_hall", audience=Audience.EVERYONE, starts_on=soon,
         today=date.today())
    login(people[0])
    home = client.get("/?view=me").get_data(as_text=True)
    assert 'id="rituals-heading"' in home
    assert "Home team day" in home and "All-hands" in home and "Other team day" not in home
    listing = client.get("/rituals").get_data(as_text=True)
    assert "Home team day" in listing and "Other team day" not in listing
    assert "Plan a ritual" not in listing  # members do not plan rituals


def test_the_organiser_is_reminded_a_day_before_once(app):
    team, manager, _ = team_with_manager("Reminded")
    ritual = plan(manager, team, title="Team day", rrule="FREQ=WEEKLY",
                  starts_on=date.today() + timedelta(days=1), today=date.today())
    first = db.session.scalar(select(RitualOccurrence).where(RitualOccurrence.ritual_id == ritual.id)
                              .order_by(RitualOccurrence.due_at))
    now = first.due_at - timedelta(hours=20)
    assert remind_organisers(now)["queued"] == 1
    assert remind_organisers(now + timedelta(minutes=15))["queued"] == 0  # the same one is not queued twice
    (nudge,) = db.session.scalars(select(Nudge).where(Nudge.kind == NudgeKind.RITUAL_REMINDER)).all()
    assert nudge.recipient_id == manager.id
    assert nudge.payload["headline"].startswith("Team day is coming up")
    assert nudge.payload["link"] == f"/rituals/occurrences/{first.id}"
    assert nudge.expires_at == first.due_at


def test_the_reminder_is_delivered_in_the_app_with_a_link_to_the_occurrence(app, client, login):
    from touchpoints.nudges.models import NudgeStatus
    from touchpoints.nudges.services import deliver

    team, manager, _ = team_with_manager("Delivered")
    tuesday = date.today() + timedelta(days=(1 - date.today().weekday()) % 7 or 7)
    # 10:00 on a Tuesday: the reminder's moment is 14:00 on Monday, in the organiser's working hours.
    ritual = plan(manager, team, title="Team day", rrule="FREQ=WEEKLY", starts_on=tuesday, today=date.today())
    first = db.session.scalar(select(RitualOccurrence).where(RitualOccurrence.ritual_id == ritual.id)
                              .order_by(RitualOccurrence.due_at))
    now = first.due_at - timedelta(hours=20)
    remind_organisers(now)
    deliver(now=now)
    nudge = db.session.scalar(select(Nudge).where(Nudge.kind == NudgeKind.RITUAL_REMINDER))
    db.session.refresh(nudge)
    assert nudge.status is NudgeStatus.SENT
    login(manager)
    page = client.get("/notifications").get_data(as_text=True)
    assert "Team day is coming up" in page and f"/rituals/occurrences/{first.id}" in page


def test_the_calendar_feed_carries_the_teams_rituals_at_their_local_time(app, client, login):
    from icalendar import Calendar

    from touchpoints.nudges.models import DeliveryProfile

    team, manager, people = team_with_manager("Feed team")
    other, other_lead, _ = team_with_manager("Not my team")
    soon = date.today() + timedelta(days=5)
    plan(manager, team, title="Feed team day", rrule=None, starts_on=soon, today=date.today(),
         timezone="Europe/Berlin", location="Berlin office")
    plan(other_lead, other, title="Someone else's day", rrule=None, starts_on=soon, today=date.today())
    login(people[0])
    client.post("/notifications/calendar", data={"action": "new"})
    token = db.session.get(DeliveryProfile, people[0].id).calendar_token
    feed = Calendar.from_ical(app.test_client().get(f"/calendar/{token}.ics").data)
    events = {str(e["SUMMARY"]): e for e in feed.walk("VEVENT")}
    assert "Someone else's day" not in events
    event = events["Feed team day"]
    start = event.decoded("DTSTART")
    assert (start.hour, start.minute, str(start.tzinfo)) == (10, 0, "Europe/Berlin")
    assert str(event["LOCATION"]) == "Berlin office"
    assert "/rituals/occurrences/" in str(event["URL"])
