"""Pulse surveys end to end in a browser: an employee answers from the home banner, HR reads results."""
from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from touchpoints.extensions import db
from touchpoints.people.demo import DEMO_LOGINS
from touchpoints.people.models import Employee, Team
from touchpoints.surveys import services
from touchpoints.surveys.models import Survey, SurveyInvitation, SurveyRound
from touchpoints.surveys.pack import load_pack

pytestmark = pytest.mark.browser
HR_PARTNER = dict(DEMO_LOGINS)["HR partner"]
EMPLOYEE = dict(DEMO_LOGINS)["Employee"]
COMMENT = "A weekly walk with the team would help"


@pytest.fixture
def engineering_round(live_app) -> int:
    """An open round for Engineering that everyone there but the demo employee has answered."""
    with live_app.app_context():
        survey = db.session.scalar(select(Survey).where(Survey.key == "connection-pulse"))
        if survey is None:
            (survey,) = load_pack()
            db.session.commit()
        team_id = db.session.scalar(select(Team.id).where(Team.name == "Engineering"))
        round_ = services.schedule_round(survey, {"opens_on": date.today(), "open_days": 7,
                                                  "audience_kind": "teams", "team_ids": [team_id]},
                                         tz="Europe/London", actor_id=None)
        db.session.commit()
        round_id = round_.id
        assert services.open_round(round_id)
        me = db.session.scalar(select(Employee.id).where(Employee.email == EMPLOYEE))
        invited = db.session.execute(select(SurveyInvitation.employee_id, SurveyInvitation.new_hire)
                                     .where(SurveyInvitation.round_id == round_id)).all()
        round_ = db.session.get(SurveyRound, round_id)
        for employee_id, new_hire in invited:
            if employee_id == me:
                continue
            answers = {}
            for q in services.questions_for(round_, new_hire=new_hire):
                answers[q.key] = {"agreement": 4, "enps": 8}.get(q.kind.value) or (
                    q.choices[0]["key"] if q.choices else "Pairing helps me feel part of the team")
            services.submit_response(round_id, employee_id, answers)
        db.session.remove()
    return round_id


def test_an_employee_answers_and_hr_reads_the_results(page, sign_in_as, screenshot, engineering_round):
    # The employee is invited on her home page and answers every question with the keyboard-friendly radios.
    sign_in_as(page, EMPLOYEE)
    page.goto("/")
    # Other browser tests may leave the demo's own open round on this shared server too: follow
    # the invitation to this test's round, and check that it is gone afterwards.
    answered = f"/surveys/rounds/{engineering_round}/answer"
    invitation = page.get_by_role("link", name=re.compile(r"^Answer.*Connection pulse")).and_(
        page.locator(f'a[href="{answered}"]'))
    expect(invitation.first).to_be_visible()
    invitation.first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Connection pulse")
    for prompt in ("I feel connected to the people I work with",
                   "Our tools help rather than get in the way of working with people",
                   "My manager checks in with me regularly",
                   "If something was wrong, I could talk to a person about it, not only fill in a form"):
        page.get_by_role("group", name=re.compile(re.escape(prompt))).get_by_label("4 · Agree").check()
    page.get_by_role("group", name=re.compile("important change")).get_by_label(
        "In a live team meeting (room or video)").check()
    page.get_by_role("group", name=re.compile("recommend working here")).get_by_label("9", exact=True).check()
    page.get_by_label(re.compile("one thing that would help")).fill(COMMENT)
    screenshot(page, "surveys-employee-answering")
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you: your answers are in")
    page.goto("/")
    expect(page.locator(f'a[href="{answered}"]')).to_have_count(0)
    page.goto("/surveys/")
    expect(page.get_by_role("region", name="You answered")).to_contain_text("Connection pulse")
    page.context.clear_cookies()

    # HR closes the round and reads the results: scores, an accessible chart, and the comments.
    sign_in_as(page, HR_PARTNER)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Surveys").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pulse surveys")
    page.goto(f"/surveys/rounds/{engineering_round}")
    expect(page.get_by_text(re.compile(r"of 1\d answered"))).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Close now").click()
    expect(page.get_by_role("status").filter(has_text="results are ready")).to_be_visible()
    page.get_by_role("link", name="Results", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Results · Connection pulse")
    chart = page.get_by_role("img", name=re.compile("Connection score by team"))
    expect(chart).to_be_visible()
    table = page.get_by_role("table").filter(has_text="Scores by team")
    expect(table.get_by_role("row", name=re.compile("Engineering"))).to_contain_text("Shown")
    expect(page.get_by_role("region", name=re.compile("Comments"))).to_contain_text(COMMENT)
    screenshot(page, "surveys-hr-results")
