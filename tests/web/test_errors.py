"""Error pages help: they say what happened, what to do, and link somewhere the person can go."""
from __future__ import annotations

import pytest
from werkzeug.exceptions import TooManyRequests

from tests.factories import DEFAULT_PASSWORD, make_employee, make_manager
from tests.web.test_home import text_of
from touchpoints import create_app
from touchpoints.auth.access import public, signed_in
from touchpoints.config import TestConfig
from touchpoints.extensions import db


@pytest.fixture
def failing_app(make_app):
    """An app of its own with two routes that fail on purpose (added before its first request)."""
    app = make_app(TESTING_FAILING_ROUTES=True)  # its own configuration: its own (cached) app

    @public
    def too_many():
        raise TooManyRequests(retry_after=150)

    @signed_in
    def broken():
        raise RuntimeError("a bug")

    if "too_many" not in app.view_functions:
        app.add_url_rule("/test-only/too-many", "too_many", too_many)
        app.add_url_rule("/test-only/broken", "broken", broken)
    with app.app_context():
        yield app
        db.session.remove()


def test_a_missing_page_says_so_and_leads_home(company_less_client):
    client, _ = company_less_client
    response = client.get("/people/123456/nowhere")
    assert response.status_code == 404
    page = text_of(response)
    assert "We could not find that page" in page and "You asked for /people/123456/nowhere" in page
    assert "Your home page" in page and "Your journey" in page


def test_a_missing_page_for_someone_signed_out_offers_to_sign_in(client):
    page = text_of(client.get("/no-such-page"))
    assert "Sign in" in page and "Your home page" not in page


def test_a_refused_page_says_which_role_opens_it(company_less_client):
    client, _ = company_less_client
    managers = "This page is for managers (for their own teams) and HR partners."
    for path, audience in (("/people/", managers), ("/policies", "This page is for HR partners.")):
        response = client.get(path)
        assert response.status_code == 403
        page = text_of(response)
        assert "You do not have access to this page" in page and audience in page


def test_too_many_attempts_says_how_long_to_wait(failing_app):
    response = failing_app.test_client().get("/test-only/too-many")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "180"
    assert "Too many attempts" in text_of(response) and "Try again in 3 minutes." in text_of(response)


def test_a_bug_gets_a_page_that_says_it_is_not_your_fault(failing_app):
    person = make_employee("Bo Broken")
    client = failing_app.test_client()
    client.post("/login", data={"email": person.email, "password": DEFAULT_PASSWORD})
    response = client.get("/test-only/broken")
    assert response.status_code == 500
    page = text_of(response)
    assert "Something went wrong on our side" in page and "Nothing you did caused this" in page
    assert "Your home page" in page


def test_with_the_database_gone_a_signed_in_person_still_gets_an_error_page(app, client, login):
    person = make_manager("Dee Down")
    login(person)
    cookie = client.get_cookie("session")
    down = create_app(TestConfig, SECRET_KEY=app.config["SECRET_KEY"],
                      SQLALCHEMY_DATABASE_URI="sqlite:////nonexistent-directory/for/touchpoints.sqlite")
    other = down.test_client()
    other.set_cookie("session", cookie.value)
    response = other.get("/")
    assert response.status_code == 500
    page = text_of(response)
    assert "Something went wrong on our side" in page and "Try your home page" in page
    with down.app_context():
        db.engine.dispose()


@pytest.fixture
def company_less_client(client, login):
    """A client signed in as an employee with no other role."""
    person = make_employee("Ed Employee")
    login(person)
    return client, login
