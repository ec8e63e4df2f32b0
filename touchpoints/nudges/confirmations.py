"""The confirmation request: once a touchpoint is logged, the other person is asked to confirm it.

Registered with the journeys services' `register_after_log`, so it runs inside every
`log_touchpoint` call (page, API, Slack, Teams, email link) in the same transaction as the log.
"""

from __future__ import annotations

from touchpoints.journeys.models import Confirmation, Touchpoint
from touchpoints.nudges.models import NudgeKind
from touchpoints.nudges.services import enqueue


def confirmation_key(touchpoint: Touchpoint) -> str:
    """The de-duplication key of a log's confirmation request (one per log, ever)."""
    return f"confirmation:{touchpoint.id}:{touchpoint.sequence}:{touchpoint.employee_id}"


def ask_to_confirm(touchpoint: Touchpoint, actor) -> bool:
    """Queue the confirmation request to the person the touchpoint was with; the caller commits.

    Nothing is asked when the person logged it themself (it counts as confirmed) or has left.
    Returns whether a request was queued now.
    """
    employee = touchpoint.employee
    if touchpoint.confirmation is not Confirmation.PENDING or employee is None or employee.is_deactivated:
        return False
    logger = getattr(actor, "employee", None)
    return enqueue(
        dedup_key=confirmation_key(touchpoint),
        kind=NudgeKind.CONFIRMATION,
        recipient=employee,
        touchpoint_id=touchpoint.id,
        payload={"logged_by": logger.full_name if logger is not None else "An HR partner"},
    )
