"""Signed links for buttons outside Slack (Teams cards, emails): bound to a touchpoint and a person.

A link carries the action, the touchpoint and the recipient, signed with the app's SECRET_KEY and
valid for a while. Following it opens a page in the app where the person, signed in, confirms:
a GET never changes anything.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from touchpoints.nudges.compose import ACTION_LABELS, OPEN, TOUCHPOINT_ACTIONS

SALT = "touchpoints.nudge-action"


@dataclass(frozen=True)
class ActionLink:
    """What a verified link asks for."""

    action: str
    touchpoint_id: int
    recipient_id: int


class LinkError(ValueError):
    """A link that is forged, altered or too old, in words a person understands."""


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def sign_action(action: str, touchpoint_id: int, recipient_id: int) -> str:
    """The token of an action link."""
    if action not in (*TOUCHPOINT_ACTIONS, OPEN):
        raise ValueError(f"unknown action {action!r}")
    return _serializer().dumps({"a": action, "t": touchpoint_id, "r": recipient_id})


def read_action(token: str, *, max_age_days: int) -> ActionLink:
    """The action a token asks for, or LinkError when it is not valid (anymore)."""
    try:
        data = _serializer().loads(token, max_age=max_age_days * 86400)
    except SignatureExpired:
        raise LinkError("This link has expired. Open the touchpoint in Touchpoints instead.") from None
    except BadSignature:
        raise LinkError("This link is not valid. Open the touchpoint in Touchpoints instead.") from None
    try:
        link = ActionLink(str(data["a"]), int(data["t"]), int(data["r"]))
    except (KeyError, TypeError, ValueError):
        raise LinkError("This link is not valid.") from None
    if link.action not in ACTION_LABELS:
        raise LinkError("This link is not valid.")
    return link
