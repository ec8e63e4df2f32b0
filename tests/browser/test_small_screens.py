"""On a phone (375 px wide) the main pages fit the screen: no sideways scrolling of the whole page."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from touchpoints.people.demo import DEMO_LOGINS

pytestmark = pytest.mark.browser
HR_PARTNER = dict(DEMO_LOGINS)["HR partner"]
PHONE = {"width": 375, "height": 812}


@pytest.mark.parametrize(("path", "heading", "signed_in"), [
    ("/login", "Sign in to Touchpoints", False),
    ("/", "Good to see you, Hana", True),
    ("/people/", "People", True),
])
def test_page_fits_a_phone_screen(page, sign_in_as, screenshot, path, heading, signed_in):
    if signed_in:
        sign_in_as(page, HR_PARTNER)
    page.set_viewport_size(PHONE)
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    name = f"phone{path.replace('/', '-').rstrip('-') or '-home'}"
    screenshot(page, name)
    screenshot(page, f"{name}-first-screen", full_page=False)

    page_width = page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= PHONE["width"], f"{path} is {page_width}px wide on a {PHONE['width']}px screen"
    # Wide content (the people table) scrolls inside its own box instead of the page.
    for box in page.locator(".table-wrap").all():
        assert box.bounding_box()["width"] <= PHONE["width"]
