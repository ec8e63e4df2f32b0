"""What every API endpoint needs: the error exception, JSON bodies, field checks, pagination.

Endpoints raise ApiProblem anywhere; the blueprint turns it into the one error shape.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, time
from typing import Any

from flask import g, request, url_for
from sqlalchemy import Select
from werkzeug.exceptions import BadRequest

from touchpoints.extensions import db

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200
# A sanity cap on any one string field; services apply the real, tighter limits with reasons.
MAX_STRING = 1000
TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
          409: "Conflict", 415: "Unsupported Media Type", 422: "Unprocessable Content"}


class ApiProblem(Exception):
    """An error answer: raise it from an endpoint and the API replies with the Error shape."""

    def __init__(self, status: int, detail: str, fields: Mapping[str, str] | None = None,
                 title: str | None = None):
        super().__init__(detail)
        self.status = status
        self.title = title or TITLES.get(status, "Error")
        self.detail = detail
        self.fields = dict(fields) if fields else None


def require_hr(action: str) -> None:
    """Refuse (403) anyone but an HR partner, saying what only they may do."""
    if not g.api_user.is_hr:
        raise ApiProblem(403, f"Only HR partners may {action}.")


def not_found(what: str = "record") -> ApiProblem:
    """The same answer for missing and not-visible records, so existence does not leak."""
    return ApiProblem(404, f"No such {what}, or your token may not see it.")


def read_json_object() -> dict[str, Any]:
    """The request body as a JSON object: 415 when not JSON, 400 when malformed, 422 otherwise."""
    if not request.is_json:
        raise ApiProblem(415, "Send the body as JSON with 'Content-Type: application/json'.")
    try:
        data = request.get_json()
    except BadRequest:
        raise ApiProblem(400, "The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiProblem(422, "The body must be a JSON object of field names and values.")
    return data


# JSON types a field may carry, by name; a trailing "?" allows null.
JsonType = str
_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "boolean": (bool,),
}
_TYPE_WORDS = {"string": "a string", "integer": "a whole number", "boolean": "true or false"}


def check_types(data: Mapping[str, Any], types: Mapping[str, JsonType],
                read_only: Mapping[str, str] | None = None) -> dict[str, str]:
    """Problems with field names and JSON types: unknown, read-only, wrong type, null, too long."""
    problems: dict[str, str] = {}
    for name, value in data.items():
        if read_only and name in read_only:
            problems[name] = read_only[name]
            continue
        if name not in types:
            problems[name] = "Unknown field."
            continue
        kind = types[name]
        nullable = kind.endswith("?")
        kind = kind.rstrip("?")
        if value is None:
            if not nullable:
                problems[name] = "This field cannot be null."
            continue
        # bool is an int in Python, but true is not a team id.
        wrong_bool = isinstance(value, bool) and kind != "boolean"
        if wrong_bool or not isinstance(value, _PYTHON_TYPES[kind]):
            problems[name] = f"Send {_TYPE_WORDS[kind]}" + (" or null." if nullable else ".")
        elif kind == "string" and len(value) > MAX_STRING:
            problems[name] = f"Keep this under {MAX_STRING} characters."
    return problems


def exclusive(data: Mapping[str, Any], *groups: tuple[str, str]) -> dict[str, str]:
    """Problems for pairs of fields that say the same thing in two ways (name or id)."""
    problems: dict[str, str] = {}
    for first, second in groups:
        if first in data and second in data:
            message = f"Send {first} or {second}, not both."
            problems[first] = problems[second] = message
    return problems


def query_int(name: str, default: int, *, minimum: int = 1) -> int:
    """An integer query parameter; 400 naming the parameter when it is not one."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiProblem(400, f"The query parameter {name} must be a whole number.",
                         {name: f"'{raw[:40]}' is not a whole number."}) from None
    if value < minimum:
        raise ApiProblem(400, f"The query parameter {name} must be at least {minimum}.",
                         {name: f"Use {minimum} or more."})
    return value


def paginated(query: Select, serialize: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """One page of a select as {"data", "meta", "links"}; links keep the request's filters."""
    page = query_int("page", 1)
    per_page = min(query_int("per_page", DEFAULT_PER_PAGE), MAX_PER_PAGE)
    result = db.paginate(query, page=page, per_page=per_page, max_per_page=MAX_PER_PAGE,
                         error_out=False)
    return {
        "data": [serialize(item) for item in result.items],
        "meta": {"page": page, "per_page": per_page, "total": result.total or 0},
        "links": {"next": _page_link(page + 1) if result.has_next else None,
                  "prev": _page_link(min(page - 1, max(result.pages, 1))) if page > 1 else None},
    }


def _page_link(page: int) -> str:
    args = request.args.to_dict(flat=False)
    args["page"] = [str(page)]
    return url_for(request.endpoint, **(request.view_args or {}), **args, _external=True)


def iso(value: date | datetime | None) -> str | None:
    """Dates as YYYY-MM-DD, timestamps as UTC ISO 8601 with a Z."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return value.isoformat()


def hhmm(value: time | None) -> str | None:
    """A time of day as HH:MM."""
    return value.strftime("%H:%M") if value is not None else None


def split_csv(raw: str) -> Iterable[str]:
    """Comma-separated query values, blanks dropped."""
    return [part.strip() for part in raw.split(",") if part.strip()]
