"""The programme pages for HR, managers and employees: what each sees and may do."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.programmes.conftest import user_of
from tests.querycount import count_queries
from touchpoints.extensions import db
from touchpoints.programmes.models import MatchStatus, Programme, ProgrammeMatch
from touchpoints.programmes.services import create_match


def text_of(response) -> str:
    return " ".join(response.get_data(as_text=True).split())


def words_of(response) -> str:
    """The page's text as a reader sees it, without the markup."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


# ---------------------------------------------------------------- HR: programmes


def test_hr_lists_opens_and_changes_a_programme(client, login, company):
    login(company.hr)
    listing = text_of(client.get("/programmes/"))
    assert "New-hire buddy" in listing and "Mentoring" in listing
    page = text_of(client.get(f"/programmes/{company.buddy.id}"))
    assert "0 active pairs" not in page  # figures are separate tiles
    assert "active pairs" in page and "people at their cap" in page
    assert f"buddies need {company.buddy.min_tenure_months} months" in page
    response = client.post(f"/programmes/{company.buddy.id}/edit", data={
        "name": "New-hire buddy", "kind": "buddy", "journey_key": "buddy-programme", "load_cap": "4",
        "min_tenure_months": "3", "active": "y", "description": "Buddies for everyone new."})
    assert response.status_code == 302
    db.session.expire_all()
    assert (company.buddy.load_cap, company.buddy.min_tenure_months) == (4, 3)


def test_a_programme_form_with_mistakes_keeps_what_was_typed_and_names_the_fields(client, login, company):
    login(company.hr)
    response = client.post("/programmes/new", data={
        "name": "Returners", "key": "Bad Key!", "kind": "buddy", "journey_key": "", "load_cap": "none",
        "min_tenure_months": "500"})
    assert response.status_code == 400
    page = text_of(response)
    assert 'value="Returners"' in page and 'value="none"' in page
    for reason in ("Use lower-case letters", "Choose an active journey", "Give a whole number.",
                   "Give a number from 0 to 240."):
        assert reason in page
    assert db.session.scalar(select(Programme).where(Programme.name == "Returners")) is None


def test_hr_creates_a_programme(client, login, company):
    login(company.hr)
    response = client.post("/programmes/new", data={
        "name": "Returners' buddies", "key": "returners", "kind": "buddy", "journey_key": "buddy-programme",
        "load_cap": "1", "min_tenure_months": "12", "active": "y"})
    assert response.status_code == 302
    assert db.session.scalar(select(Programme.load_cap).where(Programme.key == "returners")) == 1


# ---------------------------------------------------------------- finding and matching


def test_hr_finds_a_buddy_by_email_and_matches_from_the_suggestions(client, login, company):
    login(company.hr)
    found = client.get(f"/programmes/{company.buddy.id}/find", query_string={"email": company.newcomer.email})
    assert found.status_code == 302
    page = text_of(client.get(found.headers["Location"]))
    assert "A buddy for Eli Newcomer" in page
    assert "other team (Design)" in page and "buddies 0 of 2" in page
    assert "Mia Manager" not in page  # their manager is never suggested
    response = client.post(f"/programmes/{company.buddy.id}/people/{company.newcomer.id}/match",
                           data={"partner_id": str(company.designer.id)})
    assert response.status_code == 302
    pair = db.session.scalar(select(ProgrammeMatch))
    assert (pair.employee_id, pair.partner_id, pair.status) == \
        (company.newcomer.id, company.designer.id, MatchStatus.ACTIVE)
    detail = text_of(client.get(f"/programmes/{company.buddy.id}"))
    assert "Eli Newcomer" in detail and "Dan Designer" in detail
    person = words_of(client.get(f"/people/{company.newcomer.id}"))
    assert "Buddy: Dan Designer" in person


def test_an_unknown_email_says_so(client, login, company):
    login(company.hr)
    response = client.get(f"/programmes/{company.buddy.id}/find",
                          query_string={"email": "nobody@example.com"})
    assert response.status_code == 400
    assert "No one has this work email." in text_of(response)


