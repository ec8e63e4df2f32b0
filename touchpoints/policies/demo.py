"""Policies for the demo company: the shipped pack, one override on record, and a weekly history."""
from __future__ import annotations

from datetime import timedelta

import click
from sqlalchemy import select

from touchpoints.audit.services import record
from touchpoints.auth.models import Role, User, UserRole
from touchpoints.extensions import db
from touchpoints.journeys.models import Mode, Touchpoint, TouchpointKind, TouchpointStatus
from touchpoints.policies.compliance import backfill_snapshots, record_compliance_snapshot
from touchpoints.policies.engine import active_policies
from touchpoints.policies.models import PolicyOverride
from touchpoints.policies.services import DEFAULT_POLICY_DIR, load_policy_files

HISTORY_WEEKS = 8
JUSTIFICATION = ("She was working from our Lisbon office that fortnight; the review was a long video "
                 "call with cameras on, agreed by both beforehand.")


def load_demo_policies() -> int:
    """Load the shipped pack (unless policies exist), record a believable override, fill the trend."""
    result = load_policy_files([DEFAULT_POLICY_DIR], if_empty=True)
    db.session.flush()
    _an_override()
    backfill_snapshots(HISTORY_WEEKS)
    db.session.commit()
    figures = record_compliance_snapshot()
    loaded = len(result.created) + len(result.changed)
    click.echo(f"Demo policies: {loaded} loaded; {figures['people']} people out of compliance today.")
    return loaded


def _an_override() -> None:
    """An HR partner let one review by video through, with a written reason (so the list is not empty)."""
    reviews = next((p for p in active_policies() if p.key == "reviews-in-person"), None)
    hr = db.session.scalar(select(User).join(UserRole).where(UserRole.role == Role.HR_PARTNER.value)
                           .order_by(User.id).limit(1))
    review = db.session.scalar(
        select(Touchpoint).where(Touchpoint.kind == TouchpointKind.PERFORMANCE_REVIEW,
                                 Touchpoint.status == TouchpointStatus.DONE,
                                 Touchpoint.actual_mode == Mode.VIDEO)
        .order_by(Touchpoint.happened_at.desc()).limit(1))
    if reviews is None or hr is None or review is None:
        return
    reason = (f"Performance reviews must happen in person (policy: {reviews.name}). "
              f"Logged mode: {Mode.VIDEO.label.lower()}.")
    db.session.add(PolicyOverride(
        touchpoint_id=review.id, policy_id=reviews.policy_id, policy_version_id=reviews.version_id,
        employee_id=review.employee_id, actor_id=hr.id, action="log", mode=Mode.VIDEO.value,
        reason=reason, justification=JUSTIFICATION,
        created_at=(review.logged_at or review.happened_at) + timedelta(minutes=5)))
    record("policy.overridden", "policy", reviews.policy_id, actor_id=hr.id,
           summary=f"Overrode {reviews.name} for {review.title} (logged video call)",
           after={"touchpoint_id": review.id, "employee_id": review.employee_id, "mode": "video",
                  "action": "log", "version": reviews.number}, justification=JUSTIFICATION)
