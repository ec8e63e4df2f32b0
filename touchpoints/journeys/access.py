"""Who may see and act on which touchpoints.

HR partners see everything. A person sees their own touchpoints and the ones they own. Managers
see their reports' touchpoints (direct and indirect), except grievance meetings, which stay
between HR, the person concerned and whoever runs the meeting, never anyone in the person's line
(even one made the meeting's owner).
"""
from __future__ import annotations

from sqlalchemy import Select, or_, select

from touchpoints.extensions import db
from touchpoints.journeys.models import OwnerRole, Touchpoint, TouchpointKind
from touchpoints.people.access import report_ids_query

HR_ONLY_KINDS = tuple(k for k in TouchpointKind if k.hr_only)


def is_report(user, employee_id: int) -> bool:
    """Whether employee_id reports to the user, directly or indirectly."""
    if not user.is_manager:
        return False
    reports = report_ids_query(user.employee_id).subquery()
    return db.session.scalar(select(reports.c.id).where(reports.c.id == employee_id)) is not None


def can_view_touchpoint(user, touchpoint: Touchpoint) -> bool:
    """Whether the user may see this touchpoint at all."""
    if user.is_hr or user.employee_id == touchpoint.employee_id:
        return True
    if touchpoint.kind in HR_ONLY_KINDS:
        # Never the person's line, even when someone made their manager its owner.
        return user.employee_id == touchpoint.owner_id and not is_report(user, touchpoint.employee_id)
    return user.employee_id == touchpoint.owner_id or is_report(user, touchpoint.employee_id)


def can_manage_touchpoint(user, touchpoint: Touchpoint) -> bool:
    """Whether the user may log, reschedule or mark this touchpoint missed."""
    if user.is_hr:
        return True
    if touchpoint.owner_id == user.employee_id:
        return touchpoint.kind not in HR_ONLY_KINDS or not is_report(user, touchpoint.employee_id)
    if touchpoint.employee_id == user.employee_id:
        # A person logs their own self-serve moments, never a conversation someone else runs.
        return touchpoint.owner_role is OwnerRole.EMPLOYEE
    if touchpoint.kind in HR_ONLY_KINDS:
        return False
    return is_report(user, touchpoint.employee_id)


def is_participant(user, touchpoint: Touchpoint) -> bool:
    """The two sides of the conversation: the person and whoever owns it."""
    return user.employee_id in (touchpoint.employee_id, touchpoint.owner_id)


def visible_touchpoints(user) -> Select:
    """A select of the touchpoints this user may see (for lists and the API)."""
    query = select(Touchpoint)
    if user.is_hr:
        return query
    mine = or_(Touchpoint.employee_id == user.employee_id, Touchpoint.owner_id == user.employee_id)
    if not user.is_manager:
        return query.where(mine)
    line = Touchpoint.employee_id.in_(report_ids_query(user.employee_id))
    # Grievances stay out of a manager's view of their reports, whoever owns them.
    return query.where(or_(mine, line), ~(line & Touchpoint.kind.in_(HR_ONLY_KINDS)))
