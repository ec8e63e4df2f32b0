"""Bearer-token authentication for the API; the token acts with its user's permissions.

The session cookie never counts here: an API call is authenticated by its token or not at all,
which is also why the API blueprint can be exempt from CSRF.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import g, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from touchpoints.api.models import ApiToken, hash_token
from touchpoints.auth.access import Rule
from touchpoints.auth.models import User
from touchpoints.db_types import utcnow
from touchpoints.extensions import db

View = TypeVar("View", bound=Callable)

# Written at most this often so a busy integration does not turn every read into a write.
LAST_USED_RESOLUTION_SECONDS = 60


def api_error(status: int, title: str, detail: str, fields: dict[str, str] | None = None):
    """The one error shape of the API: {"error": {status, title, detail, fields?}}."""
    body: dict = {"status": status, "title": title, "detail": detail}
    if fields:
        body["fields"] = fields
    return jsonify(error=body), status


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        return None
    return raw.strip()


def _token_user() -> tuple[ApiToken, User] | None:
    raw = _bearer_token()
    if raw is None:
        return None
    token = db.session.scalar(
        select(ApiToken).options(joinedload(ApiToken.user))
        .where(ApiToken.token_hash == hash_token(raw), ApiToken.revoked_at.is_(None))
    )
    if token is None or not token.user.is_active:
        return None
    now = utcnow()
    if (token.last_used_at is None
            or (now - token.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS):
        token.last_used_at = now
        db.session.commit()
    return token, token.user


def api_token_required(view: View) -> View:
    """Require a valid, unrevoked bearer token of an active person; the user is in g.api_user."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        found = _token_user()
        if found is None:
            response, status = api_error(
                401, "Unauthorized", "Send a valid API token as 'Authorization: Bearer <token>'."
            )
            response.headers["WWW-Authenticate"] = 'Bearer realm="Touchpoints API"'
            return response, status
        g.api_token, g.api_user = found
        return view(*args, **kwargs)

    wrapper.access_rule = Rule.API_TOKEN  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]
