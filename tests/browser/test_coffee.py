"""Coffee pairing in a real browser: an employee opts in from their preferences page, a round pairs
them, they see who with and log the coffee chat as held through the ordinary log form.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.factories import DEFAULT_PASSWORD, make_employee, make_team
from touchpoints.coffee import services
from touchpoints.coffee.models import CoffeeMember
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.models import Touchpoint, TouchpointStatus

pytestmark = pytest.mark.browser


def test_an_employee_opts_in_is_paired_and_logs_the_coffee_as_held(page, live_app, sign_in_as):
    with live_app.app_context():
        stamp = utcnow().strftime("%H%M%S%f")
        newcomer = make_employee(f"Cora Coffee {stamp}", team=make_team(f"Kitchen {stamp}"))
        partner = make_employee(f"Pat Partner {stamp}", team=make_team(f"Garden {stamp}"))
        services.save_participation(partner, taking_part=True, frequency_weeks=1, actor=None)
        db.session.commit()
        email, me_id = newcomer.email, newcomer.id
        db.session.remove()

    sign_in_as(page, email, DEFAULT_PASSWORD)
    page.goto("/people/me/preferences")
    expect(page.get_by_text("You are not taking part.")).to_be_visible()
    page.get_by_role("link", name=re.compile("Coffee pairing: take part")).click()
    page.get_by_label("Yes, pair me with someone").check()
    page.get_by_label("Every week").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("You are taking part in coffee pairing.")).to_be_visible()

    with live_app.app_context():
        # A round on a date no other test uses: the round for a date runs once.
        day = utcnow().date() + timedelta(days=500 + int(stamp[-3:]))
        made = services.run_round(day, seed=7)
        db.session.commit()
        assert made is not None
        mine = db.session.scalar(select(CoffeeMember).where(CoffeeMember.round_id == made.id,
                                                            CoffeeMember.employee_id == me_id))
        assert mine is not None, "the newcomer is paired"
        touchpoint_id = mine.touchpoint_id
        db.session.remove()

    page.goto("/coffee")
    card = page.locator(".coffee-card").filter(has=page.get_by_role("link", name="We met — log it")).first
    expect(card).to_contain_text("With ")
    expect(card).to_contain_text("Your working hours overlap")
    card.get_by_role("link", name="We met — log it").click()
    expect(page).to_have_url(re.compile(rf"/touchpoints/{touchpoint_id}/log"))
    page.get_by_label("Video call").check()
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(r"/coffee$"))
    expect(page.locator("table").get_by_text("Held").first).to_be_visible()

    with live_app.app_context():
        assert db.session.get(Touchpoint, touchpoint_id).status is TouchpointStatus.DONE
        db.session.remove()
