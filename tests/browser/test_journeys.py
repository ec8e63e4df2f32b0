"""Journeys in a real browser: a manager logs a one-on-one in three clicks, the employee confirms it;
the timeline and the journey map as people see them (screenshots in test-artifacts/), on a phone too.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from touchpoints.extensions import db
from touchpoints.journeys.models import Confirmation, Mode, Touchpoint, TouchpointKind, TouchpointStatus
from touchpoints.people.demo import DEMO_LOGINS
from touchpoints.people.models import Employee

pytestmark = pytest.mark.browser
LOGINS = dict(DEMO_LOGINS)
HR_PARTNER, MANAGER, EMPLOYEE = LOGINS["HR partner"], LOGINS["Manager"], LOGINS["Employee"]
PHONE = {"width": 375, "height": 812}


@pytest.fixture(scope="module")
def demo_journeys(live_app):
    """The demo company's journeys and history (loaded once, unless the demo already has them)."""
    from touchpoints.journeys.demo import load_demo_journeys
    from touchpoints.journeys.enrolment import active_journey

    with live_app.app_context():
        if active_journey("development") is None:
            load_demo_journeys()
        db.session.remove()


def _emma(live_app) -> tuple[int, int]:
    """Emma's id and her earliest open one-on-one with Marco."""
    with live_app.app_context():
        emma = db.session.scalar(select(Employee).where(Employee.email == EMPLOYEE))
        touchpoint = db.session.scalar(
            select(Touchpoint).where(Touchpoint.employee_id == emma.id,
                                     Touchpoint.kind == TouchpointKind.ONE_ON_ONE,
                                     Touchpoint.status.in_([TouchpointStatus.PLANNED,
                                                            TouchpointStatus.SCHEDULED]))
            .order_by(Touchpoint.due_at))
        assert touchpoint is not None, "the demo gives Emma one-on-ones with Marco"
        ids = emma.id, touchpoint.id
        db.session.remove()
        return ids


def _touchpoint(live_app, touchpoint_id: int) -> Touchpoint:
    with live_app.app_context():
        touchpoint = db.session.get(Touchpoint, touchpoint_id)
        db.session.expunge(touchpoint)
        db.session.remove()
        return touchpoint


def test_a_manager_logs_a_one_on_one_in_three_clicks_and_the_employee_confirms(
        page, live_app, demo_journeys, sign_in_as, screenshot):
    emma_id, touchpoint_id = _emma(live_app)
    sign_in_as(page, MANAGER)
    page.goto(f"/people/{emma_id}/timeline")  # opening the page is not a click that counts
    card = page.locator(f"#tp-{touchpoint_id}")
    expect(card.get_by_role("heading", level=3)).to_have_text("One-on-one")

    clicks = 0
    card.get_by_role("link", name=re.compile(r"^Log it")).click()
    clicks += 1
    expect(page.get_by_role("heading", level=1)).to_have_text("Log: One-on-one with Emma Schmidt")
    expect(page.get_by_role("radio", name=re.compile(r"^In person"))).to_be_checked()  # as planned
    page.get_by_role("radio", name=re.compile(r"^Video call")).check()  # it happened by video instead
    clicks += 1
    page.get_by_role("button", name="Save").click()
    clicks += 1
    assert clicks <= 3

    expect(page).to_have_url(re.compile(rf"/people/{emma_id}/timeline"))
    expect(page.get_by_role("status").first).to_contain_text(
        "Logged: One-on-one, video call. Emma Schmidt is asked to confirm it took place.")
    logged = _touchpoint(live_app, touchpoint_id)
    assert logged.status is TouchpointStatus.DONE and logged.actual_mode is Mode.VIDEO
    assert logged.confirmation is Confirmation.PENDING
    card = page.locator(f"#tp-{touchpoint_id}")
    expect(card).to_contain_text("Awaiting confirmation")
    expect(card).to_contain_text("Video call")
    screenshot(page, "journeys-timeline-manager")

    page.get_by_role("button", name="Sign out").click()
    sign_in_as(page, EMPLOYEE)
    page.get_by_role("navigation", name="You").get_by_role("link", name="My journey").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My journey")
    attention = page.locator("section", has=page.get_by_role("heading", name=re.compile("^Needs attention")))
    mine = attention.locator(f"#tp-{touchpoint_id}")
    expect(mine).to_contain_text("Marco Rossi logged this. Did it take place?")
    mine.get_by_role("link", name="Yes, it took place").click()
    expect(page.get_by_role("radio", name="Yes, it took place")).to_be_checked()
    page.get_by_role("button", name="Send").click()

    expect(page.get_by_role("status").first).to_contain_text("Thank you: it is confirmed.")
    expect(page.locator(f"#tp-{touchpoint_id}")).to_contain_text("Confirmed")
    assert _touchpoint(live_app, touchpoint_id).confirmation is Confirmation.CONFIRMED
    screenshot(page, "journeys-my-journey-employee")


