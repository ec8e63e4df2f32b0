"""Password rules, changing one's password, the first-login change, and hashing."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from tests.factories import DEFAULT_PASSWORD, make_employee, make_hr
from touchpoints.audit.models import AuditEntry
from touchpoints.auth import services
from touchpoints.auth.models import User
from touchpoints.config import Config
from touchpoints.extensions import db

NEW_PASSWORD = "plum orchard lantern wave"


def path_of(response) -> str:
    return urlsplit(response.headers["Location"]).path


def user_of(employee) -> User:
    return db.session.scalar(select(User).where(User.employee_id == employee.id))


def change(client, current: str, new: str = NEW_PASSWORD, confirm: str | None = None):
    return client.post("/account/password", data={
        "current_password": current, "new_password": new,
        "confirm_password": new if confirm is None else confirm,
    })


@pytest.mark.parametrize(("password", "reason"), [
    ("short one", "Use at least 12 characters."),
    ("password1234", "That password is too common; choose another."),
    ("my name is marta.kowalska", "Do not include your email address in the password."),
])
def test_password_rules_explain_themselves(password, reason):
    assert reason in services.password_problems(password, "marta.kowalska@example.com")


def test_a_good_password_has_no_problems():
    assert services.password_problems(NEW_PASSWORD, "marta.kowalska@example.com") == []


def test_change_password_then_sign_in_with_the_new_one(client, login):
    person = make_employee("Change Me")
    login(person)
    response = change(client, DEFAULT_PASSWORD)
    assert path_of(response) == "/"
    assert "Every other device you were signed in on is signed out." in \
        client.get("/").get_data(as_text=True)
    client.post("/logout")
    assert login(person).status_code == 401
    assert path_of(login(person, NEW_PASSWORD)) == "/"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "password.changed"))
    assert entry.subject_id == person.id and entry.actor_id == user_of(person).id


@pytest.mark.parametrize(("current", "new", "confirm", "field", "message"), [
    ("wrong current pass", NEW_PASSWORD, None, "current_password", "That is not your current password."),
    (DEFAULT_PASSWORD, "too short", None, "new_password", "Use at least 12 characters."),
    (DEFAULT_PASSWORD, NEW_PASSWORD, "something else entirely", "confirm_password",
     "The two passwords differ."),
    (DEFAULT_PASSWORD, DEFAULT_PASSWORD, None, "new_password",
     "Choose a password different from your current one."),
])
def test_change_password_says_which_field_is_wrong(client, login, current, new, confirm, field,
                                                   message):
    person = make_employee("Careful Typist")
    login(person)
    before = user_of(person).password_hash
    response = change(client, current, new, confirm)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page and message in page
    db.session.expire_all()
    assert user_of(person).password_hash == before


def test_first_login_forces_a_password_change_on_every_page(client, login):
    person = make_hr("New Starter", must_change_password=True)
    assert path_of(login(person)) == "/account/password"
    for url in ("/", "/people/", f"/people/{person.id}", "/people/me/preferences"):
        assert path_of(client.get(url)) == "/account/password", url
    page = client.get("/account/password").get_data(as_text=True)
    assert "Choose your own password" in page
    assert 'aria-label="Main"' not in page  # no menu leading to pages that would bounce back

    assert change(client, DEFAULT_PASSWORD).status_code == 302
    assert user_of(person).must_change_password is False
    assert client.get("/").status_code == 200
    assert client.get("/people/").status_code == 200


def test_first_login_person_can_still_sign_out(client, login):
    person = make_employee("Leaving Early", must_change_password=True)
    login(person)
    assert path_of(client.post("/logout")) == "/login"
    assert path_of(client.get("/account/password")) == "/login"


def test_first_login_password_must_differ_from_the_one_given(client, login):
    person = make_employee("Lazy Starter", must_change_password=True)
    login(person)
    response = change(client, DEFAULT_PASSWORD, DEFAULT_PASSWORD)
    assert "Choose a password different from your current one." in response.get_data(as_text=True)
    assert path_of(client.get("/")) == "/account/password"


def test_test_config_uses_cheap_scrypt(app):
    assert services.hash_password("anything at all").startswith("scrypt:1024:8:1$")


def test_production_hashing_is_an_owasp_scrypt_setting_within_sixteen_mebibytes():
    name, n, r, p = Config.PASSWORD_HASH_METHOD.split(":")
    assert name == "scrypt"
    # OWASP Password Storage Cheat Sheet: the equivalent minimum scrypt settings (N, r, p).
    owasp = {(2**17, 8, 1), (2**16, 8, 2), (2**15, 8, 3), (2**14, 8, 5), (2**13, 8, 10)}
    assert (int(n), int(r), int(p)) in owasp
    assert 128 * int(n) * int(r) <= 16 * 1024 * 1024  # memory per hash: a web worker stays small


def test_an_old_hash_still_signs_in_and_is_redone_with_the_parameters_in_force(client, login):
    person = make_employee("Old Hash")
    user = user_of(person)
    user.password_hash = generate_password_hash(DEFAULT_PASSWORD, method="scrypt:2048:8:1")
    token = user.session_token
    db.session.commit()

    assert login(person, "not the password at all").status_code == 401
    db.session.refresh(user)
    assert user.password_hash.startswith("scrypt:2048:8:1$")  # a failed attempt changes nothing

    assert path_of(login(person)) == "/"
    db.session.refresh(user)
    assert user.password_hash.startswith("scrypt:1024:8:1$")
    assert user.session_token == token  # other devices stay signed in
    client.post("/logout")
    assert path_of(login(person)) == "/"  # the new hash verifies


def test_a_shorthand_method_is_compared_with_what_it_stores(app):
    app.config["PASSWORD_HASH_METHOD"] = "scrypt"  # werkzeug's own parameters, N=2^15, r=8, p=1
    assert not services.needs_rehash(generate_password_hash("x" * 12, method="scrypt:32768:8:1"))
    assert services.needs_rehash(generate_password_hash("x" * 12, method="scrypt:1024:8:1"))
    assert not services.needs_rehash(None)
