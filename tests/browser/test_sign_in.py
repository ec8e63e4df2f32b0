"""Signing in and out in a real browser, and reaching the page with the keyboard."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from touchpoints.people.demo import DEMO_LOGINS

pytestmark = pytest.mark.browser
LOGINS = {role: email for role, email in DEMO_LOGINS}
HR_PARTNER = LOGINS["HR partner"]
EMPLOYEE = LOGINS["Employee"]


def test_hr_partner_signs_in_and_reaches_the_people_list(page, sign_in_as):
    sign_in_as(page, HR_PARTNER)
    expect(page.get_by_role("heading", level=1)).to_have_text("Good to see you, Hana")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="People").click()

    expect(page).to_have_url(re.compile(r"/people/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("People")
    expect(page.get_by_role("link", name="People")).to_have_attribute("aria-current", "page")
    people = page.get_by_role("table")
    expect(people.locator("caption")).to_have_text(re.compile(r"^\d+ people, page 1 of \d+$"))
    expect(people.locator("tbody tr")).to_have_count(25)

    page.get_by_role("searchbox", name="Search name or email").fill("rossi")
    page.get_by_role("button", name="Filter").click()

    expect(people.locator("caption")).to_have_text("1 person")
    people.get_by_role("link", name="Marco Rossi").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Marco Rossi")


def test_wrong_password_says_so_and_keeps_the_email(page):
    page.goto("/login")
    page.get_by_label("Work email").fill(HR_PARTNER)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_have_text("That email and password do not match an active account.")
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.get_by_label("Work email")).to_have_value(HR_PARTNER)
    expect(page.get_by_label("Password")).to_have_value("")


def test_sign_out_ends_the_session(page, sign_in_as):
    sign_in_as(page, EMPLOYEE)
    expect(page.get_by_text("Emma Schmidt", exact=True)).to_be_visible()

    page.get_by_role("button", name="Sign out").click()

    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Touchpoints")


@pytest.mark.parametrize("signed_in", [False, True], ids=["login page", "home page"])
def test_the_skip_link_comes_first_and_moves_focus_to_the_content(page, sign_in_as, signed_in):
    if signed_in:
        sign_in_as(page, HR_PARTNER)
    else:
        page.goto("/login")
    skip_link = page.get_by_role("link", name="Skip to main content")
    expect(skip_link).not_to_be_in_viewport()  # hidden until it has focus

    page.keyboard.press("Tab")

    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    # The next Tab lands inside the content, not back in the header.
    page.keyboard.press("Tab")
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)")