def test_a_partner_at_the_cap_is_refused_on_the_page_with_the_reason(client, login, company):
    hr = user_of(company.hr)
    create_match(company.buddy, company.teammate, company.designer, actor=hr)
    create_match(company.buddy, company.junior, company.designer, actor=hr)
    db.session.commit()
    login(company.hr)
    response = client.post(f"/programmes/{company.buddy.id}/people/{company.newcomer.id}/match",
                           data={"partner_email": company.designer.email})
    assert response.status_code == 422
    page = text_of(response)
    assert "Dan Designer already buddies 2 people, the most New-hire buddy allows at once (2)" in page
    assert f'value="{company.designer.email}"' in page
    assert db.session.scalar(select(ProgrammeMatch)
                             .where(ProgrammeMatch.employee_id == company.newcomer.id)) is None


def test_the_suggestions_page_costs_the_same_queries_whatever_the_company(client, login, company):
    from datetime import date

    from tests.factories import make_employee, make_team

    login(company.hr)
    url = f"/programmes/{company.buddy.id}/people/{company.newcomer.id}"
    client.get(url)
    db.session.remove()  # as in production, the request starts with an empty session
    with count_queries() as small:
        assert client.get(url).status_code == 200
    team = make_team("Support")
    for n in range(40):
        make_employee(f"Extra {n}", team=team, start_date=date(2019, 1, 1), password=None)
    db.session.remove()
    with count_queries() as large:
        assert client.get(url).status_code == 200
    assert large.count == small.count, large.report()


# ---------------------------------------------------------------- managers


def test_a_manager_picks_a_buddy_for_their_report(client, login, company):
    login(company.manager)
    chooser = client.get(f"/programmes/{company.buddy.id}/find")
    assert chooser.status_code == 200 and "Eli Newcomer" in text_of(chooser)
    assert "Rita Report" not in text_of(chooser)
    assert client.get(f"/programmes/{company.buddy.id}/people/{company.newcomer.id}").status_code == 200
    response = client.post(f"/programmes/{company.buddy.id}/people/{company.newcomer.id}/match",
                           data={"partner_id": str(company.designer.id)})
    assert response.status_code == 302
    assert "Buddy: Dan Designer" in words_of(client.get(f"/people/{company.newcomer.id}"))


@pytest.mark.parametrize("programme, person", [("mentoring", "newcomer"), ("buddy", "other_report")])
def test_a_manager_may_not_pick_mentors_nor_for_others_reports(client, login, company, programme, person):
    login(company.manager)
    target = getattr(company, person)
    programme_id = getattr(company, programme).id
    assert client.get(f"/programmes/{programme_id}/people/{target.id}").status_code == 403
    response = client.post(f"/programmes/{programme_id}/people/{target.id}/match",
                           data={"partner_id": str(company.designer.id)})
    assert response.status_code == 403
    assert db.session.scalar(select(ProgrammeMatch)) is None


# ---------------------------------------------------------------- employees


@pytest.mark.parametrize("path", ["/programmes/", "/programmes/{b}", "/programmes/{b}/edit",
                                  "/programmes/{b}/find", "/programmes/{b}/people/{me}"])
def test_an_employee_cannot_open_hr_or_matching_pages(client, login, company, path):
    login(company.teammate)
    url = path.format(b=company.buddy.id, me=company.teammate.id)
    assert client.get(url).status_code == 403


def test_employees_see_their_own_pairs_and_can_end_them_kindly(client, login, company):
    hr = user_of(company.hr)
    mine = create_match(company.buddy, company.newcomer, company.designer, actor=hr)
    create_match(company.mentoring, company.other_report, company.new_yorker, actor=hr)
    db.session.commit()
    login(company.newcomer)
    page = text_of(client.get("/me/programmes"))
    assert "Dan Designer" in page and "Your buddy" in page
    assert "Rita Report" not in page and "Nick NewYork" not in page
    form = client.get(f"/programmes/pairs/{mine.id}/end")
    assert form.status_code == 200 and "Dan Designer gets a short, kind note" in text_of(form)
    refused = client.post(f"/programmes/pairs/{mine.id}/end", data={"note": "Thanks!"})
    assert refused.status_code == 400 and "Choose the reason that fits best." in text_of(refused)
    assert 'Thanks!' in text_of(refused)
    done = client.post(f"/programmes/pairs/{mine.id}/end",
                       data={"reason": "ran_its_course", "note": "Thanks!"}, follow_redirects=True)
    assert "They have a kind note from you." in text_of(done)
    assert "Ended" in text_of(done) and "It ran its course" in text_of(done)
    # The buddy sees the ended pair in their own history, with the note.
    client.post("/logout")
    login(company.designer)
    history = text_of(client.get("/me/programmes"))
    assert "Eli Newcomer" in history and "You are their buddy" in history and "“Thanks!”" in history


