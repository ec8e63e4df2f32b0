"""Issuing, finding and revoking API tokens; the page and the CLI both come through here."""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from touchpoints.api.models import ApiToken, hash_token
from touchpoints.audit.services import record
from touchpoints.auth.models import User
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.people.models import Employee

TOKEN_SCHEME = "tp_"  # noqa: S105 - the public marker every token starts with
# "tp_" plus eight random characters: enough to tell tokens apart, far too little to guess one.
PREFIX_LENGTH = len(TOKEN_SCHEME) + 8
NAME_LIMIT = 120


class TokenError(ValueError):
    """A token request that cannot be carried out; field names the input at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class IssuedToken:
    """A freshly issued token: the stored row and the raw secret, which exists only now."""

    token: ApiToken
    raw: str


def new_raw_token() -> str:
    """A new secret in the published format: tp_ followed by 43 URL-safe characters."""
    return TOKEN_SCHEME + secrets.token_urlsafe(32)


def issue_token(user: User, name: str, *, created_by: User | None) -> IssuedToken:
    """Create a token acting as user; only its hash is stored, so the raw value is returned once."""
    clean = (name or "").strip()
    if not clean:
        raise TokenError("name", "Give the token a name that says which integration uses it.")
    if len(clean) > NAME_LIMIT:
        raise TokenError("name", f"Keep the name under {NAME_LIMIT} characters.")
    if not user.is_active:
        raise TokenError("user", f"{user.employee.full_name} is deactivated; a token for them "
                                 "would never work.")
    raw = new_raw_token()
    token = ApiToken(user=user, name=clean, token_hash=hash_token(raw),
                     token_prefix=raw[:PREFIX_LENGTH], created_by=created_by)
    db.session.add(token)
    db.session.flush()
    record("api_token.issued", "api_token", token.id,
           actor_id=created_by.id if created_by else None,
           summary=f"Issued API token '{clean}' ({token.token_prefix}…) acting as "
                   f"{user.employee.full_name}",
           after={"name": clean, "token_prefix": token.token_prefix, "user_id": user.id})
    return IssuedToken(token, raw)


def revoke_token(token: ApiToken, *, actor: User | None) -> bool:
    """Stop a token from working; False when it was already revoked (nothing changes)."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    record("api_token.revoked", "api_token", token.id, actor_id=actor.id if actor else None,
           summary=f"Revoked API token '{token.name}' ({token.token_prefix}…)",
           before={"revoked_at": None}, after={"revoked_at": token.revoked_at.isoformat()})
    return True


def _with_people(query):
    return query.options(
        joinedload(ApiToken.user).joinedload(User.employee),
        joinedload(ApiToken.created_by).joinedload(User.employee),
    )


def token_by_id(token_id: int) -> ApiToken | None:
    """One token with the people it names loaded."""
    return db.session.scalar(_with_people(select(ApiToken)).where(ApiToken.id == token_id))


def tokens_query():
    """Every token, active ones first and the newest first within each group."""
    return _with_people(select(ApiToken)).order_by(
        ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(), ApiToken.id.desc()
    )


def find_tokens(reference: str) -> list[ApiToken]:
    """Tokens matching an id ("12") or the start of a raw token or its prefix ("tp_AbC…")."""
    ref = reference.strip().rstrip("…").strip()
    if ref.isdigit():
        token = token_by_id(int(ref))
        return [token] if token else []
    if not ref.startswith(TOKEN_SCHEME):
        return []
    if len(ref) > PREFIX_LENGTH:
        # Someone pasted the whole secret: match it exactly rather than by its first characters.
        token = db.session.scalar(
            _with_people(select(ApiToken)).where(ApiToken.token_hash == hash_token(ref))
        )
        return [token] if token else []
    return list(db.session.scalars(
        tokens_query().where(ApiToken.token_prefix.startswith(ref, autoescape=True))
    ).unique())


def user_for_email(email: str) -> User | None:
    """The login belonging to this work email (case-insensitive), if the person has one."""
    return db.session.scalar(
        select(User).join(User.employee).where(func.lower(Employee.email) == email.strip().lower())
    )
