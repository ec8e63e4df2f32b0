"""The people list's team filter: a text field matched by name, with suggestions as one types.

Listing every team in a drop-down made the list page grow with the company (37 KB instead of 13
at 407 teams); a typed name costs one subquery, and suggestions come a few at a time from a JSON
endpoint limited to the teams the person may see.
"""
from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, func, or_, select

from touchpoints.extensions import db
from touchpoints.people.access import visible_employees
from touchpoints.people.models import Employee, Team
from touchpoints.people.text_search import escape_like

NO_TEAM = "none"
NO_TEAM_LABEL = "No team"
SUGGESTION_LIMIT = 20


def team_condition(text: str | None) -> ColumnElement[bool] | None:
    """Which people the team field keeps, or None to keep everyone.

    A team's exact name (any case) picks that team; otherwise part of a name picks every team
    containing it. "No team" (or "none") keeps people without a team, and a number keeps the
    team with that id, as older links to the list carry it.
    """
    text = (text or "").strip()
    if not text:
        return None
    lowered = text.lower()
    exact = func.lower(Team.name) == lowered
    if lowered in (NO_TEAM, NO_TEAM_LABEL.lower()):
        return Employee.team_id.is_(None)
    like = f"%{escape_like(lowered)}%"
    named = or_(exact, and_(~exists().where(exact), func.lower(Team.name).like(like, escape="\\")))
    if text.isdigit():
        named = or_(named, Team.id == int(text))
    return Employee.team_id.in_(select(Team.id).where(named))


def suggest_teams(user, text: str, *, limit: int = SUGGESTION_LIMIT) -> list[str]:
    """Names of up to `limit` teams containing the text, among those whose people the user may see.

    HR partners see every team; a manager only the teams of the people who report to them.
    """
    text = text.strip().lower()
    if not text:
        return []
    query = select(Team.name).where(func.lower(Team.name).like(f"%{escape_like(text)}%", escape="\\"))
    if not user.is_hr:
        scope = visible_employees(user).where(Employee.deactivated_at.is_(None)).subquery()
        query = query.where(Team.id.in_(select(scope.c.team_id)))
    # Names starting with the text first, then the rest, each alphabetically.
    starts = func.lower(Team.name).like(f"{escape_like(text)}%", escape="\\")
    return list(db.session.scalars(query.order_by(~starts, Team.name).limit(limit)))
