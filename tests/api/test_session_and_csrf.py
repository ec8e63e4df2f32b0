"""The API trusts tokens only: a signed-in browser session is not an API credential."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.factories import DEFAULT_PASSWORD, make_hr
from touchpoints.api.models import ApiToken
from touchpoints.api.services import issue_token, user_for_email
from touchpoints.extensions import db
from touchpoints.people.models import Employee

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
NEW = {"email": "csrf.check@example.com", "full_name": "Csrf Check", "timezone": "Europe/Paris"}


@pytest.fixture
def csrf_app(make_app):
    """The app with CSRF protection on, as in production."""
    application = make_app(WTF_CSRF_ENABLED=True)
    with application.app_context():
        yield application
        db.session.remove()


def test_session_cookie_does_not_authenticate_api_calls(client, login):
    hr = make_hr()
    assert login(hr).status_code == 302  # signed in: the pages know this person
    assert client.get("/people/").status_code == 200
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert client.get(f"/api/v1/employees/{hr.id}").status_code == 401
    assert client.post("/api/v1/employees", json=NEW).status_code == 401
    assert db.session.scalar(select(func.count()).select_from(Employee)) == 1


def test_api_needs_no_csrf_token_but_pages_still_do(csrf_app):
    hr = make_hr()
    issued = issue_token(user_for_email(hr.email), "CSRF check", created_by=None)
    db.session.commit()
    client = csrf_app.test_client()
    created = client.post("/api/v1/employees", json=NEW,
                          headers={"Authorization": f"Bearer {issued.raw}"})
    assert created.status_code == 201, created.json
    # Without a token a cross-site POST gets 401 from the API, never the CSRF page.
    assert client.post("/api/v1/employees", json=NEW).status_code == 401
    # The token settings page is a form like any other: without its CSRF token nothing is issued.
    login_page = client.get("/login").get_data(as_text=True)
    csrf = CSRF_RE.search(login_page).group(1)
    signed_in = client.post("/login", data={"email": hr.email, "password": DEFAULT_PASSWORD,
                                            "csrf_token": csrf})
    assert signed_in.status_code == 302
    assert client.get("/settings/api-tokens/").status_code == 200
    refused = client.post("/settings/api-tokens/", data={"name": "Forged", "acts_as": hr.email})
    assert refused.status_code == 400
    assert db.session.scalar(select(ApiToken).where(ApiToken.name == "Forged")) is None
