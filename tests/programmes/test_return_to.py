"""Finding a buddy from a person's page and coming back to it: the `next` page, same site only."""
from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from tests.programmes.conftest import user_of
from touchpoints.extensions import db
from touchpoints.programmes.models import ProgrammeMatch
from touchpoints.programmes.services import create_match


def words_of(response) -> str:
    """The page's text as a reader sees it, without the markup."""
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split()))


def find_link(page: str, programme_name: str) -> str:
    """The href of the "Find a buddy ... in <programme>" button on a person's journeys page."""
    for href, label in re.findall(r'<a class="button button--small" href="([^"]+)">(.*?)</a>', page):
        if label.endswith(f"in {programme_name}"):
            return html.unescape(href)
    raise AssertionError(f"no link to find a partner in {programme_name}")


def test_hr_comes_back_to_the_journeys_page_they_started_from(client, login, company):
    login(company.hr)
    journeys_page = f"/people/{company.newcomer.id}/journeys"
    link = find_link(client.get(journeys_page).get_data(as_text=True), company.buddy.name)
    suggestions = client.get(link)
    assert suggestions.status_code == 200
    page = suggestions.get_data(as_text=True)
    # Every way of choosing on the page (each suggestion and the email form) carries the way back.
    suggested = page.count('name="partner_id"')
    assert suggested >= 1
    assert len(re.findall(rf'<input[^>]*name="next"[^>]*value="{journeys_page}"', page)) == suggested + 1
    assert f'href="{journeys_page}">Back to Eli Newcomer' in page

    response = client.post(f"/programmes/{company.buddy.id}/people/{company.newcomer.id}/match",
                           data={"partner_id": str(company.designer.id), "next": journeys_page})
    assert response.status_code == 302
    assert response.headers["Location"] == journeys_page
    back = words_of(client.get(journeys_page))
    assert "Dan Designer is now Eli Newcomer's buddy" in back
    assert db.session.scalar(select(ProgrammeMatch.partner_id)) == company.designer.id


def test_a_refused_match_keeps_the_way_back_for_the_next_try(client, login, company):
    hr = user_of(company.hr)
    create_match(company.buddy, company.teammate, company.designer, actor=hr)
    create_match(company.buddy, company.junior, company.designer, actor=hr)
    db.session.commit()
    login(company.hr)
    journeys_page = f"/people/{company.newcomer.id}/journeys"
    url = f"/programmes/{company.buddy.id}/people/{company.newcomer.id}/match"
    refused = client.post(url, data={"partner_email": company.designer.email, "next": journeys_page})
    assert refused.status_code == 422
    assert f'value="{journeys_page}"' in refused.get_data(as_text=True)
    response = client.post(url, data={"partner_email": company.berliner.email, "next": journeys_page})
    assert response.headers["Location"] == journeys_page


@pytest.mark.parametrize("elsewhere", [
    "https://evil.example/phish",
    "//evil.example/phish",
    "/\\evil.example/phish",
    "javascript:alert(1)",
])
def test_a_next_page_off_the_site_is_ignored(client, login, company, elsewhere):
    login(company.hr)
    suggestions = client.get(f"/programmes/{company.buddy.id}/people/{company.newcomer.id}",
                             query_string={"next": elsewhere})
    assert suggestions.status_code == 200
    assert "evil.example" not in suggestions.get_data(as_text=True)
    assert "alert(1)" not in suggestions.get_data(as_text=True)
    response = client.post(f"/programmes/{company.buddy.id}/people/{company.newcomer.id}/match",
                           data={"partner_id": str(company.designer.id), "next": elsewhere})
    assert response.status_code == 302
    pair_id = db.session.scalar(select(ProgrammeMatch.id))
    # As before: HR lands on the programme, at the new pair.
    assert response.headers["Location"] == f"/programmes/{company.buddy.id}#pair-{pair_id}"


def test_a_manager_comes_back_to_the_persons_page_they_started_from(client, login, company):
    login(company.manager)
    person_page = f"/people/{company.newcomer.id}"
    page = client.get(person_page).get_data(as_text=True)
    assert (f'href="/programmes/{company.buddy.id}/people/{company.newcomer.id}?next=/people/'
            f'{company.newcomer.id}"') in page
    response = client.post(f"/programmes/{company.buddy.id}/people/{company.newcomer.id}/match",
                           data={"partner_id": str(company.designer.id), "next": person_page})
    assert response.headers["Location"] == person_page
    assert "Dan Designer is now Eli Newcomer's buddy" in words_of(client.get(person_page))


def test_hr_ending_a_pair_from_the_journeys_page_comes_back_to_it(client, login, company):
    pair = create_match(company.buddy, company.newcomer, company.designer, actor=user_of(company.hr))
    db.session.commit()
    login(company.hr)
    journeys_page = f"/people/{company.newcomer.id}/journeys"
    end_link = re.search(r'href="([^"]*/programmes/pairs/\d+/end[^"]*)"', client.get(journeys_page).get_data(
        as_text=True)).group(1)
    form = client.get(html.unescape(end_link)).get_data(as_text=True)
    assert re.search(rf'<input[^>]*name="next"[^>]*value="{journeys_page}"', form)
    assert f'href="{journeys_page}">Keep it' in form
    ended = client.post(f"/programmes/pairs/{pair.id}/end",
                        data={"reason": "ran_its_course", "next": journeys_page})
    assert ended.status_code == 302 and ended.headers["Location"] == journeys_page
    assert "The pair has ended" in words_of(client.get(journeys_page))


def test_ending_a_pair_ignores_a_next_page_off_the_site(client, login, company):
    pair = create_match(company.buddy, company.newcomer, company.designer, actor=user_of(company.hr))
    db.session.commit()
    login(company.hr)
    form = client.get(f"/programmes/pairs/{pair.id}/end", query_string={"next": "//evil.example/x"})
    assert "evil.example" not in form.get_data(as_text=True)
    ended = client.post(f"/programmes/pairs/{pair.id}/end",
                        data={"reason": "ran_its_course", "next": "https://evil.example/x"})
    assert ended.headers["Location"] == f"/programmes/{company.buddy.id}"
