"""Passwords, sign-in with throttling, session rotation and HR-issued password reset links."""
from __future__ import annotations

import enum
import hashlib
import ipaddress
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from touchpoints.audit.services import record
from touchpoints.auth.models import LoginAttempt, PasswordResetToken, User
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.people.models import Employee

MIN_PASSWORD_LENGTH = 12
COMMON_PASSWORDS = frozenset({
    "password1234", "123456789012", "qwertyuiopas", "letmein12345", "welcome12345",
    "password123!", "changeme1234", "touchpoints1",
})
# Long enough to cover the throttle window many times over; short because addresses are personal data.
LOGIN_ATTEMPT_RETENTION = timedelta(days=1)
BAD_CREDENTIALS = "That email and password do not match an active account."


# --- passwords -------------------------------------------------------------------------------

def password_hash_method() -> str:
    """The werkzeug hashing method in force (config PASSWORD_HASH_METHOD, e.g. scrypt:16384:8:5)."""
    return current_app.config.get("PASSWORD_HASH_METHOD", "scrypt:16384:8:5")


def needs_rehash(stored: str | None) -> bool:
    """Whether a stored hash was made with other parameters than the ones in force.

    Werkzeug writes the full method into every hash ("scrypt:32768:8:1$salt$hash"), so a hash
    from before a change of parameters still verifies; it is redone at the next sign-in.
    """
    if not stored:
        return False
    # Compared with what werkzeug writes for the method in force, so a shorthand such as "scrypt"
    # (werkzeug's default parameters) matches the full "scrypt:32768:8:1" it stores.
    in_force = _dummy_hash(password_hash_method()).split("$", 1)[0]
    return stored.split("$", 1)[0] != in_force


def hash_password(password: str) -> str:
    """A salted scrypt hash (cheaper parameters only in tests)."""
    return generate_password_hash(password, method=password_hash_method())


@cache
def _dummy_hash(method: str) -> str:
    """A hash with the live parameters, checked when there is no real one to check.

    A wrong email (or an account without a password) then costs as long as a wrong password,
    so response times do not tell an attacker which addresses have accounts.
    """
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def password_matches(user: User | None, password: str) -> bool:
    """Check a password against the user's hash, spending the same effort when there is none."""
    stored = user.password_hash if user is not None and user.password_hash else None
    valid = check_password_hash(stored or _dummy_hash(password_hash_method()), password)
    return bool(stored and valid)


