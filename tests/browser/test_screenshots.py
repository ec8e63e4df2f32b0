"""Screenshots of the three home pages for the README, taken from the demo company.

Every run writes them to test-artifacts/; with UPDATE_SCREENSHOTS=1 they also replace the committed
ones in docs/screenshots/ (so an ordinary test run leaves the working tree clean):
`make test PYTEST_ARGS="tests/browser/test_screenshots.py" UPDATE_SCREENSHOTS=1`. They are 1280x800
for each role's home page as it first appears, and the employee's home on a 375-pixel phone. Each
test also checks what the picture should show, so a screenshot of an error page never reaches the
README.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS
from tests.browser.test_accessibility import demo_company, signed_in_context  # noqa: F401 - fixture
from touchpoints.people.demo import DEMO_LOGINS

pytestmark = pytest.mark.browser
README_SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PHONE = {"width": 375, "height": 812}


@pytest.mark.parametrize(("role", "view", "name", "section"), [
    ("HR partner", "hr", "home-hr", "Human-touch compliance"),
    ("Manager", "manager", "home-manager", "This week"),
    ("Employee", "me", "home-employee", "Your next touchpoints"),
])
def test_home_page_screenshots(browser, live_server, demo_company, role, view, name, section):  # noqa: F811
    context, page = signed_in_context(browser, live_server, dict(DEMO_LOGINS)[role])
    page.goto(f"/?view={view}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Good to see you")
    expect(page.get_by_role("heading", level=2, name=section)).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    shots = [ARTIFACTS / f"{name}.png"]
    page.screenshot(path=str(shots[0]))
    if view == "me":
        page.set_viewport_size(PHONE)
        page.goto("/")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        shots.append(ARTIFACTS / f"{name}-phone.png")
        page.screenshot(path=str(shots[-1]))
    context.close()
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        README_SHOTS.mkdir(parents=True, exist_ok=True)
        for shot in shots:
            shutil.copyfile(shot, README_SHOTS / shot.name)