def test_nobody_else_can_open_a_pairs_end_page(client, login, company):
    pair = create_match(company.buddy, company.newcomer, company.designer, actor=user_of(company.hr))
    db.session.commit()
    login(company.manager)  # the newcomer's manager: not in the pair
    assert client.get(f"/programmes/pairs/{pair.id}/end").status_code == 404
    assert client.post(f"/programmes/pairs/{pair.id}/end", data={"reason": "other"}).status_code == 404
    db.session.expire_all()
    assert pair.status is MatchStatus.ACTIVE


def test_the_buddy_programme_lists_new_colleagues_without_a_buddy(client, login, company):
    login(company.hr)
    page = words_of(client.get(f"/programmes/{company.buddy.id}"))
    assert "New colleagues without a buddy" in page and "Eli Newcomer Onboarding · Platform" in page
    assert "New colleagues without a buddy" not in words_of(client.get(f"/programmes/{company.mentoring.id}"))


def test_the_persons_page_keeps_earlier_pairs_for_hr_and_themself_not_their_manager(client, login, company):
    from touchpoints.programmes.services import end_match

    pair = create_match(company.buddy, company.newcomer, company.designer, actor=user_of(company.hr))
    db.session.commit()
    end_match(pair, actor=user_of(company.newcomer), reason="not_a_fit", note="Private words")
    db.session.commit()
    for viewer, sees in ((company.hr, True), (company.newcomer, True), (company.manager, False)):
        login(viewer)
        page = words_of(client.get(f"/people/{company.newcomer.id}"))
        assert ("Earlier pairs Buddy: Dan Designer" in page) is sees, viewer.full_name
        assert "Private words" not in page
        client.post("/logout")


def test_a_programme_needs_a_journey_with_moments_for_its_kind(client, login, company):
    login(company.hr)
    response = client.post(f"/programmes/{company.buddy.id}/edit", data={
        "name": "New-hire buddy", "kind": "buddy", "journey_key": "mentoring-programme", "load_cap": "2",
        "min_tenure_months": "6", "active": "y"})
    assert response.status_code == 400
    assert "has no touchpoint owned by the buddy" in words_of(response)
    db.session.expire_all()
    assert company.buddy.journey_key == "buddy-programme"


def test_a_buddy_given_by_hand_shows_instead_of_suggestions(client, login, company):
    from touchpoints.journeys.models import SupportKind
    from touchpoints.journeys.services import assign_support

    assign_support(company.newcomer, SupportKind.BUDDY, company.teammate, actor_id=None)
    db.session.commit()
    login(company.hr)
    page = words_of(client.get(f"/programmes/{company.buddy.id}/people/{company.newcomer.id}"))
    assert "Cleo Teammate has been their buddy since" in page and "given by hand" in page
    assert "Choose Dan Designer" not in page


def test_programme_pages_write_dates_in_words_not_iso(client, login, company):
    from datetime import date

    company.newcomer.start_date = date(2026, 3, 2)
    pair = create_match(company.buddy, company.newcomer, company.designer, actor=user_of(company.hr))
    pair.started_on = date(2026, 3, 9)
    db.session.commit()
    login(company.hr)
    programme = words_of(client.get(f"/programmes/{company.buddy.id}"))
    assert "9 Mar 2026" in programme and "2026-03-09" not in programme
    person = words_of(client.get(f"/people/{company.newcomer.id}"))
    assert "Start date 2 Mar 2026" in person and "2026-03-02" not in person
    client.post("/logout")
    login(company.newcomer)
    end = words_of(client.get(f"/programmes/pairs/{pair.id}/end"))
    assert "since 9 Mar 2026" in end and "2026-03-09" not in end
