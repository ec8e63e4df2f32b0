"""Error pages that help, and JSON errors under the API."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

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
        "The link may be old or mistyped. Use the menu to find your way.",
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
        "Wait a few minutes before trying again.",
    ),
    500: (
        "Something went wrong on our side",
        "Nothing you did caused this. Try again in a minute; the team has been told.",
    ),
}
# A form sent without its security token: usually a page left open across a sign-out or restart.
CSRF_HELP = (
    "This form has expired",
    "For your safety, a form only works in the session it was opened in, and this one was "
    "not. Nothing was saved. Go back, reload the page and send the form again.",
)


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
        detail = getattr(error, "description", None) if code in (400, 413, 429) else None
        return render_template("errors/error.html", code=code, title=title, advice=advice,
                               detail=detail), code

    @app.errorhandler(Exception)
    def server_error(error: Exception):
        app.logger.exception("unhandled error", exc_info=error)
        if request.path.startswith("/api/"):
            return jsonify(error={"status": 500, "title": "Internal Server Error",
                                  "detail": "An unexpected error occurred."}), 500
        title, advice = HELP[500]
        return render_template("errors/error.html", code=500, title=title, advice=advice,
                               detail=None), 500
