"""Password reset links: issued by an HR partner, shown once, used once, stored as a hash."""
from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from tests.factories import DEFAULT_PASSWORD, make_employee, make_hr, make_manager
from touchpoints.audit.models import AuditEntry
from touchpoints.auth.models import PasswordResetToken, User
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.people.services import deactivate_employee

NEW_PASSWORD = "river stone copper kite"
LINK = re.compile(r"http://localhost(/reset/[A-Za-z0-9_\-]+)")


def path_of(response) -> str:
    return urlsplit(response.headers["Location"]).path


def user_of(employee) -> User:
    return db.session.scalar(select(User).where(User.employee_id == employee.id))


def issue(client, employee) -> str:
    """Issue a link as the signed-in HR partner; returns its path."""
    response = client.post(f"/people/{employee.id}/reset-link")
    assert response.status_code == 200
    match = LINK.search(response.get_data(as_text=True))
    assert match, "the page shows the link"
    return match.group(1)


def choose(client, path: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    return client.post(path, data={"new_password": password,
                                   "confirm_password": password if confirm is None else confirm})


@pytest.fixture
def hr_client(app, login):
    """A separate browser signed in as an HR partner; the default client stays anonymous."""
    hr = make_hr("Helga Reset", timezone="America/New_York")
    browser = app.test_client()
    browser.post("/login", data={"email": hr.email, "password": DEFAULT_PASSWORD})
    browser.hr = hr
    return browser


def test_hr_sees_the_button_on_someone_elses_record_only(app, hr_client, login, client):
    person = make_employee("Button Target")
    assert "Send password reset link" in hr_client.get(f"/people/{person.id}").get_data(as_text=True)
    own = hr_client.get(f"/people/{hr_client.hr.id}").get_data(as_text=True)
    assert "Send password reset link" not in own

    manager = make_manager("Not Hr")
    report = make_employee("Their Report", manager=manager)
    login(manager)
    assert "Send password reset link" not in client.get(f"/people/{report.id}").get_data(as_text=True)


def test_issued_link_is_shown_once_with_its_expiry_and_only_its_hash_is_stored(hr_client):
    person = make_employee("Forgetful Fran")
    response = hr_client.post(f"/people/{person.id}/reset-link")
    page = response.get_data(as_text=True)
    path = LINK.search(page).group(1)
    raw = path.rsplit("/", 1)[1]
    assert "shown only once" in page
    assert "(America/New_York), 48 hours from now" in page
    assert response.headers["Cache-Control"] == "no-store"

    stored = db.session.scalars(select(PasswordResetToken)).one()
    assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in (stored.token_hash, str(stored.id))
    assert timedelta(hours=47, minutes=59) < stored.expires_at - utcnow() <= timedelta(hours=48)
    assert stored.created_by_id == user_of(hr_client.hr).id

    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "password_reset.issued"))
    assert entry.subject_id == person.id and entry.actor_id == user_of(hr_client.hr).id
    assert raw not in entry.summary
    # The record page, reloaded, does not show the link again.
    assert raw not in hr_client.get(f"/people/{person.id}").get_data(as_text=True)


def test_person_sets_a_new_password_through_the_link(hr_client, client, login):
    person = make_employee("Reset Rita", must_change_password=True)
    path = issue(hr_client, person)

    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert person.email in page.get_data(as_text=True)

    response = choose(client, path)
    assert path_of(response) == "/login"
    assert "Your new password is set." in client.get("/login").get_data(as_text=True)
    assert login(person).status_code == 401
    assert path_of(login(person, NEW_PASSWORD)) == "/"  # no forced change: they chose it

    db.session.expire_all()
    token = db.session.scalars(select(PasswordResetToken)).one()
    assert token.used_at is not None
    assert user_of(person).must_change_password is False
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "password_reset.used"))
    assert entry.subject_id == person.id and entry.actor_id == user_of(person).id


