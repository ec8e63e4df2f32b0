"""The manager's week: open touchpoints with their direct reports (overdue and the next seven days),
how long since each report's last human touchpoint, and how many are overdue further down each branch.

The lists hold direct reports and what the manager runs, so the page grows with a span of control,
never with the size of the organisation below; deeper levels are counted per branch. A fixed number
of queries whatever the team's size.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import case, func, select, true, union
from sqlalchemy.orm import joinedload

from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.access import HR_ONLY_KINDS
from touchpoints.journeys.calendar import zone
from touchpoints.journeys.models import HUMAN_MODES, OPEN_STATUSES, Touchpoint, TouchpointStatus
from touchpoints.people.models import Employee, LifecycleStatus

WEEK_DAYS = 7


@dataclass
class ReportContact:
    """One direct report and the state of their human contact."""

    employee: Employee
    last_human_at: datetime | None
    next_due_at: datetime | None
    overdue: int
    now: datetime
    overdue_below: int = 0  # overdue touchpoints of the people who report to them, at any depth

    @property
    def days_since_human(self) -> int | None:
        """Whole days since the last logged in-person or live conversation; None if there never was one."""
        if self.last_human_at is None:
            return None
        return max(0, (self.now - self.last_human_at).days)


@dataclass
class TeamWeek:
    """What a manager has on: overdue and this week's open touchpoints, and each report's contact."""

    now: datetime
    week_ends: datetime
    overdue: list[Touchpoint]
    this_week: list[Touchpoint]
    reports: list[ReportContact]

    @property
    def overdue_below(self) -> int:
        return sum(r.overdue_below for r in self.reports)


def _aware(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # an aggregate on SQLite comes back as text
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def end_of_week(now: datetime, timezone: str) -> datetime:
    """The end of the seventh day from today in this zone, as a UTC moment (a rolling week, so a
    manager looking on a Sunday sees the week ahead)."""
    local = now.astimezone(zone(timezone))
    last: date = local.date() + timedelta(days=WEEK_DAYS - 1)
    return datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone(timezone)).astimezone(UTC)


def team_week(viewer, *, now: datetime | None = None) -> TeamWeek:
    """The viewer's week: touchpoints of their direct reports and those they run (never their own).

    Grievance meetings stay out unless the viewer runs them or is HR. Five queries.
    """
    now = now or utcnow()
    me = viewer.employee_id
    week_ends = end_of_week(now, viewer.employee.timezone)
    visible_kinds = true() if viewer.is_hr else Touchpoint.kind.not_in(HR_ONLY_KINDS)
    open_this_week = (Touchpoint.status.in_(OPEN_STATUSES), Touchpoint.due_at < week_ends)
    # "Run by me OR about my direct reports" as one WHERE would walk every open touchpoint of the
    # company (no single index serves an OR across two columns); as a UNION each half reads its own
    # index: (owner_id, status, due_at) and (employee_id, due_at).
    mine_or_direct = union(
        select(Touchpoint.id).where(Touchpoint.owner_id == me, *open_this_week),
        # coalesce() keeps SQLite (planning without statistics) on the reports' rows rather than
        # walking every open touchpoint of the company through the (status, due_at) index.
        select(Touchpoint.id).where(
            Touchpoint.employee_id.in_(select(Employee.id).where(Employee.manager_id == me)), visible_kinds,
            func.coalesce(Touchpoint.status, "").in_([status.value for status in OPEN_STATUSES]),
            Touchpoint.due_at < week_ends))
    touchpoints = list(db.session.scalars(
        select(Touchpoint)
        .options(joinedload(Touchpoint.employee), joinedload(Touchpoint.owner))
        .where(Touchpoint.id.in_(mine_or_direct), Touchpoint.employee_id != me)
        .order_by(Touchpoint.due_at, Touchpoint.id)))
    overdue = [t for t in touchpoints if t.due_at < now]
    this_week = [t for t in touchpoints if t.due_at >= now]

    direct = list(db.session.scalars(
        select(Employee).where(Employee.manager_id == me, Employee.deactivated_at.is_(None),
                               Employee.status != LifecycleStatus.ALUMNI)
        .order_by(Employee.full_name, Employee.id)))
    ids = [e.id for e in direct]
    last_human: dict[int, datetime | None] = {}
    upcoming: dict[int, tuple[datetime | None, int]] = {}
    below: dict[int, int] = {}
    if ids:
        last_human = {employee_id: _aware(at) for employee_id, at in db.session.execute(
            select(Touchpoint.employee_id, func.max(Touchpoint.happened_at))
            .where(Touchpoint.employee_id.in_(ids), Touchpoint.status == TouchpointStatus.DONE,
                   Touchpoint.actual_mode.in_([m.value for m in HUMAN_MODES]), visible_kinds)
            .group_by(Touchpoint.employee_id))}
        is_overdue = func.sum(case((Touchpoint.due_at < now, 1), else_=0))
        open_rows = db.session.execute(
            select(Touchpoint.employee_id, func.min(Touchpoint.due_at), is_overdue)
            .where(Touchpoint.employee_id.in_(ids), Touchpoint.status.in_(OPEN_STATUSES), visible_kinds)
            .group_by(Touchpoint.employee_id))
        upcoming = {employee_id: (_aware(first), int(late or 0)) for employee_id, first, late in open_rows}
        below = _overdue_below(me, now, visible_kinds)
    rows = [ReportContact(e, last_human.get(e.id), *upcoming.get(e.id, (None, 0)), now=now,
                          overdue_below=below.get(e.id, 0)) for e in direct]
    # Longest without a human conversation first: that is who the manager should see next.
    rows.sort(key=lambda r: (r.last_human_at is not None, r.last_human_at or now, r.employee.full_name))
    return TeamWeek(now, week_ends, overdue, this_week, rows)


def _overdue_below(manager_id: int, now: datetime, visible_kinds) -> dict[int, int]:
    """Overdue open touchpoints of everyone below each direct report, by that direct report (one query)."""
    branches = (select(Employee.id.label("id"), Employee.id.label("branch"))
                .where(Employee.manager_id == manager_id).cte("branches", recursive=True))
    branches = branches.union(
        select(Employee.id, branches.c.branch).where(Employee.manager_id == branches.c.id))
    # Counted per person below, through the (employee_id, due_at) index: as a join, PostgreSQL
    # (which cannot estimate a recursive CTE's size) hashed every overdue touchpoint of the company.
    overdue_of_person = (
        select(func.count(Touchpoint.id))
        .where(Touchpoint.employee_id == branches.c.id, Touchpoint.status.in_(OPEN_STATUSES),
               Touchpoint.due_at < now, visible_kinds)
        .scalar_subquery())
    rows = db.session.execute(
        select(branches.c.branch, func.sum(overdue_of_person))
        .where(branches.c.id != branches.c.branch)
        .group_by(branches.c.branch))
    return {branch: int(count or 0) for branch, count in rows}
