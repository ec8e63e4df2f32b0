"""Sign-in throttling per account and per address, and what a wrong email costs."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import DEFAULT_PASSWORD, make_employee
from touchpoints.auth import services
from touchpoints.auth.models import LoginAttempt
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.scheduling.scheduler import build_scheduler

WRONG = "definitely not it"


def attempt(client, email: str, password: str = WRONG, address: str = "198.51.100.7"):
    return client.post("/login", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def age_attempts(minutes: int) -> None:
    """Move every recorded attempt this many minutes into the past."""
    for row in db.session.scalars(select(LoginAttempt)):
        row.attempted_at -= timedelta(minutes=minutes)
    db.session.commit()


def assert_throttled(response, minutes: int = 15) -> None:
    assert response.status_code == 429
    retry_after = int(response.headers["Retry-After"])
    assert (minutes - 1) * 60 < retry_after <= minutes * 60
    plural = "minute" if minutes == 1 else "minutes"
    assert f"Try again in {minutes} {plural}." in response.get_data(as_text=True)


def test_account_is_locked_after_five_failures_even_with_the_right_password(client):
    person = make_employee("Locked Out")
    for _ in range(5):
        assert attempt(client, person.email).status_code == 401
    assert_throttled(attempt(client, person.email, DEFAULT_PASSWORD))
    with client.session_transaction() as session:
        assert "_user_id" not in session


def test_account_limit_holds_across_addresses(client):
    person = make_employee("Many Addresses")
    for n in range(5):
        attempt(client, person.email, address=f"203.0.113.{n}")
    assert_throttled(attempt(client, person.email, DEFAULT_PASSWORD, address="192.0.2.99"))


def test_account_opens_again_when_the_window_passes(client):
    person = make_employee("Patient Person")
    for _ in range(5):
        attempt(client, person.email)
    age_attempts(14)
    assert_throttled(attempt(client, person.email, DEFAULT_PASSWORD), minutes=1)
    age_attempts(2)
    assert attempt(client, person.email, DEFAULT_PASSWORD).status_code == 302


def test_address_is_blocked_after_twenty_failures_across_accounts(client):
    mine = make_employee("Innocent Bystander")
    for n in range(20):
        assert attempt(client, f"guess{n}@example.com").status_code == 401
    # Even a correct password from that address waits, and the message says for how long.
    assert_throttled(attempt(client, mine.email, DEFAULT_PASSWORD))
    # The same person from another address is not affected.
    assert attempt(client, mine.email, DEFAULT_PASSWORD, address="192.0.2.200").status_code == 302


def test_signing_in_to_your_own_account_does_not_earn_more_guesses(client):
    attacker = make_employee("Sly Attacker")
    victims = [make_employee(f"Victim {n}") for n in range(4)]
    for n in range(19):
        attempt(client, victims[n % 4].email)
    # The attacker signs in to their own account from the same address, then out again...
    assert attempt(client, attacker.email, DEFAULT_PASSWORD).status_code == 302
    client.post("/logout")
    # ...and the address still has only one failure left, not a fresh twenty.
    assert attempt(client, "one.more@example.com").status_code == 401
    assert_throttled(attempt(client, victims[0].email))


def test_owner_signing_in_restarts_only_that_accounts_count(client):
    person = make_employee("Fumble Fingers")
    for _ in range(4):
        attempt(client, person.email, address="192.0.2.10")
    assert attempt(client, person.email, DEFAULT_PASSWORD, address="192.0.2.10").status_code == 302
    client.post("/logout")
    for _ in range(4):
        assert attempt(client, person.email, address="192.0.2.10").status_code == 401
    # Eight failures on the account in the window, but only four since its owner proved the password.
    assert attempt(client, person.email, DEFAULT_PASSWORD, address="192.0.2.10").status_code == 302


def test_unknown_email_is_throttled_like_a_real_account(client):
    person = make_employee("Real Person")
    for email in (person.email, "nobody.here@example.com"):
        for n in range(5):
            response = attempt(client, email, address=f"203.0.113.{n}")
            assert response.status_code == 401
            assert "do not match an active account" in response.get_data(as_text=True)
        assert_throttled(attempt(client, email, address="203.0.113.50"))


def test_wrong_email_costs_a_full_password_check(make_app, monkeypatch):
    """The dummy hash for a missing account uses the live hashing cost, not a cheap one."""
    app = make_app(PASSWORD_HASH_METHOD="scrypt:2048:8:1")
    checked: list[str] = []
    real_check = services.check_password_hash

    def spying_check(stored: str, password: str) -> bool:
        checked.append(stored.split("$", 1)[0])
        return real_check(stored, password)

    monkeypatch.setattr(services, "check_password_hash", spying_check)
    with app.app_context():
        person = make_employee("Costly Check", password="a password only for this test")
        client = app.test_client()
        attempt(client, person.email)
        attempt(client, "no.such.person@example.com")
        without_password = make_employee("No Password Yet", password=None)
        attempt(client, without_password.email)
        assert checked == ["scrypt:2048:8:1"] * 3


def test_every_attempt_is_recorded(client):
    person = make_employee("Recorded Person")
    attempt(client, person.email)
    attempt(client, "ghost@example.com")
    attempt(client, person.email, DEFAULT_PASSWORD)
    rows = db.session.execute(
        select(LoginAttempt.email_key, LoginAttempt.succeeded).order_by(LoginAttempt.id)).all()
    assert rows == [(person.email.lower(), False), ("ghost@example.com", False),
                    (person.email.lower(), True)]


def test_throttled_attempts_do_not_extend_the_lockout(client):
    person = make_employee("Keeps Trying")
    for _ in range(5):
        attempt(client, person.email)
    for _ in range(10):
        attempt(client, person.email)
    assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == 5


@pytest.mark.parametrize(("remote", "key"), [
    ("198.51.100.7", "198.51.100.7"),
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
    ("::ffff:198.51.100.7", "198.51.100.7"),
    (None, "unknown"),
])
def test_ipv6_addresses_are_counted_by_their_64_block(remote, key):
    assert services.address_key(remote) == key


def test_ipv6_neighbours_share_the_address_limit(client):
    for n in range(20):
        attempt(client, f"guess{n}@example.com", address=f"2001:db8:0:1::{n + 1:x}")
    assert_throttled(attempt(client, "another@example.com", address="2001:db8:0:1:abcd::9"))
    assert attempt(client, "another@example.com", address="2001:db8:0:2::1").status_code == 401


def test_wrong_current_password_counts_toward_the_throttle(client, login):
    person = make_employee("Stolen Session")
    login(person)
    for _ in range(5):
        response = client.post("/account/password", data={
            "current_password": WRONG, "new_password": "a new long passphrase",
            "confirm_password": "a new long passphrase"})
        assert "That is not your current password." in response.get_data(as_text=True)
    response = client.post("/account/password", data={
        "current_password": DEFAULT_PASSWORD, "new_password": "a new long passphrase",
        "confirm_password": "a new long passphrase"})
    assert_throttled(response)


def test_prune_login_attempts_keeps_recent_ones(app):
    now = utcnow()
    for age in (timedelta(minutes=1), timedelta(hours=2), timedelta(days=2), timedelta(days=30)):
        db.session.add(LoginAttempt(email_key="a@example.com", address="192.0.2.1",
                                    attempted_at=now - age))
    db.session.commit()
    assert services.prune_login_attempts(timedelta(days=1)) == 2
    assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == 2
    # Never inside the throttle window, whatever the caller asks for.
    assert services.prune_login_attempts(timedelta(0)) == 1
    assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == 1


def test_scheduler_prunes_login_attempts(app):
    db.session.add(LoginAttempt(email_key="old@example.com", address="192.0.2.1",
                                attempted_at=utcnow() - timedelta(days=3)))
    db.session.commit()
    job = build_scheduler(app, blocking=False).get_job("prune-login-attempts")
    assert job is not None
    assert job.func() == 1
    assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == 0


def test_forwarded_addresses_are_ignored_unless_a_proxy_is_trusted(client):
    """Otherwise an attacker would send a new X-Forwarded-For with every guess."""
    for n in range(20):
        client.post("/login", data={"email": f"guess{n}@example.com", "password": WRONG},
                    headers={"X-Forwarded-For": f"203.0.113.{n}"})
    assert_throttled(client.post("/login", data={"email": "x@example.com", "password": WRONG},
                                 headers={"X-Forwarded-For": "203.0.113.250"}))


def test_behind_a_trusted_proxy_each_client_address_counts_apart(make_app):
    app = make_app(TRUSTED_PROXY_COUNT=1)
    client = app.test_client()

    def from_client(address: str, email: str):
        return client.post("/login", data={"email": email, "password": WRONG},
                           environ_base={"REMOTE_ADDR": "10.0.0.2"},  # the proxy itself
                           headers={"X-Forwarded-For": address, "X-Forwarded-Proto": "https"})

    with app.app_context():
        for n in range(20):
            from_client("203.0.113.9", f"guess{n}@example.com")
        assert_throttled(from_client("203.0.113.9", "more@example.com"))
        assert from_client("198.51.100.20", "colleague@example.com").status_code == 401
        addresses = set(db.session.scalars(select(LoginAttempt.address)))
        assert addresses == {"203.0.113.9", "198.51.100.20"}