def test_using_the_link_ends_every_existing_session(app, hr_client, client, login):
    person = make_employee("Session Sam")
    login(person)
    old_browser = app.test_client()
    old_browser.set_cookie("session", client.get_cookie("session").value)
    path = issue(hr_client, person)
    anonymous = app.test_client()
    assert path_of(choose(anonymous, path)) == "/login"
    assert path_of(old_browser.get("/")) == "/login"


@pytest.mark.parametrize(("password", "confirm", "message"), [
    ("short", None, "Use at least 12 characters."),
    ("password1234", None, "That password is too common"),
    (NEW_PASSWORD, "a different one entirely", "The two passwords differ."),
])
def test_password_rules_apply_and_the_link_survives_a_mistake(hr_client, client, password, confirm,
                                                              message):
    person = make_employee("Rule Follower")
    path = issue(hr_client, person)
    response = choose(client, path, password, confirm)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalars(select(PasswordResetToken)).one().used_at is None
    assert path_of(choose(client, path)) == "/login"


def test_used_link_shows_a_clear_page(hr_client, client):
    person = make_employee("Once Only")
    path = issue(hr_client, person)
    choose(client, path)
    for response in (client.get(path), choose(client, path, "yet another fine password")):
        assert response.status_code == 410
        assert "This link has already been used" in response.get_data(as_text=True)


def test_expired_link_shows_a_clear_page(hr_client, client):
    person = make_employee("Too Late")
    path = issue(hr_client, person)
    token = db.session.scalars(select(PasswordResetToken)).one()
    token.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    response = client.get(path)
    assert response.status_code == 410
    assert "This link has expired" in response.get_data(as_text=True)
    assert choose(client, path).status_code == 410


def test_unknown_link_shows_a_clear_page(client):
    response = client.get("/reset/not-a-real-token")
    assert response.status_code == 404
    assert "This link is not valid" in response.get_data(as_text=True)


def test_a_new_link_replaces_the_older_one(hr_client, client):
    person = make_employee("Twice Asked")
    first = issue(hr_client, person)
    second = issue(hr_client, person)
    assert client.get(first).status_code == 410
    assert path_of(choose(client, second)) == "/login"


def test_deactivated_person_cannot_get_or_use_a_link(hr_client, client):
    person = make_employee("Left Already")
    path = issue(hr_client, person)
    deactivate_employee(person, actor_id=None)
    db.session.commit()
    response = client.get(path)
    assert response.status_code == 403
    assert "This account is not active" in response.get_data(as_text=True)

    response = hr_client.post(f"/people/{person.id}/reset-link", follow_redirects=True)
    assert "is deactivated; reactivate them before sending a link" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(PasswordResetToken)) == 1


def test_hr_cannot_issue_a_link_for_themselves(hr_client):
    response = hr_client.post(f"/people/{hr_client.hr.id}/reset-link", follow_redirects=True)
    assert "to change your own password" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(PasswordResetToken)) == 0


def test_only_hr_can_issue_links(client, login):
    manager = make_manager("Manager Mo")
    report = make_employee("Report Ron", manager=manager)
    login(manager)
    assert client.post(f"/people/{report.id}/reset-link").status_code == 403
    assert db.session.scalar(select(func.count()).select_from(PasswordResetToken)) == 0


def test_link_for_a_missing_person_is_404(hr_client):
    assert hr_client.post("/people/999999/reset-link").status_code == 404


def test_signed_in_as_someone_else_the_link_is_left_alone(hr_client):
    person = make_employee("Someone Else")
    path = issue(hr_client, person)
    page = hr_client.get(path).get_data(as_text=True)
    assert "this browser is signed in as Helga Reset" in page
    assert 'name="new_password"' not in page
    choose(hr_client, path)
    assert db.session.scalars(select(PasswordResetToken)).one().used_at is None
    assert hr_client.get("/").status_code == 200
