"""Searching people by typed text: what is typed is matched literally, % and _ included."""
from __future__ import annotations

from sqlalchemy import ColumnElement, func, or_

from touchpoints.people.models import Employee


def escape_like(text: str) -> str:
    """Text for a LIKE pattern with escape '\\', matching itself rather than as wildcards."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def name_or_email_contains(text: str) -> ColumnElement[bool]:
    """People whose name or work email contains the text, in any case."""
    like = f"%{escape_like(text.strip().lower())}%"
    return or_(func.lower(Employee.full_name).like(like, escape="\\"),
               func.lower(Employee.email).like(like, escape="\\"))
