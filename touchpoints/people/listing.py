"""The people list's page: the filters, and one page of plain rows with the total.

The page reads rows of the nine columns it shows rather than Employee objects with their team
and manager: building and tracking 75 ORM objects per request cost more CPU than the query. The
two selects are built once per viewer and filters and kept, with the page's limit and offset
bound when they run.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import aliased

from touchpoints.extensions import db
from touchpoints.people.access import visible_employees
from touchpoints.people.models import Employee, LifecycleStatus, Team
from touchpoints.people.team_search import team_condition
from touchpoints.people.text_search import name_or_email_contains

# Aliases, as joinedload used: the team filter's subquery reads `teams` itself and must not be
# correlated with the team joined for the row.
_RowTeam = aliased(Team)
_RowManager = aliased(Employee)
ROW_COLUMNS = (
    Employee.id,
    Employee.full_name,
    Employee.job_title,
    Employee.location,
    Employee.status,
    Employee.deactivated_at,
    Employee.start_date,
    _RowTeam.name.label("team_name"),
    _RowManager.full_name.label("manager_name"),
)


@dataclass(frozen=True)
class PeopleFilters:
    """What the list's filter form asks for (blank values filter nothing)."""

    q: str | None = None
    team: str | None = None
    status: str | None = None
    deactivated: bool = False


def filtered_people(user, filters: PeopleFilters) -> Select:
    """A select of the Employees this user may see that match the filters (unordered)."""
    query = visible_employees(user)
    if filters.q and filters.q.strip():
        query = query.where(name_or_email_contains(filters.q))
    in_team = team_condition(filters.team)
    if in_team is not None:
        query = query.where(in_team)
    if filters.status in {s.value for s in LifecycleStatus}:
        query = query.where(Employee.status == LifecycleStatus(filters.status))
    if not filters.deactivated:
        query = query.where(Employee.deactivated_at.is_(None))
    return query


class RowPagination(Pagination):
    """flask-sqlalchemy's Pagination over a select of plain rows rather than ORM objects.

    Takes `rows` (an ordered select with `row_limit` and `row_offset` bind parameters) and
    `count_query` (a select of the total) as keywords.
    """

    def _query_items(self) -> list[Any]:
        return db.session.execute(
            self._query_args["rows"], {"row_limit": self.per_page, "row_offset": self._query_offset}
        ).all()

    def _query_count(self) -> int:
        # Counted on every page, even one that is not full, so the page costs the same queries
        # whatever the company's size.
        return db.session.scalar(self._query_args["count_query"]) or 0


@dataclass(frozen=True)
class Viewer:
    """Who looks, as far as whom they may see goes (what visible_employees reads of a user)."""

    is_hr: bool
    is_manager: bool
    employee_id: int | None


@lru_cache(maxsize=64)
def _page_statements(viewer: Viewer, filters: PeopleFilters) -> tuple[Select, Select]:
    # Built once per viewer and filters: building the two selects and their cache keys afresh
    # cost about as much CPU as running them. The page's limit and offset are bound at execution.
    matching = filtered_people(viewer, filters)
    by_name = (Employee.full_name, Employee.id)
    # The page's ids first, then their teams and managers: joined before the offset, a late page
    # joined every person it skipped (15 ms for the last of 380 pages instead of 6).
    page_ids = (matching.with_only_columns(Employee.id).order_by(*by_name)
                .limit(bindparam("row_limit")).offset(bindparam("row_offset")).correlate(None))
    rows = (
        select(*ROW_COLUMNS)
        .select_from(Employee)
        .outerjoin(_RowTeam, _RowTeam.id == Employee.team_id)
        .outerjoin(_RowManager, _RowManager.id == Employee.manager_id)
        .where(Employee.id.in_(page_ids))
        .order_by(*by_name)
    )
    count_query = matching.with_only_columns(func.count(), maintain_column_froms=True)
    return rows, count_query


def people_page(user, filters: PeopleFilters, *, page: int, per_page: int) -> Pagination:
    """One page of the people list, by name: rows with id, full_name, job_title, location,
    status, deactivated_at, start_date, team_name and manager_name (two queries at most)."""
    viewer = Viewer(is_hr=user.is_hr, is_manager=user.is_manager, employee_id=user.employee_id)
    rows, count_query = _page_statements(viewer, filters)
    return RowPagination(page=page, per_page=per_page, max_per_page=None, error_out=False,
                         rows=rows, count_query=count_query)
