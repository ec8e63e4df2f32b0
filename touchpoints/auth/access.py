"""Access rules every route declares; the permission-matrix test checks none is missing."""
from __future__ import annotations

import enum
from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import abort, redirect, request, url_for
from flask_login import current_user

from touchpoints.extensions import login_manager

View = TypeVar("View", bound=Callable)


class Rule(enum.StrEnum):
    PUBLIC = "public"
    SIGNED_IN = "signed_in"
    MANAGER = "manager"
    HR = "hr_partner"
    API_TOKEN = "api_token"  # noqa: S105 - a rule name, not a secret


# Pages a signed-in user may reach while a first-login password change is still owed.
PASSWORD_CHANGE_EXEMPT = {"auth.change_password", "auth.logout"}


def _declare(view: View, rule: Rule) -> View:
    view.access_rule = rule  # type: ignore[attr-defined]
    return view


def public(view: View) -> View:
    """Anyone may reach this route, signed in or not."""
    return _declare(view, Rule.PUBLIC)


def _guarded(rule: Rule, allowed: Callable[[], bool]) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.must_change_password and request.endpoint not in PASSWORD_CHANGE_EXEMPT:
                return redirect(url_for("auth.change_password"))
            if not allowed():
                abort(403)
            return view(*args, **kwargs)

        return _declare(wrapper, rule)  # type: ignore[return-value]

    return decorator


signed_in = _guarded(Rule.SIGNED_IN, lambda: True)
"""Any signed-in person; object-level checks in the view decide what they see."""

managers = _guarded(Rule.MANAGER, lambda: current_user.is_manager or current_user.is_hr)
"""Managers (for their own reports) and HR partners."""

hr_only = _guarded(Rule.HR, lambda: current_user.is_hr)
"""HR partners only."""
