"""Who may see whom: HR everyone, managers their reports (direct and indirect), people themselves."""
from __future__ import annotations

from sqlalchemy import Select, select

from touchpoints.extensions import db
from touchpoints.people.models import Employee


def report_ids_query(manager_id: int) -> Select:
    """A recursive query for the ids of everyone who reports to manager_id, at any depth."""
    chain = (
        select(Employee.id).where(Employee.manager_id == manager_id).cte("reports", recursive=True)
    )
    chain = chain.union(select(Employee.id).where(Employee.manager_id == chain.c.id))
    return select(chain.c.id)


def visible_employees(user) -> Select:
    """A select of the employees this user may see."""
    query = select(Employee)
    if user.is_hr:
        return query
    if user.is_manager:
        return query.where(
            (Employee.id == user.employee_id) | Employee.id.in_(report_ids_query(user.employee_id))
        )
    return query.where(Employee.id == user.employee_id)


def can_view_employee(user, employee_id: int) -> bool:
    """Whether the user may see this employee's record."""
    if user.is_hr or employee_id == user.employee_id:
        return True
    if not user.is_manager:
        return False
    reports = report_ids_query(user.employee_id).subquery()
    hit = db.session.scalar(select(reports.c.id).where(reports.c.id == employee_id))
    return hit is not None
