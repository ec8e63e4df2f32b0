"""Passwords, sign-in with throttling, and session rotation."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app, jsonify, redirect, request, url_for
from flask_login import LoginManager
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from touchpoints.auth.models import LoginAttempt, User
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.people.models import Employee

MIN_PASSWORD_LENGTH = 12
COMMON_PASSWORDS = frozenset({
    "password1234", "123456789012", "qwertyuiopas", "letmein12345", "welcome12345",
    "password123!", "changeme1234", "touchpoints1",
})
# Compared against when no account matches, so a wrong email costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt:1024:8:1")


def configure_login_manager(manager: LoginManager) -> None:
    """Load users by their rotating session token; answer APIs with JSON instead of redirects."""
    manager.login_view = "auth.login"
    manager.login_message = "Please sign in to continue."
    manager.login_message_category = "info"

    @manager.user_loader
    def load_user(token: str) -> User | None:
        return db.session.scalar(select(User).where(User.session_token == token))

    @manager.unauthorized_handler
    def unauthorized():
        if request.path.startswith("/api/"):
            return jsonify(error={"status": 401, "title": "Unauthorized",
                                  "detail": "Send an API token as 'Authorization: Bearer …'."}), 401
        target = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("auth.login", next=target) if target and target != "/"
                        else url_for("auth.login"))


def hash_password(password: str) -> str:
    """A salted scrypt hash (cheaper parameters only in tests)."""
    return generate_password_hash(
        password, method=current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    )


def password_problems(password: str, email: str = "") -> list[str]:
    """Reasons this password is not acceptable, in plain words; empty when it is fine."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"Use at least {MIN_PASSWORD_LENGTH} characters.")
    if password.lower() in COMMON_PASSWORDS:
        problems.append("That password is too common; choose another.")
    local_part = email.split("@", 1)[0].lower()
    if local_part and len(local_part) >= 4 and local_part in password.lower():
        problems.append("Do not include your email address in the password.")
    return problems


def user_by_email(email: str) -> User | None:
    """The login for this work email, matched case-insensitively."""
    return db.session.scalar(
        select(User).join(User.employee).where(func.lower(Employee.email) == email.strip().lower())
    )


def is_safe_next(target: str | None) -> bool:
    """Only same-site paths are followed after sign-in (no scheme, no host, no //)."""
    if not target:
        return False
    parts = urlsplit(target)
    return (not parts.scheme and not parts.netloc and target.startswith("/")
            and not target.startswith("//") and "\\" not in target)


@dataclass(frozen=True)
class SignInResult:
    user: User | None
    error: str | None = None
    retry_after: int | None = None


def _failures_since(column, value: str, since) -> int:
    return db.session.scalar(
        select(func.count()).select_from(LoginAttempt).where(
            column == value, LoginAttempt.succeeded.is_(False), LoginAttempt.attempted_at >= since
        )
    ) or 0


def throttle_wait(email_key: str, address: str) -> int | None:
    """Seconds to wait before this account or address may try again, or None."""
    config = current_app.config
    window = timedelta(seconds=config["LOGIN_THROTTLE_WINDOW_SECONDS"])
    since = utcnow() - window
    limits = (
        (LoginAttempt.email_key, email_key, config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]),
        (LoginAttempt.address, address, config["LOGIN_MAX_FAILURES_PER_ADDRESS"]),
    )
    for column, value, limit in limits:
        if _failures_since(column, value, since) >= limit:
            oldest = db.session.scalar(
                select(func.min(LoginAttempt.attempted_at)).where(
                    column == value, LoginAttempt.succeeded.is_(False),
                    LoginAttempt.attempted_at >= since,
                )
            )
            return max(1, math.ceil((oldest + window - utcnow()).total_seconds()))
    return None


def sign_in(email: str, password: str, address: str) -> SignInResult:
    """Check credentials, honouring the throttle; records the attempt either way."""
    email_key = email.strip().lower()
    wait = throttle_wait(email_key, address)
    if wait is not None:
        minutes = math.ceil(wait / 60)
        return SignInResult(None, f"Too many failed sign-in attempts. Try again in {minutes} "
                                  f"minute{'s' if minutes != 1 else ''}.", wait)
    user = user_by_email(email_key)
    valid = check_password_hash(
        user.password_hash if user and user.password_hash else _DUMMY_HASH, password
    )
    ok = bool(user and user.password_hash and valid and user.is_active)
    db.session.add(LoginAttempt(email_key=email_key[:254], address=address[:64], succeeded=ok))
    if ok:
        user.last_login_at = utcnow()
    db.session.commit()
    if not ok:
        return SignInResult(None, "That email and password do not match an active account.")
    return SignInResult(user)


def set_password(user: User, password: str) -> None:
    """Store a new password and end every other session of this user."""
    user.password_hash = hash_password(password)
    user.must_change_password = False
    user.rotate_session_token()
