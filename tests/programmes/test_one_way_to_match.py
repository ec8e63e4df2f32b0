"""One way to match a buddy or mentor: through a programme, so its load cap holds on every page and route."""
from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.factories import make_employee
from tests.programmes.conftest import user_of
from tests.programmes.test_api import api_as  # noqa: F401  (the fixture, shared)
from touchpoints.extensions import db
from touchpoints.journeys.models import SupportAssignment, SupportKind
from touchpoints.journeys.services import assign_support, current_support
from touchpoints.programmes.models import MatchStatus, ProgrammeMatch
from touchpoints.programmes.services import create_match, load_of

PACKAGE = Path(__file__).resolve().parents[2] / "touchpoints"


def open_buddy_pairs_of(partner) -> int:
    return db.session.scalar(select(func.count()).select_from(SupportAssignment).where(
        SupportAssignment.partner_id == partner.id, SupportAssignment.kind == SupportKind.BUDDY,
        SupportAssignment.ended_on.is_(None))) or 0


def fill_to_cap(company) -> None:
    """Dan Designer buddies two people: the New-hire buddy programme's cap."""
    hr = user_of(company.hr)
    for person in (company.teammate, company.junior):
        create_match(company.buddy, person, company.designer, actor=hr)
    db.session.commit()
    assert load_of(company.designer.id, SupportKind.BUDDY) == company.buddy.load_cap == 2


def test_the_journeys_page_sends_hr_to_the_programmes_instead_of_assigning(client, login, company):
    login(company.hr)
    page = client.get(f"/people/{company.newcomer.id}/journeys").get_data(as_text=True)
    assert f'action="/people/{company.newcomer.id}/support"' not in page
    assert 'name="partner_email"' not in page
    back = f"?next=/people/{company.newcomer.id}/journeys"
    assert f'href="/programmes/{company.buddy.id}/people/{company.newcomer.id}{back}"' in page
    assert f'href="/programmes/{company.mentoring.id}/people/{company.newcomer.id}{back}"' in page
    assert "Find a buddy" in page and "in New-hire buddy" in page
    # The link leads to the suggestions, where the cap leaves out whoever is full.
    before = client.get(f"/programmes/{company.buddy.id}/people/{company.newcomer.id}")
    assert "Choose Dan Designer" in before.get_data(as_text=True)
    fill_to_cap(company)
    suggestions = client.get(f"/programmes/{company.buddy.id}/people/{company.newcomer.id}")
    assert suggestions.status_code == 200
    assert "Choose Dan Designer" not in suggestions.get_data(as_text=True)


def test_with_no_programme_running_the_page_says_how_to_start_one(client, login, company):
    company.mentoring.active = False
    db.session.commit()
    login(company.hr)
    page = " ".join(client.get(f"/people/{company.newcomer.id}/journeys").get_data(as_text=True).split())
    assert "No mentor programme is running" in page
    assert f'href="/programmes/{company.mentoring.id}/people/{company.newcomer.id}' not in page
    assert f'href="/programmes/{company.buddy.id}/people/{company.newcomer.id}?next=' in page


@pytest.mark.parametrize("kind", ["buddy", "mentor"])
def test_the_old_assign_route_no_longer_makes_a_pair(client, login, company, kind):
    login(company.hr)
    response = client.post(f"/people/{company.newcomer.id}/support",
                           data={"kind": kind, "partner_email": company.designer.email})
    assert response.status_code in (404, 405)
    assert current_support(company.newcomer.id) == {}


def test_the_cap_holds_on_the_programme_page_the_api_and_the_old_route(client, login, company, api_as):  # noqa: F811
    fill_to_cap(company)
    login(company.hr)
    page = client.post(f"/programmes/{company.buddy.id}/people/{company.newcomer.id}/match",
                       data={"partner_id": str(company.designer.id)})
    assert page.status_code == 422
    assert "the most New-hire buddy allows at once (2)" in page.get_data(as_text=True)
    by_email = client.post(f"/programmes/{company.buddy.id}/people/{company.newcomer.id}/match",
                           data={"partner_email": company.designer.email})
    assert by_email.status_code == 422
    old = client.post(f"/people/{company.newcomer.id}/support",
                      data={"kind": "buddy", "partner_email": company.designer.email})
    assert old.status_code in (404, 405)
    answer = api_as(company.hr).post(f"/api/v1/programmes/{company.buddy.id}/matches",
                                     json={"employee_id": company.newcomer.id,
                                           "partner_id": company.designer.id})
    assert answer.status_code == 422
    assert "already buddies 2 people" in answer.get_json()["error"]["fields"]["partner_id"]
    db.session.expire_all()
    assert open_buddy_pairs_of(company.designer) == 2
    assert current_support(company.newcomer.id) == {}


def test_only_the_programme_service_assigns_a_buddy_or_mentor():
    """No page, API route or job assigns support by hand: the one caller is `create_match`."""
    callers = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Call):
                        name = getattr(inner.func, "id", None) or getattr(inner.func, "attr", None)
                        if name == "assign_support":
                            callers.append(f"{path.relative_to(PACKAGE)}:{node.name}")
    assert sorted(set(callers)) == ["programmes/services.py:create_match"]


def test_a_programme_pair_ends_politely_even_from_the_journeys_page(client, login, company):
    pair = create_match(company.buddy, company.newcomer, company.designer, actor=user_of(company.hr))
    db.session.commit()
    login(company.hr)
    page = client.get(f"/people/{company.newcomer.id}/journeys").get_data(as_text=True)
    assert f'href="/programmes/pairs/{pair.id}/end?next=/people/{company.newcomer.id}/journeys"' in page
    assert f'action="/support/{pair.assignment_id}/end"' not in page
    # An old bookmark or a form posted by hand is sent to the polite end, not ended bluntly.
    response = client.post(f"/support/{pair.assignment_id}/end")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(
        f"/programmes/pairs/{pair.id}/end?next=/people/{company.newcomer.id}/journeys")
    db.session.expire_all()
    assert db.session.get(ProgrammeMatch, pair.id).status is MatchStatus.ACTIVE
    assert db.session.get(SupportAssignment, pair.assignment_id).ended_on is None
    ended = client.post(f"/programmes/pairs/{pair.id}/end", data={"reason": "not_a_fit", "note": ""})
    assert ended.status_code == 302
    db.session.expire_all()
    assert db.session.get(ProgrammeMatch, pair.id).status is MatchStatus.ENDED
    assert current_support(company.newcomer.id) == {}


def test_a_buddy_given_by_hand_before_programmes_still_ends_on_the_journeys_page(client, login, company):
    # Pairings made before the programmes existed (imported or from the old form) carry on until ended.
    person = make_employee("Old Pairing", team=company.newcomer.team, start_date=date(2025, 11, 3))
    assignment = assign_support(person, SupportKind.BUDDY, company.designer, actor_id=None,
                                started_on=date(2025, 11, 3))
    db.session.commit()
    login(company.hr)
    page = client.get(f"/people/{person.id}/journeys").get_data(as_text=True)
    assert f'action="/support/{assignment.id}/end"' in page
    response = client.post(f"/support/{assignment.id}/end", follow_redirects=True)
    assert "The buddy pairing has ended" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(SupportAssignment, assignment.id).ended_on is not None
    assert current_support(person.id) == {}
