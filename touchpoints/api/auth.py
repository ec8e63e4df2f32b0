"""Bearer-token authentication for the API; the token acts with its user's permissions."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import g, jsonify, request
from sqlalchemy import select

from touchpoints.api.models import ApiToken, hash_token
from touchpoints.auth.access import Rule
from touchpoints.auth.models import User
from touchpoints.db_types import utcnow
from touchpoints.extensions import db

View = TypeVar("View", bound=Callable)


def api_error(status: int, title: str, detail: str, fields: dict[str, str] | None = None):
    """The one error shape of the API: {"error": {status, title, detail, fields?}}."""
    body: dict = {"status": status, "title": title, "detail": detail}
    if fields:
        body["fields"] = fields
    return jsonify(error=body), status


def _token_user() -> User | None:
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        return None
    token = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == hash_token(raw.strip()),
                               ApiToken.revoked_at.is_(None))
    )
    if token is None or not token.user.is_active:
        return None
    now = utcnow()
    # Written at most once a minute so a busy integration does not turn reads into writes.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        token.last_used_at = now
        db.session.commit()
    return token.user


def api_token_required(view: View) -> View:
    """Require a valid, unrevoked bearer token; the user is in g.api_user."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        user = _token_user()
        if user is None:
            return api_error(401, "Unauthorized",
                             "Send a valid API token as 'Authorization: Bearer <token>'.")
        g.api_user = user
        return view(*args, **kwargs)

    wrapper.access_rule = Rule.API_TOKEN  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]
