"""Browser test: an HR partner tightens the one-on-one policy, reads the dry run, activates it.

This module serves its own copy of the demo company with its journeys' history and the shipped
policies (the shared live server has people only), so the dry run has real figures to show.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import pytest
from alembic import command

from tests.browser.conftest import DESKTOP, EXPECTED_CONSOLE
from touchpoints import create_app
from touchpoints.config import TestConfig
from touchpoints.extensions import db

pytestmark = pytest.mark.browser
HR_EMAIL = "hana.okafor@northwind.example"
MANAGER_EMAIL = "marco.rossi@northwind.example"


@pytest.fixture(scope="module")
def policies_server(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[str]:
    """The demo company with journeys and policies, served on a free port for this module."""
    from werkzeug.serving import make_server

    from touchpoints.journeys.demo import load_demo_journeys
    from touchpoints.people.demo import load_demo_company
    from touchpoints.policies.demo import load_demo_policies

    database = tmp_path_factory.mktemp("policies-browser") / "touchpoints.sqlite"
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}", WTF_CSRF_ENABLED=True)
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        config.attributes["configure_logger"] = False
        command.upgrade(config, "head")
        load_demo_company()
        load_demo_journeys()
        load_demo_policies()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="policies-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def hr_page(browser, policies_server: str) -> Iterator:
    """A page on this module's server; console errors (a CSP violation, say) fail the test."""
    context = browser.new_context(base_url=policies_server, viewport=DESKTOP, locale="en-GB",
                                  timezone_id="Europe/London")
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text)
            if message.type == "error" and not EXPECTED_CONSOLE.search(message.text) else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    yield page
    context.close()
    assert not problems, problems


def test_hr_tightens_the_one_on_one_policy_after_reading_its_dry_run(hr_page, sign_in_as, screenshot):
    from playwright.sync_api import expect

    page = sign_in_as(hr_page, HR_EMAIL)
    page.get_by_role("link", name="Policies", exact=True).click()
    expect(page.get_by_role("heading", name="Human-touch policies")).to_be_visible()
    screenshot(page, "policies-list")

    page.get_by_role("link", name="A one-on-one at least every 30 days").click()
    page.get_by_role("link", name="Change this policy").click()
    days = page.get_by_label("Days", exact=True)
    expect(days).to_have_value("30")
    page.get_by_label("Name").fill("A one-on-one at least every 14 days")
    days.fill("14")
    page.get_by_label("What changed (optional, for the history)").fill("Fortnightly for everyone")
    page.get_by_role("button", name="Save and see the dry run").click()

    headline = page.locator("#dry-run-headline")
    expect(headline).to_contain_text(re.compile(r"This would put \d+ employees? out of compliance"))
    would = int(re.search(r"put (\d+) employee", headline.inner_text()).group(1))
    today = int(re.search(r"version 1 puts (\d+)", page.locator(".policy-impact").inner_text()).group(1))
    assert would > today, (would, today)
    expect(page.get_by_role("rowheader", name="params.days")).to_be_visible()
    screenshot(page, "policies-dry-run")

    page.get_by_role("button", name="Activate version 2").click()
    flash = page.locator(".flash--success")
    expect(flash).to_contain_text("Version 2 of A one-on-one at least every 14 days is active")
    expect(page.get_by_text(f"{would} people of")).to_be_visible()
    screenshot(page, "policies-activated")

    page.get_by_role("link", name="Compliance", exact=True).click()
    expect(page.get_by_role("img", name="People out of compliance, by week")).to_be_visible()
    expect(page.locator("#people-out")).not_to_have_text("0")
    screenshot(page, "compliance-dashboard")


def test_a_manager_sees_only_their_people_and_cannot_reach_policies(hr_page, sign_in_as):
    from playwright.sync_api import expect

    page = sign_in_as(hr_page, MANAGER_EMAIL)
    expect(page.get_by_role("link", name="Policies", exact=True)).to_have_count(0)
    page.get_by_role("link", name="Compliance", exact=True).click()
    expect(page.get_by_text("Your direct and indirect reports")).to_be_visible()
    expect(page.get_by_role("img", name="People out of compliance, by week")).to_have_count(0)
    assert page.goto("/policies").status == 403
