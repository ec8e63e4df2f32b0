"""The HR partner's CSV import, end to end in a browser: a bad row is named, fixed, and the import lands."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from touchpoints.people.demo import DEMO_LOGINS

pytestmark = pytest.mark.browser
HR_PARTNER = dict(DEMO_LOGINS)["HR partner"]
HEADER = "email,name,country,time_zone,team,manager_email,job_title,start_date"


def _csv(start: date, time_zone_of_second_row: str) -> str:
    return "\n".join([
        HEADER,
        f"noor.haddad@northwind.example,Noor Haddad,DE,Europe/Berlin,Engineering,"
        f"marco.rossi@northwind.example,Data Engineer,{start.isoformat()}",
        f"liam.brennan@northwind.example,Liam Brennan,GB,{time_zone_of_second_row},Customer Success,"
        f"priya.raman@northwind.example,Support Specialist,{start.isoformat()}",
    ]) + "\n"


def _search_people(page, text: str):
    page.goto("/people/")
    page.get_by_role("searchbox", name="Search name or email").fill(text)
    page.get_by_role("button", name="Filter").click()
    return page.get_by_role("table")


def test_hr_partner_fixes_a_bad_row_then_imports_and_finds_the_new_person(
        page, sign_in_as, screenshot, tmp_path):
    start = date.today() + timedelta(days=14)
    bad_file = tmp_path / "new-starters.csv"
    bad_file.write_text(_csv(start, "Europe/Londn"), encoding="utf-8")
    fixed_file = tmp_path / "new-starters-fixed.csv"
    fixed_file.write_text(_csv(start, "Europe/London"), encoding="utf-8")
    sign_in_as(page, HR_PARTNER)

    # Upload a file whose third line has a misspelt time zone.
    page.goto("/people/")
    page.get_by_role("link", name="Import CSV").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import people from a CSV file")
    page.get_by_label("CSV file").set_input_files(bad_file)
    page.get_by_role("button", name="Check the file").click()

    # The problem is named by row and column, focus lands on it, and nothing can be imported.
    expect(page.get_by_role("heading", level=1)).to_have_text("Check the import of new-starters.csv")
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Nothing has been imported")
    problems = page.locator("#import-errors tbody tr")
    expect(problems).to_have_count(1)
    expect(problems.locator("td")).to_have_text(
        ["3", "time_zone", re.compile(r"'Europe/Londn' is not a known IANA time zone")])
    expect(page.get_by_role("button", name=re.compile(r"^Import"))).to_have_count(0)
    preview_url = page.url
    screenshot(page, "people-import-with-a-problem")

    # All or nothing: the good row was not imported either.
    expect(_search_people(page, "Noor Haddad").get_by_role("link", name="Noor Haddad")).to_have_count(0)
    expect(page.get_by_text("No one matches")).to_be_visible()
    page.goto(preview_url)

    # Upload the corrected file from the preview page, check the preview, import.
    page.get_by_label("CSV file").set_input_files(fixed_file)
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check the import of new-starters-fixed.csv")
    expect(page.locator(".error-summary")).to_have_count(0)
    new_people = page.get_by_role("table").filter(has_text="New people")
    expect(new_people.locator("tbody tr")).to_have_count(2)
    expect(new_people).to_contain_text("Noor Haddad")
    screenshot(page, "people-import-preview")
    page.get_by_role("button", name="Import 2 people").click()

    expect(page).to_have_url(re.compile(r"/people/$"))
    expect(page.get_by_role("status")).to_have_text(re.compile(r"Import finished: 2 new, 0 updated"))

    # The new person is there, in the right team under the right manager.
    people = _search_people(page, "noor")
    expect(people.locator("caption")).to_have_text("1 person")
    row = people.locator("tbody tr")
    expect(row).to_contain_text("Noor Haddad")
    expect(row).to_contain_text("Data Engineer")
    expect(row.locator("td").nth(1)).to_have_text("Engineering")
    expect(row.locator("td").nth(2)).to_have_text("Marco Rossi")
    expect(row).to_contain_text(f"{start.day} {start:%b %Y}")
    screenshot(page, "people-list-after-import")

    row.get_by_role("link", name="Noor Haddad").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Noor Haddad")
    expect(page.get_by_role("main")).to_contain_text("Europe/Berlin")


def test_the_team_filter_suggests_teams_as_one_types_and_filters_by_the_chosen_one(page, sign_in_as):
    sign_in_as(page, HR_PARTNER)
    page.goto("/people/")
    team = page.get_by_role("combobox", name="Team")
    team.press_sequentially("Engin", delay=30)
    suggestions = page.locator("#team-suggestions option")
    expect(suggestions.first).to_have_attribute("value", re.compile("Engineering"))
    # The page's own "No team" choice stays after the fetched ones.
    expect(suggestions.last).to_have_attribute("value", re.compile("No team", re.IGNORECASE))
    team.fill(suggestions.first.get_attribute("value"))
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("table")).to_contain_text("Engineering")
