"""The home page cache: a minute of reuse, one's own changes at once, never someone else's page."""
from __future__ import annotations

import re

import pytest

from tests.factories import DEFAULT_PASSWORD
from tests.querycount import count_queries
from tests.web.conftest import place
from tests.web.test_home import form_for, text_of
from touchpoints.extensions import db
from touchpoints.home.cache import HOME_PAGES, FragmentCache


@pytest.fixture
def cached_app(make_app):
    """The app with the home page cache on, as in production."""
    app = make_app(HOME_CACHE_SECONDS=60)
    HOME_PAGES.clear()
    with app.app_context():
        yield app
        db.session.remove()
    HOME_PAGES.clear()


def sign_in(app, person):
    client = app.test_client()
    response = client.post("/login", data={"email": person.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    return client


def main_of(response) -> str:
    return re.search(r"<main\b.*?</main>", response.get_data(as_text=True), re.S).group(0)


def queries_of(app):
    """Count the statements of this app's engine (another app's context may be the current one)."""
    with app.app_context():
        return count_queries(db.engine)


def test_a_drawn_home_page_is_served_again_for_a_minute_with_far_fewer_queries(cached_app, company):
    client = sign_in(cached_app, company.hr)
    with queries_of(cached_app) as first:
        first_page = client.get("/?view=hr")
    with queries_of(cached_app) as second:
        second_page = client.get("/?view=hr")
    # The page's content is the one drawn first, its forms' tokens included (the header's are new).
    assert main_of(second_page) == main_of(first_page)
    assert second.count <= 3 < first.count, second.report()
    # Someone else's change waits for the minute to pass.
    place(company.employee, company.manager, days=-5, title="Late one-on-one")
    assert "Late one-on-one" not in text_of(client.get("/?view=hr"))


def test_ones_own_change_shows_at_once(cached_app, company):
    tp = place(company.employee, company.manager, days=-1, title="Weekly one-on-one")
    client = sign_in(cached_app, company.manager)
    html = client.get("/").get_data(as_text=True)
    assert "Weekly one-on-one" in text_of(client.get("/"))
    logged = client.post(f"/touchpoints/{tp.id}/log", data=form_for(html, f"/touchpoints/{tp.id}/log"))
    assert logged.status_code == 302
    page = text_of(client.get("/"))
    assert "Logged: Weekly one-on-one" in page
    assert "Eli Employee: Weekly one-on-one" not in page  # no longer in the lists


def test_each_person_and_view_gets_their_own_page(cached_app, company):
    hr, manager = sign_in(cached_app, company.hr), sign_in(cached_app, company.manager)
    assert "Human-touch compliance" in text_of(hr.get("/?view=hr"))
    assert "Human-touch compliance" not in text_of(manager.get("/"))
    assert "Your team's human-touch index" in text_of(hr.get("/?view=manager"))
    assert "Good to see you, Mia" in text_of(manager.get("/"))


def test_a_new_session_draws_a_fresh_page_with_its_own_form_tokens(cached_app, company):
    first, second = sign_in(cached_app, company.hr), sign_in(cached_app, company.hr)
    first.get("/")
    with queries_of(cached_app) as queries:
        second.get("/")
    assert queries.count > 3  # not the first session's page, whose forms carry that session's tokens


def test_entries_expire_and_the_least_recently_used_go_first():
    cache = FragmentCache(size=2)
    cache.put("a", "A", now=100.0)
    assert cache.get("a", max_age=60, now=159.0) == "A"
    assert cache.get("a", max_age=60, now=160.0) is None  # a minute old
    cache.put("a", "A", now=200.0)
    cache.put("b", "B", now=200.0)
    assert cache.get("a", max_age=60, now=201.0) == "A"  # a is now the most recently used
    cache.put("c", "C", now=202.0)
    assert cache.get("b", max_age=60, now=203.0) is None and cache.get("a", max_age=60, now=203.0) == "A"
    assert cache.get("a", max_age=60, fresh_after=205.0, now=206.0) is None  # drawn before a write


def test_tests_and_development_can_switch_it_off(app):
    from touchpoints.home.cache import cache_seconds

    assert app.testing and cache_seconds() == 0