def password_problems(password: str, email: str = "", *, current_hash: str | None = None) -> list[str]:
    """Reasons this password is not acceptable, in plain words; empty when it is fine."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"Use at least {MIN_PASSWORD_LENGTH} characters.")
    if password.lower() in COMMON_PASSWORDS:
        problems.append("That password is too common; choose another.")
    local_part = email.split("@", 1)[0].lower()
    if local_part and len(local_part) >= 4 and local_part in password.lower():
        problems.append("Do not include your email address in the password.")
    if current_hash and check_password_hash(current_hash, password):
        problems.append("Choose a password different from your current one.")
    return problems


def set_password(user: User, password: str) -> None:
    """Store a new password and end every other session of this user."""
    user.password_hash = hash_password(password)
    user.must_change_password = False
    user.rotate_session_token()


# --- signing in ------------------------------------------------------------------------------

def user_by_email(email: str) -> User | None:
    """The login for this work email, matched case-insensitively."""
    return db.session.scalar(
        select(User).join(User.employee).where(func.lower(Employee.email) == email.strip().lower())
    )


def is_safe_next(target: str | None) -> bool:
    """Only same-site paths are followed after sign-in (no scheme, no host, no //, no tricks)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    # Browsers read a backslash as a slash and drop tabs and newlines, so "/\\evil.com" or
    # "/\t/evil.com" would leave the site; refuse any of them outright.
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def address_key(remote_addr: str | None) -> str:
    """The throttling key for a client: an IPv4 address, or the /64 network of an IPv6 one.

    One IPv6 subscriber usually holds a whole /64, so counting single addresses would let an
    attacker rotate through billions of them.
    """
    raw = (remote_addr or "").strip()
    try:
        ip = ipaddress.ip_address(raw)
    except ValueError:
        return raw[:64] or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


@dataclass(frozen=True)
class SignInResult:
    user: User | None
    error: str | None = None
    retry_after: int | None = None


def throttle_message(seconds: int) -> str:
    """What a throttled person reads: how long to wait, in whole minutes."""
    minutes = math.ceil(seconds / 60)
    return (f"Too many failed sign-in attempts. Try again in {minutes} "
            f"minute{'s' if minutes != 1 else ''}.")


def _seconds_until_under(conditions: list, limit: int, window: timedelta) -> int | None:
    """Seconds until the failures matching conditions fall under limit (None: already under)."""
    failures = select(LoginAttempt.attempted_at).where(LoginAttempt.succeeded.is_(False), *conditions)
    count = db.session.scalar(select(func.count()).select_from(failures.subquery())) or 0
    if count < limit:
        return None
    # A sliding window: trying again is allowed once enough of the oldest failures age out.
    pivot = db.session.scalar(
        failures.order_by(LoginAttempt.attempted_at).offset(count - limit).limit(1)
    )
    return max(1, math.ceil((pivot + window - utcnow()).total_seconds()))


def throttle_wait(email_key: str, address: str) -> int | None:
    """Seconds to wait before this account or address may try again, or None.

    The account count restarts after a successful sign-in to that account (only someone who
    knows its password can cause one). The address count never does: an attacker who signs in
    to an account of their own must not earn more guesses at other people's.
    """
    config = current_app.config
    window = timedelta(seconds=config["LOGIN_THROTTLE_WINDOW_SECONDS"])
    since = utcnow() - window
    last_success = db.session.scalar(
        select(func.max(LoginAttempt.attempted_at)).where(
            LoginAttempt.email_key == email_key, LoginAttempt.succeeded.is_(True),
            LoginAttempt.attempted_at >= since,
        )
    )
    account = [LoginAttempt.email_key == email_key, LoginAttempt.attempted_at >= since]
    if last_success is not None:
        account.append(LoginAttempt.attempted_at > last_success)
    waits = [
        _seconds_until_under(account, config["LOGIN_MAX_FAILURES_PER_ACCOUNT"], window),
        _seconds_until_under([LoginAttempt.address == address, LoginAttempt.attempted_at >= since],
                             config["LOGIN_MAX_FAILURES_PER_ADDRESS"], window),
    ]
    waits = [w for w in waits if w is not None]
    return max(waits) if waits else None


def _record_attempt(email_key: str, address: str, succeeded: bool) -> None:
    db.session.add(LoginAttempt(email_key=email_key[:254], address=address[:64],
                                succeeded=succeeded, attempted_at=utcnow()))


def sign_in(email: str, password: str, remote_addr: str | None) -> SignInResult:
    """Check credentials, honouring the throttle; records the attempt either way and commits."""
    email_key = email.strip().lower()
    address = address_key(remote_addr)
    # Refused even with the right password: otherwise guessing could go on during a lockout.
    wait = throttle_wait(email_key, address)
    if wait is not None:
        return SignInResult(None, throttle_message(wait), wait)
    user = user_by_email(email_key)
    ok = password_matches(user, password) and user is not None and user.is_active
    _record_attempt(email_key, address, ok)
    if ok:
        user.last_login_at = utcnow()
        if needs_rehash(user.password_hash):
            # The password is in hand only now: bring its hash to the parameters in force,
            # without ending the person's other sessions (set_password would).
            user.password_hash = hash_password(password)
    db.session.commit()
    return SignInResult(user) if ok else SignInResult(None, BAD_CREDENTIALS)


def verify_current_password(user: User, password: str, remote_addr: str | None) -> SignInResult:
    """Re-check a signed-in person's password; failures count toward the sign-in throttle.

    Without this, someone holding a stolen session could guess the password at leisure.
    """
    email_key = user.employee.email.strip().lower()
    address = address_key(remote_addr)
    wait = throttle_wait(email_key, address)
    if wait is not None:
        return SignInResult(None, throttle_message(wait), wait)
    if password_matches(user, password):
        return SignInResult(user)
    _record_attempt(email_key, address, False)
    db.session.commit()
    return SignInResult(None, "That is not your current password.")


def change_own_password(user: User, new_password: str) -> None:
    """Record a person's own password change; callers commit."""
    set_password(user, new_password)
    record("password.changed", "employee", user.employee_id, actor_id=user.id,
           summary=f"{user.employee.full_name} changed their password")


def prune_login_attempts(older_than: timedelta) -> int:
    """Delete sign-in attempts older than this (never inside the throttle window); commits."""
    window = timedelta(seconds=current_app.config["LOGIN_THROTTLE_WINDOW_SECONDS"])
    cutoff = utcnow() - max(older_than, window)
    deleted = db.session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < cutoff))
    db.session.commit()
    return deleted.rowcount or 0


