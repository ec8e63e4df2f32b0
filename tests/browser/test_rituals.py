"""Team rituals in a real browser: a manager logs who came to the team day in one form, marking
everyone in person with one button and the few who were not there by hand; a member then sees it."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from touchpoints.extensions import db
from touchpoints.journeys.models import Mode
from touchpoints.people.demo import DEMO_LOGINS
from touchpoints.people.models import Employee
from touchpoints.rituals.models import OccurrenceStatus, Presence, Ritual, RitualAttendance, RitualOccurrence

pytestmark = pytest.mark.browser
LOGINS = dict(DEMO_LOGINS)
MANAGER, EMPLOYEE = LOGINS["Manager"], LOGINS["Employee"]


@pytest.fixture(scope="module")
def demo_rituals(live_app):
    """The demo company's team rituals (loaded once)."""
    from touchpoints.rituals.demo import load_demo_rituals

    with live_app.app_context():
        load_demo_rituals()
        db.session.remove()


def _unlogged_team_day(live_app) -> tuple[int, str]:
    """The Engineering team day the demo leaves for Marco to log, and one team member's name."""
    with live_app.app_context():
        ritual = db.session.scalar(select(Ritual).where(Ritual.title == "Engineering team day"))
        occurrence = db.session.scalar(
            select(RitualOccurrence).where(RitualOccurrence.ritual_id == ritual.id,
                                           RitualOccurrence.status == OccurrenceStatus.PLANNED)
            .order_by(RitualOccurrence.due_at))
        emma = db.session.scalar(select(Employee).where(Employee.email == EMPLOYEE))
        ids = occurrence.id, emma.full_name
        db.session.remove()
        return ids


def test_a_manager_logs_attendance_for_the_team_day(page, live_app, demo_rituals, sign_in_as, screenshot):
    occurrence_id, emma = _unlogged_team_day(live_app)
    sign_in_as(page, MANAGER)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Team rituals").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Team rituals")
    page.get_by_role("table").get_by_role("link", name="Engineering team day").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Engineering team day")
    page.locator(f"a[href='/rituals/occurrences/{occurrence_id}']").first.click()
    expect(page.get_by_role("heading", name="Log it as held")).to_be_visible()

    # Everyone starts as in person (the planned mode); the button sets them all at once anyway.
    page.get_by_role("button", name="In person", exact=True).click()
    page.get_by_role("radio", name=f"{emma}: Absent").check()
    page.get_by_label("Where (optional)").fill("Berlin office, 4th floor")
    page.get_by_role("button", name="Save: held, with this attendance").click()

    expect(page.get_by_role("status").first).to_contain_text(
        re.compile(r"Logged as held, with \d+ people marked"))
    expect(page.get_by_role("heading", name=re.compile("Status"))).to_contain_text("Held")
    screenshot(page, "rituals-occurrence-manager")
    with live_app.app_context():
        occurrence = db.session.get(RitualOccurrence, occurrence_id)
        assert occurrence.status is OccurrenceStatus.HELD and occurrence.actual_mode is Mode.IN_PERSON
        marks = dict(db.session.execute(
            select(Employee.full_name, RitualAttendance.presence)
            .join(Employee, Employee.id == RitualAttendance.employee_id)
            .where(RitualAttendance.occurrence_id == occurrence_id)).all())
        assert marks[emma] is Presence.ABSENT
        assert marks["Marco Rossi"] is Presence.IN_PERSON
        assert sum(p is Presence.IN_PERSON for p in marks.values()) == len(marks) - 1
        db.session.remove()

    # Emma sees the team day and says she was, in fact, there remotely.
    page.get_by_role("button", name="Sign out").click()
    sign_in_as(page, EMPLOYEE)
    page.goto(f"/rituals/occurrences/{occurrence_id}")
    expect(page.get_by_text("You are marked absent.")).to_be_visible()
    page.get_by_role("radio", name="Remote").check()
    page.get_by_role("button", name="Save my attendance").click()
    expect(page.get_by_role("status").first).to_contain_text("you are marked remote")
