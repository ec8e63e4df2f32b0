"""Buddies in a real browser: an HR partner finds a buddy for a colleague from the suggestions."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from touchpoints.extensions import db
from touchpoints.journeys.models import OwnerRole, SupportAssignment, SupportKind, Touchpoint
from touchpoints.people.demo import DEMO_LOGINS, NAMED
from touchpoints.people.models import Employee, LifecycleStatus, Team
from touchpoints.programmes.models import MatchStatus, Programme, ProgrammeMatch

pytestmark = pytest.mark.browser
HR_PARTNER = dict(DEMO_LOGINS)["HR partner"]


@pytest.fixture(scope="module")
def mentee(live_app) -> tuple[int, str, str]:
    """The shipped programmes, and a colleague in Sales with no buddy yet: (id, name, email)."""
    from touchpoints.programmes.defaults import load_default_programmes

    with live_app.app_context():
        load_default_programmes()
        db.session.commit()
        with_buddy = select(SupportAssignment.employee_id).where(SupportAssignment.kind == SupportKind.BUDDY,
                                                                 SupportAssignment.ended_on.is_(None))
        person = db.session.scalar(
            select(Employee).join(Team, Team.id == Employee.team_id)
            .where(Team.name == "Sales", Employee.status == LifecycleStatus.ACTIVE,
                   Employee.deactivated_at.is_(None), Employee.id.not_in(with_buddy),
                   Employee.full_name.not_in([name for name, *_ in NAMED]))
            .order_by(Employee.id.desc()))
        assert person is not None, "the demo company has people in Sales"
        found = person.id, person.full_name, person.email
        db.session.remove()
        return found


def test_hr_pairs_a_buddy_from_the_suggestions(page, live_app, mentee, sign_in_as):
    person_id, name, email = mentee
    sign_in_as(page, HR_PARTNER)
    page.goto("/programmes/")
    page.get_by_role("link", name="New-hire buddy").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New-hire buddy")
    page.get_by_label("Work email of the person").fill(email)
    page.get_by_role("button", name="Show suggestions").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"A buddy for {name}")

    # Each suggestion says why, in words; the best one is first.
    first = page.locator(".suggestion-list > li").first
    reasons = first.get_by_role("list", name=re.compile("^Why "))
    expect(reasons).to_contain_text(re.compile(r"buddies \d of 2"))
    expect(first).to_contain_text("tenure")
    buddy = first.locator(".item__title").inner_text().strip()
    first.get_by_role("button", name=re.compile(f"^Choose {re.escape(buddy)}")).click()

    expect(page.locator(".flash--success")).to_contain_text(f"{buddy} is now {name}'s buddy")
    row = page.locator("tr", has_text=name)
    expect(row).to_contain_text(buddy)
    expect(page.locator(".stat", has_text="active pairs")).to_contain_text("1")

    page.goto(f"/people/{person_id}")
    expect(page.locator("#support-heading + ul")).to_contain_text(f"Buddy: {buddy}")

    with live_app.app_context():
        pair = db.session.scalar(select(ProgrammeMatch)
                                 .join(Programme, Programme.id == ProgrammeMatch.programme_id)
                                 .where(ProgrammeMatch.employee_id == person_id,
                                        ProgrammeMatch.status == MatchStatus.ACTIVE,
                                        Programme.key == "new-hire-buddy"))
        owners = set(db.session.scalars(select(Touchpoint.owner_id).where(
            Touchpoint.enrolment_id == pair.enrolment_id, Touchpoint.owner_role == OwnerRole.BUDDY)))
        assert owners == {pair.partner_id}
        assert db.session.get(Employee, pair.partner_id).full_name == buddy
        db.session.remove()
