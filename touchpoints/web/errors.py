"""Error pages that help (what happened, what to do next, where to go), and JSON errors under the API."""
from __future__ import annotations

import math

from flask import Flask, current_app, jsonify, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from touchpoints.auth.access import Rule

HELP = {
    400: (
        "That request did not make sense",
        "Go back and try again; if a form was open, reload it first.",
    ),
    403: (
        "You do not have access to this page",
        "It belongs to someone else or needs another role. "
        "Ask your HR partner if you think you should see it.",
    ),
    404: (
        "We could not find that page",
        "The link may be old or mistyped, or what it pointed to has been removed. "
        "Use the menu, or start again from your home page.",
    ),
    405: (
        "That action is not allowed here",
        "Use the buttons on the page rather than typing the address.",
    ),
    413: (
        "That file is too large",
        "Upload a smaller file; split a large import into several files.",
    ),
    429: (
        "Too many attempts",
        "For everyone's safety, Touchpoints slows down repeated attempts. Nothing is lost: "
        "wait a little, then try again.",
    ),
    500: (
        "Something went wrong on our side",
        "Nothing you did caused this, and nothing you typed was saved twice. Try again in a minute; "
        "the error has been logged for the team.",
    ),
}
# A form sent without its security token: usually a page left open across a sign-out or restart.
CSRF_HELP = (
    "This form has expired",
    "For your safety, a form only works in the session it was opened in, and this one was "
    "not. Nothing was saved. Go back, reload the page and send the form again.",
)
# Who a page is for, by its access rule, to say on a 403 which role opens it.
AUDIENCE = {
    Rule.HR: "This page is for HR partners.",
    Rule.MANAGER: "This page is for managers (for their own teams) and HR partners.",
}
# Served when even the error page cannot be drawn (the database is down, say): no template, no query.
BARE_500 = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Something went wrong · Touchpoints</title>
<link rel="stylesheet" href="/static/css/app.css"></head>
<body><a class="skip-link" href="#main">Skip to main content</a>
<main id="main" class="page"><section class="error-page"><p class="error-page__code">Error 500</p>
<h1>Something went wrong on our side</h1>
<p>Nothing you did caused this. Try again in a minute; the error has been logged for the team.</p>
<p><a class="button" href="/">Try your home page</a></p></section></main></body></html>"""


def _required_role() -> str | None:
    """Which role the requested page needs, in words, when the person's roles fell short."""
    rule = request.url_rule
    view = current_app.view_functions.get(rule.endpoint) if rule is not None else None
    return AUDIENCE.get(getattr(view, "access_rule", None))


def _wait_minutes(error: HTTPException) -> int | None:
    """Minutes until another attempt may succeed, from the error's Retry-After."""
    retry_after = getattr(error, "retry_after", None)
    if retry_after is None:
        return None
    seconds = retry_after if isinstance(retry_after, (int, float)) else None
    return max(1, math.ceil(seconds / 60)) if seconds else None


def _links(code: int) -> list[tuple[str, str]]:
    """Where to go from here: pages this person can certainly open."""
    if not current_user.is_authenticated:
        return [("Sign in", url_for("auth.login"))]
    links = [("Your home page", url_for("web.home")), ("Your journey", url_for("journeys.my_journey"))]
    if current_user.is_manager or current_user.is_hr:
        links.append(("People", url_for("people.index")))
    return links


def render_error(code: int, title: str, advice: str, *, detail: str | None = None,
                 note: str | None = None, headers: dict | None = None):
    """The error page, or a bare one when the page itself cannot be drawn."""
    try:
        body = render_template("errors/error.html", code=code, title=title, advice=advice, detail=detail,
                               note=note, links=_links(code), path=request.path)
    except Exception:
        current_app.logger.exception("the error page could not be drawn")
        return BARE_500, 500
    return body, code, headers or {}


def register(app: Flask) -> None:
    """Install one handler for every HTTP error."""

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = error.code or 500
        title, advice = HELP.get(code, (error.name, error.description or ""))
        if isinstance(error, CSRFError):
            title, advice = CSRF_HELP
        if request.path.startswith("/api/"):
            return jsonify(error={"status": code, "title": error.name,
                                  "detail": error.description}), code
        detail = getattr(error, "description", None) if code in (400, 413) else None
        note = None
        headers = {}
        if code == 403:
            note = _required_role()
        elif code == 429:
            minutes = _wait_minutes(error)
            if minutes:
                note = f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."
                headers["Retry-After"] = str(minutes * 60)
        return render_error(code, title, advice, detail=detail, note=note, headers=headers)

    @app.errorhandler(Exception)
    def server_error(error: Exception):
        app.logger.exception("unhandled error", exc_info=error)
        if request.path.startswith("/api/"):
            return jsonify(error={"status": 500, "title": "Internal Server Error",
                                  "detail": "An unexpected error occurred."}), 500
        title, advice = HELP[500]
        return render_error(500, title, advice)
