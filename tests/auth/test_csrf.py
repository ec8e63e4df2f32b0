"""CSRF on: a form sent without its token is refused with a page that says what to do."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.factories import DEFAULT_PASSWORD, make_employee, make_hr
from touchpoints.extensions import db
from touchpoints.people.models import Employee

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def csrf_app(make_app) -> Flask:
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        yield app
        db.session.remove()


def token_from(client: FlaskClient, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    match = TOKEN.search(page)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def sign_in(client: FlaskClient, person: Employee) -> None:
    token = token_from(client, "/login")
    response = client.post("/login", data={"email": person.email, "password": DEFAULT_PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302


def assert_refused(response) -> None:
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "This form has expired" in page
    assert "reload the page and send the form again" in page


def is_signed_in(client: FlaskClient) -> bool:
    return client.get("/").status_code == 200


def test_login_without_token_is_refused(csrf_app):
    person = make_employee("Csrf Login")
    client = csrf_app.test_client()
    client.get("/login")
    assert_refused(client.post("/login", data={"email": person.email,
                                               "password": DEFAULT_PASSWORD}))
    assert not is_signed_in(client)


def test_login_with_a_forged_token_is_refused(csrf_app):
    person = make_employee("Csrf Forged")
    client = csrf_app.test_client()
    client.get("/login")
    assert_refused(client.post("/login", data={"email": person.email, "password": DEFAULT_PASSWORD,
                                               "csrf_token": "made-up-value"}))


def test_login_with_token_works(csrf_app):
    client = csrf_app.test_client()
    sign_in(client, make_employee("Csrf Welcome"))
    assert is_signed_in(client)


def test_logout_without_token_is_refused_and_keeps_the_session(csrf_app):
    client = csrf_app.test_client()
    sign_in(client, make_employee("Csrf Stay"))
    assert_refused(client.post("/logout"))
    assert is_signed_in(client)


def test_logout_with_token_works(csrf_app):
    client = csrf_app.test_client()
    sign_in(client, make_employee("Csrf Leave"))
    token = token_from(client, "/")  # the sign-out button in the header carries it
    response = client.post("/logout", data={"csrf_token": token})
    assert urlsplit(response.headers["Location"]).path == "/login"
    assert not is_signed_in(client)


def test_preferences_without_token_are_refused(csrf_app):
    person = make_employee("Csrf Prefs", timezone="Europe/London")
    client = csrf_app.test_client()
    sign_in(client, person)
    assert_refused(client.post("/people/me/preferences", data={
        "timezone": "Asia/Tokyo", "preferred_channel": "email"}))
    db.session.expire_all()
    assert db.session.get(Employee, person.id).timezone == "Europe/London"


def test_preferences_with_token_are_saved(csrf_app):
    person = make_employee("Csrf Saved", timezone="Europe/London")
    client = csrf_app.test_client()
    sign_in(client, person)
    token = token_from(client, "/people/me/preferences")
    response = client.post("/people/me/preferences", data={
        "timezone": "Asia/Tokyo", "preferred_channel": "email", "csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Employee, person.id).timezone == "Asia/Tokyo"


def test_token_from_before_sign_in_does_not_survive_it(csrf_app):
    client = csrf_app.test_client()
    before = token_from(client, "/login")
    sign_in(client, make_employee("Csrf Fresh"))
    assert_refused(client.post("/logout", data={"csrf_token": before}))
    assert is_signed_in(client)


def test_reset_link_without_token_is_refused(csrf_app):
    hr = make_hr("Csrf Hr")
    person = make_employee("Csrf Target")
    client = csrf_app.test_client()
    sign_in(client, hr)
    assert_refused(client.post(f"/people/{person.id}/reset-link"))
    token = token_from(client, f"/people/{person.id}")
    response = client.post(f"/people/{person.id}/reset-link", data={"csrf_token": token})
    assert response.status_code == 200
    assert "/reset/" in response.get_data(as_text=True)
