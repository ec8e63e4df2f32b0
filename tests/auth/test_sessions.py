"""Signing in and out: copied session cookies die with logout, password change and deactivation."""
from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from tests.factories import DEFAULT_PASSWORD, make_employee, make_hr, make_manager
from touchpoints.auth.models import User
from touchpoints.extensions import db
from touchpoints.people.services import deactivate_employee

NEW_PASSWORD = "a brand new passphrase"


def path_of(response) -> str:
    return urlsplit(response.headers["Location"]).path


def copy_session(app, client):
    """A second browser holding a copy of this client's session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def test_sign_in_then_home(client, login):
    person = make_employee("Signe Inn")
    response = login(person)
    assert response.status_code == 302 and path_of(response) == "/"
    assert "Signe Inn" in client.get("/").get_data(as_text=True)


def test_session_stores_the_rotating_token_not_the_user_id(client, login):
    person = make_employee("Tok En")
    login(person)
    user = db.session.scalar(select(User).where(User.employee_id == person.id))
    with client.session_transaction() as session:
        assert session["_user_id"] == user.session_token
        assert session["_user_id"] != str(user.id)


def test_copied_cookie_stops_working_after_logout(app, client, login):
    login(make_employee("Lou Gout"))
    thief = copy_session(app, client)
    assert thief.get("/").status_code == 200  # the copy works while the session lives

    response = client.post("/logout")
    assert path_of(response) == "/login"
    assert path_of(thief.get("/")) == "/login"
    assert path_of(client.get("/")) == "/login"


def test_copied_cookie_stops_working_after_password_change_elsewhere(app, client, login):
    login(make_employee("Pat Change"))
    thief = copy_session(app, client)
    response = client.post("/account/password", data={
        "current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
    })
    assert path_of(response) == "/"
    assert client.get("/").status_code == 200  # the browser that changed it stays signed in
    assert path_of(thief.get("/")) == "/login"


def test_copied_cookie_stops_working_after_deactivation(app, client, login):
    person = make_employee("Dee Activated")
    login(person)
    thief = copy_session(app, client)
    deactivate_employee(person, actor_id=None)
    db.session.commit()
    assert path_of(thief.get("/")) == "/login"
    assert path_of(client.get("/")) == "/login"


def test_deactivated_person_is_signed_out_even_if_the_token_was_not_rotated(client, login):
    person = make_employee("Direct Edit")
    login(person)
    # Deactivated by some other route that forgot to rotate the token: still no access.
    from touchpoints.db_types import utcnow

    person.deactivated_at = utcnow()
    db.session.commit()
    assert path_of(client.get("/")) == "/login"


def test_deactivated_person_cannot_sign_in_and_reads_the_bad_password_message(client, login):
    person = make_employee("Gone Person")
    deactivate_employee(person, actor_id=None)
    db.session.commit()
    refused = login(person)
    wrong = login(make_employee("Other Person"), password="not the password at all")
    assert refused.status_code == wrong.status_code == 401
    message = "That email and password do not match an active account."
    assert message in refused.get_data(as_text=True)
    assert message in wrong.get_data(as_text=True)
    assert path_of(client.get("/")) == "/login"


def test_sign_in_with_email_in_another_case(client, login):
    person = make_employee("Case Person", email="Case.Person@Example.com")
    response = login("  CASE.PERSON@example.COM ")
    assert path_of(response) == "/"
    assert "Case Person" in client.get("/").get_data(as_text=True)
    assert person.email == "Case.Person@Example.com"


def test_sign_in_records_the_time(login):
    person = make_employee("Clock Watcher")
    login(person)
    user = db.session.scalar(select(User).where(User.employee_id == person.id))
    assert user.last_login_at is not None


def test_logout_is_post_only(client, login):
    login(make_employee("Post Only"))
    response = client.get("/logout")
    assert response.status_code == 405
    assert "That action is not allowed here" in response.get_data(as_text=True)
    assert client.get("/").status_code == 200  # a GET (a link, an image tag) signs no one out


def test_sign_in_form_errors_name_the_field(client):
    response = client.post("/login", data={"email": "", "password": ""})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'href="#email"' in page and 'href="#password"' in page


def test_failed_sign_in_keeps_the_email_typed(client, login):
    make_employee("Keep Typing", email="keep.typing@example.com")
    page = login("keep.typing@example.com", password="wrong wrong wrong").get_data(as_text=True)
    assert 'value="keep.typing@example.com"' in page
    assert "wrong wrong wrong" not in page


def test_anonymous_visit_is_sent_to_sign_in_with_the_page_to_return_to(client, login):
    manager = make_manager("Next Manager")
    response = client.get("/people/?q=ann")
    assert path_of(response) == "/login"
    query = urlsplit(response.headers["Location"]).query
    assert parse_qs(query) == {"next": ["/people/?q=ann"]}
    page = client.get(f"/login?{query}").get_data(as_text=True)
    assert "Please sign in to continue." in page
    response = client.post("/login", data={"email": manager.email, "password": DEFAULT_PASSWORD,
                                           "next": "/people/?q=ann"})
    assert response.headers["Location"] == "/people/?q=ann"


@pytest.mark.parametrize("target", [
    "//evil.com", "//evil.com/people/", "https://evil.com", "http:evil.com", "/\\evil.com",
    "\\\\evil.com", "javascript:alert(1)", "/\t/evil.com", "/\n/evil.com", " //evil.com",
    "evil.com", "people/",
])
def test_next_only_goes_to_local_paths(client, target):
    hr = make_hr("Next Checker")
    response = client.post("/login", data={"email": hr.email, "password": DEFAULT_PASSWORD,
                                           "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_signed_in_visit_to_login_goes_home(client, login):
    login(make_employee("Already In"))
    assert path_of(client.get("/login")) == "/"


def test_a_sign_in_ends_when_the_session_lifetime_is_over(make_app):
    app = make_app(PERMANENT_SESSION_LIFETIME=timedelta(seconds=1))
    browser = app.test_client()
    with app.app_context():
        email = make_employee("Long Day").email
    browser.post("/login", data={"email": email, "password": DEFAULT_PASSWORD})
    assert browser.get("/").status_code == 200
    time.sleep(2.1)  # the signed cookie's own timestamp is what ages; there is no clock to move
    assert path_of(browser.get("/")) == "/login"


def test_sessions_last_a_working_day_by_default(app):
    assert app.permanent_session_lifetime == timedelta(hours=12)
