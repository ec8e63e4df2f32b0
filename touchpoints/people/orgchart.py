"""The org chart: who reports to whom, built in memory from one query."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from touchpoints.extensions import db
from touchpoints.people.access import report_ids_query
from touchpoints.people.models import Employee, LifecycleStatus, Team


@dataclass
class OrgNode:
    """One person in the chart, with their direct reports."""

    id: int
    name: str
    title: str
    team: str | None
    manager_id: int | None
    reports: list[OrgNode] = field(default_factory=list)
    headcount: int = 0  # everyone below this person, at any depth


@dataclass
class OrgChart:
    """The trees to show (one per top person) and the path from the top to the chosen person."""

    roots: list[OrgNode]
    people: int
    trail: list[OrgNode] = field(default_factory=list)


def org_chart(user, root_id: int | None = None) -> OrgChart | None:
    """The current organisation the user may see (HR: everyone; managers: their part).

    People who have left or are deactivated are not on the chart. With root_id, only that
    person's part; None when root_id is not someone the user may see.
    """
    query = (
        select(Employee.id, Employee.full_name, Employee.job_title, Team.name, Employee.manager_id)
        .outerjoin(Team, Team.id == Employee.team_id)
        .where(Employee.deactivated_at.is_(None), Employee.status != LifecycleStatus.ALUMNI)
    )
    if not user.is_hr:
        query = query.where((Employee.id == user.employee_id)
                            | Employee.id.in_(report_ids_query(user.employee_id)))
    nodes = {row[0]: OrgNode(*row) for row in db.session.execute(query)}
    roots: list[OrgNode] = []
    for node in nodes.values():
        manager = nodes.get(node.manager_id) if node.manager_id else None
        (manager.reports if manager else roots).append(node)
    _count_and_sort(roots)
    if root_id is None:
        return OrgChart(roots=roots, people=len(nodes))
    root = nodes.get(root_id)
    if root is None:
        return None
    trail = []
    step = nodes.get(root.manager_id) if root.manager_id else None
    while step is not None:
        trail.append(step)
        step = nodes.get(step.manager_id) if step.manager_id else None
    return OrgChart(roots=[root], people=root.headcount + 1, trail=trail[::-1])


def _count_and_sort(roots: list[OrgNode]) -> None:
    """Headcounts bottom-up and reports in name order, without recursion (charts can be deep)."""
    order: list[OrgNode] = []
    stack = list(roots)
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(node.reports)
    for node in reversed(order):
        node.reports.sort(key=lambda n: (n.name.lower(), n.id))
        node.headcount = sum(1 + child.headcount for child in node.reports)
    roots.sort(key=lambda n: (-n.headcount, n.name.lower()))
