"""Every home page view costs the same number of queries for a company of 10 and of 1,000 people.

The companies are the benchmark's synthetic ones (benchmarks/company.py) with the benchmark's
activity (journeys with history, nudges, an open survey round, compliance snapshots), so the pages
have something to show at both sizes.
"""
from __future__ import annotations

from benchmarks.bench_home import add_activity
from benchmarks.company import BENCH_PASSWORD, write_company
from tests.conftest import _empty_tables
from tests.querycount import count_queries
from tests.web.test_page_queries import company_of
from touchpoints.extensions import db

SIZES = (10, 1_000)
VIEWS = {"hr_partner": ("hr", "manager", "me"), "manager": ("manager", "me"), "employee": ("me",)}


def queries_per_view(app, size: int) -> dict[tuple[str, str], int]:
    """Build a company of `size` with activity, then count each role's home queries per view."""
    _empty_tables()
    plan = company_of(size)
    write_company(plan)
    db.session.commit()
    add_activity()
    db.session.commit()
    counts = {}
    for role, views in VIEWS.items():
        client = app.test_client()
        person = getattr(plan, role)
        signed_in = client.post("/login", data={"email": person.email, "password": BENCH_PASSWORD})
        assert signed_in.status_code == 302
        for view in views:
            client.get(f"/?view={view}")  # warm: the first request loads the login and caches
            db.session.remove()  # as in production, the request starts with an empty session
            with count_queries() as queries:
                response = client.get(f"/?view={view}")
            assert response.status_code == 200, (role, view)
            counts[(role, view)] = queries.count
    return counts


def test_home_pages_cost_the_same_queries_at_10_and_1000_people(app):
    small = queries_per_view(app, SIZES[0])
    large = queries_per_view(app, SIZES[1])
    grown = {key: (small[key], large[key]) for key in small if large[key] != small[key]}
    assert grown == {}, f"queries per home page grew with the company (10 people, 1,000 people): {grown}"
    assert max(large.values()) <= 30, large
