"""Field parsers shared by the people forms, the API and the CSV import.

Each takes raw text and returns a clean value or raises FieldError with a message a person
can act on; callers attach the field (and row) name.
"""
from __future__ import annotations

import re
from datetime import date, time
from functools import cache, lru_cache
from zoneinfo import available_timezones

from touchpoints.auth.models import Role
from touchpoints.people.models import Channel, LifecycleStatus


class FieldError(ValueError):
    """A value that cannot be accepted, with the reason in plain words."""


@cache
def known_timezones() -> frozenset[str]:
    return frozenset(available_timezones())


# A plain ASCII local part (what nearly every work address has) is checked here, so the full
# validator runs once per domain instead of once per address: imports check 10,000 at a time.
_PLAIN_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*\Z")


@lru_cache(maxsize=1024)
def _normalized_domain(domain: str) -> str | None:
    # email-validator (half a MB with its IDNA tables) is imported by the first address checked,
    # not by every web worker at start: most requests never check one.
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(f"x@{domain}", check_deliverability=False).domain
    except EmailNotValidError:
        return None


def parse_email(raw: str) -> str:
    value = (raw or "").strip()
    if not value:
        raise FieldError("An email address is required.")
    local, at, domain = value.rpartition("@")
    if at and len(local) <= 64 and len(value) <= 254 and _PLAIN_LOCAL.match(local):
        normalized = _normalized_domain(domain)
        if normalized is not None:
            return f"{local}@{normalized}"
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise FieldError(f"'{value}' is not a valid email address: {error}") from None


def parse_timezone(raw: str) -> str:
    value = (raw or "").strip()
    if value not in known_timezones() or value.lower() == "localtime":
        raise FieldError(f"'{value}' is not a known IANA time zone (for example Europe/Berlin).")
    return value


def parse_date(raw: str | date | None) -> date | None:
    if raw is None or isinstance(raw, date):
        return raw
    value = raw.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FieldError(f"'{value}' is not a date in the form YYYY-MM-DD.") from None


def parse_time(raw: str | time | None) -> time | None:
    if raw is None or isinstance(raw, time):
        return raw
    value = raw.strip()
    if not value:
        return None
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise FieldError(f"'{value}' is not a time in the form HH:MM.") from None


def parse_status(raw: str) -> LifecycleStatus:
    value = (raw or "").strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return LifecycleStatus(value)
    except ValueError:
        allowed = ", ".join(s.value for s in LifecycleStatus)
        raise FieldError(f"'{raw}' is not a lifecycle status ({allowed}).") from None


def parse_channel(raw: str) -> Channel:
    value = (raw or "").strip().lower()
    try:
        return Channel(value)
    except ValueError:
        allowed = ", ".join(c.value for c in Channel)
        raise FieldError(f"'{raw}' is not a channel ({allowed}).") from None


def parse_country(raw: str) -> str:
    value = (raw or "").strip().upper()
    if len(value) != 2 or not value.isalpha():
        raise FieldError(f"'{raw}' is not a two-letter ISO country code (for example DE).")
    return value


def parse_work_days(raw: str) -> str:
    value = "".join(sorted(set((raw or "").strip())))
    if not value or any(ch not in "1234567" for ch in value):
        raise FieldError("Work days are ISO weekday numbers, e.g. 12345 for Monday to Friday.")
    return value


_TRUE = frozenset({"1", "true", "yes", "y", "x", "t"})
_FALSE = frozenset({"", "0", "false", "no", "n", "f"})


def parse_flag(raw: str | bool | None) -> bool:
    """A yes/no cell as HR systems export it: true/false, yes/no, 1/0, x or empty."""
    if isinstance(raw, bool):
        return raw
    value = (raw or "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise FieldError(f"'{raw}' is not yes or no (use true/false, yes/no or 1/0).")


_ROLE_WORDS = {
    "hr_partner": Role.HR_PARTNER, "hr": Role.HR_PARTNER, "hrbp": Role.HR_PARTNER,
    "manager": Role.MANAGER, "employee": Role.EMPLOYEE,
}


def parse_roles(raw: str | None) -> frozenset[Role]:
    """Roles listed in one cell, separated by ; , or | (for example "hr_partner; manager")."""
    roles = set()
    for word in re.split(r"[;,|]", raw or ""):
        key = word.strip().lower().replace("-", "_").replace(" ", "_")
        if not key:
            continue
        if key not in _ROLE_WORDS:
            raise FieldError(f"'{word.strip()}' is not a role (hr_partner, manager, employee).")
        roles.add(_ROLE_WORDS[key])
    return frozenset(roles)
