"""Flask-Login wiring: sessions carry a rotating token, never the user id."""
from __future__ import annotations

from flask import flash, jsonify, redirect, request, url_for
from flask_login import LoginManager
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from touchpoints.auth.models import User
from touchpoints.extensions import db

_USER_BY_TOKEN = (
    select(User).options(joinedload(User.role_rows)).where(User.session_token == bindparam("token"))
)


def configure_login_manager(manager: LoginManager) -> None:
    """Load users by their rotating session token; answer APIs with JSON instead of redirects."""
    manager.login_view = "auth.login"
    manager.login_message = "Please sign in to continue."
    manager.login_message_category = "info"

    @manager.user_loader
    def load_user(token: str) -> User | None:
        # One query for the user, their employee record and roles: this runs on every request,
        # so the select is built once (building it and its cache key cost a third of the lookup).
        user = db.session.execute(_USER_BY_TOKEN, {"token": token}).unique().scalar_one_or_none()
        # Deactivation rotates the token too; this also covers a deactivation made elsewhere.
        return user if user is not None and user.is_active else None

    @manager.unauthorized_handler
    def unauthorized():
        if request.path.startswith("/api/"):
            return jsonify(error={"status": 401, "title": "Unauthorized",
                                  "detail": "Send an API token as 'Authorization: Bearer …'."}), 401
        target = request.full_path.rstrip("?") if request.method == "GET" else None
        if not target or target == "/":
            return redirect(url_for("auth.login"))
        flash(manager.login_message, manager.login_message_category)
        return redirect(url_for("auth.login", next=target))
