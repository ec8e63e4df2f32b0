"""Every page, for every role, renders and costs no more queries for 1,000 people than for 10.

The pages are found from the url_map (tests/web/pages.py), so a new page is checked the day it
lands. The companies are the benchmark's synthetic ones with the benchmark's activity.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import delete, insert, select

from benchmarks.bench_home import add_activity
from benchmarks.company import BENCH_PASSWORD, Company, plan_company, write_company
from tests.conftest import _empty_tables
from tests.querycount import count_queries
from tests.web.pages import walk
from touchpoints.extensions import db
from touchpoints.surveys.models import RoundStatus, SurveyParticipation, SurveyRound

ROLES = ("hr_partner", "manager", "employee")


def company_of(size: int) -> Company:
    """The synthetic company; a small one gets every lifecycle stage, as a large one has by chance.

    Pages run some queries only when there is something of a kind (new hires for the first-days
    policy, someone on leave): the small company must have each kind too, or a page would look as
    if it grew when it only met a new kind of data.
    """
    plan = plan_company(size)
    if size < 100:
        today = plan.today
        keep = {plan.hr_partner.id, plan.manager.id, plan.employee.id}
        others = [p for p in plan.people if p.id not in keep and not p.report_ids]
        shapes = [("pre_boarding", today + timedelta(days=3), None),
                  ("onboarding", today - timedelta(days=10), None), ("on_leave", None, None),
                  ("offboarding", None, today + timedelta(days=12)),
                  ("alumni", None, today - timedelta(days=40))]
        for person, (status, start, exit_on) in zip(others, shapes, strict=False):
            person.status = status
            person.start_date = start or person.start_date
            person.hire_date = min(person.hire_date or person.start_date, person.start_date)
            person.exit_date = exit_on
    return plan


def answered_the_pulse(answered: set[int], *, not_answered: set[int]) -> None:
    """The same people answered the open round at every size (its thanks and answer pages depend on it)."""
    round_id = db.session.scalar(select(SurveyRound.id).where(SurveyRound.status == RoundStatus.OPEN))
    everyone = answered | not_answered
    db.session.execute(delete(SurveyParticipation).where(SurveyParticipation.employee_id.in_(everyone)))
    db.session.execute(insert(SurveyParticipation), [
        {"round_id": round_id, "employee_id": person_id, "responded_on": date.today()}
        for person_id in answered])
    db.session.commit()


def queries_per_page(app, size: int) -> dict[tuple[str, str], int]:
    """(role, endpoint) -> queries of its page, for a company of this size."""
    _empty_tables()
    plan = company_of(size)
    write_company(plan)
    db.session.commit()
    add_activity()
    answered_the_pulse({plan.hr_partner.id, plan.manager.id}, not_answered={plan.employee.id})
    counts: dict[tuple[str, str], int] = {}
    for role in ROLES:
        person = getattr(plan, role)
        client = app.test_client()
        signed_in = client.post("/login", data={"email": person.email, "password": BENCH_PASSWORD})
        assert signed_in.status_code == 302

        def probe(url: str, client=client) -> tuple[int, str]:
            response = client.get(url)
            return response.status_code, response.content_type or ""

        pages = walk(app, person.id, probe).pages
        assert pages, f"the {role} opened no page at all"
        for page in pages:
            db.session.remove()  # as in production, the request starts with an empty session
            with count_queries() as queries:
                response = client.get(page.url)
            assert response.status_code == 200, f"{page.url} as {role}: {response.status_code}"
            counts[(role, page.endpoint)] = queries.count
    return counts


def test_every_page_costs_no_more_queries_for_a_larger_company(app):
    small = queries_per_page(app, 10)
    large = queries_per_page(app, 1_000)
    grown = {f"{role} {endpoint}": (small[(role, endpoint)], count)
             for (role, endpoint), count in large.items()
             if (role, endpoint) in small and count > small[(role, endpoint)]}
    assert grown == {}, f"queries grew with the company (10 people, 1,000 people): {grown}"
    # The same pages open at both sizes (a page found only at one size would escape the comparison).
    assert set(small) == set(large), sorted(set(small) ^ set(large))