def prune_old_login_attempts() -> int:
    """The scheduled clean-up: keep sign-in attempts for LOGIN_ATTEMPT_RETENTION only."""
    return prune_login_attempts(LOGIN_ATTEMPT_RETENTION)


# --- password reset links issued by HR -------------------------------------------------------

class ResetLinkProblem(enum.StrEnum):
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"
    DEACTIVATED = "deactivated"


class ResetLinkUnavailable(Exception):
    """A reset link that cannot be used, and why."""

    def __init__(self, problem: ResetLinkProblem):
        super().__init__(problem.value)
        self.problem = problem


class ResetLinkRefused(ValueError):
    """HR cannot issue a link for this person; the message says why."""


@dataclass(frozen=True)
class IssuedResetLink:
    token: str  # the raw token: shown once, never stored
    expires_at: datetime


def _reset_token_hash(raw: str) -> str:
    # The token is 256 random bits, so a fast hash is enough; stretching adds nothing here.
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_password_reset(user: User, *, issued_by: User) -> IssuedResetLink:
    """A new one-time link for user; any older unused link stops working. Callers commit."""
    name = user.employee.full_name
    if user.id == issued_by.id:
        raise ResetLinkRefused("Use “Change password” to change your own password.")
    if not user.is_active:
        raise ResetLinkRefused(f"{name} is deactivated; reactivate them before sending a link.")
    now = utcnow()
    db.session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None),
               PasswordResetToken.expires_at > now)
        .values(expires_at=now)
    )
    raw = secrets.token_urlsafe(32)
    expires_at = now + timedelta(hours=current_app.config["PASSWORD_RESET_HOURS"])
    db.session.add(PasswordResetToken(user_id=user.id, token_hash=_reset_token_hash(raw),
                                      created_by_id=issued_by.id, created_at=now,
                                      expires_at=expires_at))
    record("password_reset.issued", "employee", user.employee_id, actor_id=issued_by.id,
           summary=f"Issued a password reset link for {name}, valid until "
                   f"{expires_at:%Y-%m-%d %H:%M} UTC")
    return IssuedResetLink(raw, expires_at)


def find_reset_link(raw: str) -> PasswordResetToken:
    """The usable link for this raw token; raises ResetLinkUnavailable saying why not."""
    token = db.session.scalar(
        select(PasswordResetToken).options(joinedload(PasswordResetToken.user))
        .where(PasswordResetToken.token_hash == _reset_token_hash(raw))
    )
    if token is None:
        raise ResetLinkUnavailable(ResetLinkProblem.UNKNOWN)
    if token.used_at is not None:
        raise ResetLinkUnavailable(ResetLinkProblem.USED)
    if token.expires_at <= utcnow():
        raise ResetLinkUnavailable(ResetLinkProblem.EXPIRED)
    if not token.user.is_active:
        raise ResetLinkUnavailable(ResetLinkProblem.DEACTIVATED)
    return token


def complete_password_reset(token: PasswordResetToken, password: str) -> list[str]:
    """Set a new password through a link; returns the password's problems (then nothing changes).

    The link is claimed with a conditional update, so two tabs submitting at once cannot both
    use it. Callers commit.
    """
    user = token.user
    problems = password_problems(password, user.employee.email)
    if problems:
        return problems
    now = utcnow()
    claimed = db.session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.id == token.id, PasswordResetToken.used_at.is_(None),
               PasswordResetToken.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        raise ResetLinkUnavailable(ResetLinkProblem.USED)
    set_password(user, password)
    record("password_reset.used", "employee", user.employee_id, actor_id=user.id,
           summary=f"{user.employee.full_name} set a new password with a reset link")
    return []
