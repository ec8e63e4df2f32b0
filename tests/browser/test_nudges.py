"""The HR delivery page in a real browser: a nudge Slack refused is shown with its reason, HR retries
it, and the scheduler jobs and channels are there to read (screenshot in test-artifacts/)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from touchpoints.extensions import db
from touchpoints.nudges.models import Nudge, NudgeKind, NudgeStatus
from touchpoints.nudges.services import enqueue
from touchpoints.people.demo import DEMO_LOGINS
from touchpoints.people.models import Employee

pytestmark = pytest.mark.browser
LOGINS = dict(DEMO_LOGINS)
HR_PARTNER, MANAGER = LOGINS["HR partner"], LOGINS["Manager"]


@pytest.fixture
def dead_nudge(live_app):
    """A reminder to the demo manager that Slack refused for good."""
    with live_app.app_context():
        manager = db.session.scalar(select(Employee).where(Employee.email == MANAGER))
        enqueue(
            dedup_key="browser:dead",
            kind=NudgeKind.REMINDER,
            recipient=manager,
            payload={"headline": "Weekly one-on-ones"},
        )
        db.session.execute(
            update(Nudge)
            .where(Nudge.dedup_key == "browser:dead")
            .values(status=NudgeStatus.DEAD, attempts=1, last_error="Slack: channel_not_found")
        )
        db.session.commit()
        nudge_id = db.session.scalar(select(Nudge.id).where(Nudge.dedup_key == "browser:dead"))
        db.session.remove()
    yield nudge_id
    with live_app.app_context():
        db.session.execute(Nudge.__table__.delete().where(Nudge.id == nudge_id))
        db.session.commit()
        db.session.remove()


def test_hr_partner_retries_a_refused_nudge_from_the_delivery_page(
    page, sign_in_as, screenshot, dead_nudge, live_app
):
    sign_in_as(page, HR_PARTNER)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Delivery").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delivery")
    problems = page.locator("#nudges tbody tr")
    row = problems.filter(has_text="channel_not_found")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Marco Rossi")
    expect(row).to_contain_text("Dead")
    expect(page.locator("#jobs")).to_contain_text("Deliver the outbox")
    expect(page.get_by_role("table").first).to_contain_text("Slack")
    screenshot(page, "nudges-delivery-page")

    row.get_by_role("button", name=re.compile(r"^Retry")).click()
    expect(page.get_by_role("status")).to_contain_text("It goes out again on the next delivery run")
    expect(page.locator("#nudges tbody tr").filter(has_text="channel_not_found")).to_have_count(0)
    with live_app.app_context():
        assert db.session.get(Nudge, dead_nudge).status is NudgeStatus.PENDING
        db.session.remove()


def test_a_manager_has_no_delivery_link_and_is_refused_the_page(page, sign_in_as):
    sign_in_as(page, MANAGER)
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Delivery")).to_have_count(0)
    expect(
        page.get_by_role("navigation", name="You").get_by_role("link", name=re.compile("^Notifications"))
    ).to_have_count(1)
    response = page.goto("/nudges/delivery")
    assert response.status == 403