def test_the_employee_adds_a_talking_point_and_the_manager_sees_it(page, live_app, demo_journeys, sign_in_as):
    _, touchpoint_id = _emma(live_app)
    sign_in_as(page, EMPLOYEE)
    page.goto(f"/touchpoints/{touchpoint_id}")
    page.get_by_label("Add a talking point").fill("Moving to the platform team?")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator(".agenda")).to_contain_text("Moving to the platform team?")
    page.get_by_role("textbox", name="Your private note").fill("Ask about the timeline before saying yes")
    page.get_by_role("button", name="Save note").click()
    expect(page.get_by_role("status").first).to_contain_text("Only you can read it.")

    page.get_by_role("button", name="Sign out").click()
    sign_in_as(page, MANAGER)
    page.goto(f"/touchpoints/{touchpoint_id}")
    expect(page.locator(".agenda")).to_contain_text("Moving to the platform team?")
    expect(page.locator("body")).not_to_contain_text("Ask about the timeline before saying yes")


def test_the_team_page_and_journey_map_look_right(page, demo_journeys, sign_in_as, screenshot):
    sign_in_as(page, MANAGER)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My team's touchpoints").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My team's touchpoints")
    expect(page.get_by_role("table")).to_contain_text("Emma Schmidt")
    screenshot(page, "journeys-team-manager")

    page.get_by_role("button", name="Sign out").click()
    sign_in_as(page, HR_PARTNER)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Journeys").click()
    page.get_by_role("link", name="Journey map").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Journey map")
    stages = page.locator(".journey-map > li")
    assert stages.count() >= 3
    for figure in ("Human touchpoints", "Completion", "Overdue", "Median days since last human contact"):
        expect(stages.first).to_contain_text(figure)
    screenshot(page, "journeys-map-desktop")
    page.get_by_label("Journey", exact=True).select_option(label="Development and regular conversations")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Journey map: Development and regular conversations")


@pytest.mark.parametrize("path", ["/journeys/map", "/me/journey", "/team/touchpoints"])
def test_journeys_pages_fit_a_phone(page, demo_journeys, sign_in_as, screenshot, path):
    sign_in_as(page, HR_PARTNER if path == "/journeys/map" else MANAGER)
    page.set_viewport_size(PHONE)
    page.goto(path)
    screenshot(page, "phone-journeys" + path.replace("/", "-"))
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{path} is {width}px wide on a {PHONE['width']}px screen"


def test_the_editor_reads_a_recurrence_rule_back_as_it_is_typed(page, demo_journeys, sign_in_as):
    sign_in_as(page, HR_PARTNER)
    page.goto("/journeys/new")
    row = page.locator("[data-row]").first
    row.get_by_label("Title").fill("Fortnightly coffee")
    # The key is suggested from the title.
    expect(row.get_by_label("Key", exact=True)).to_have_value("fortnightly-coffee")
    row.get_by_label("Counted from").select_option(label="Start date")
    row.get_by_label("Repeats (RRULE)").fill("FREQ=WEEKLY;INTERVAL=2;BYDAY=TH")
    preview = row.locator("[data-preview]")
    expect(preview).to_contain_text("Every 2 weeks on Thursday.")
    expect(preview).to_contain_text("For someone whose anchor date is today:")
    row.get_by_label("Repeats (RRULE)").fill("EVERY THURSDAY")
    expect(preview).to_contain_text("FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY")
