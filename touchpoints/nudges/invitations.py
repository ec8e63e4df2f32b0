"""Calendar invitations by email: planned, moved and cancelled one-on-ones and check-ins.

When a touchpoint of an invite kind is planned, rescheduled or cancelled (the journeys services'
`register_after_schedule_change`), both people get an email with the .ics invitation, through the
outbox, in the same transaction as the change. The dedup key carries the touchpoint's SEQUENCE, so
each version is sent once; an invitation overtaken by a later change before it left is not sent.

A person may turn calendar invitations off in their notification settings (`preferences`).
"""

from __future__ import annotations

from touchpoints.journeys.models import Touchpoint, TouchpointStatus
from touchpoints.nudges import compose
from touchpoints.nudges.compose import Action, Item
from touchpoints.nudges.models import DeliveryChannel, NudgeKind
from touchpoints.nudges.preferences import invites_turned_off
from touchpoints.nudges.services import enqueue
from touchpoints.nudges.settings import NudgeSettings


def invitation_key(touchpoint: Touchpoint, person_id: int) -> str:
    """One invitation per version (SEQUENCE) of a touchpoint per person, ever."""
    return f"invite:{touchpoint.id}:{touchpoint.sequence}:{person_id}"


def queue_invitations(touchpoint: Touchpoint, change: str) -> int:
    """Queue the invitation (or cancellation) to both people of a scheduled touchpoint; caller commits."""
    from touchpoints.nudges.calendar import INVITE_KINDS

    if touchpoint.kind not in INVITE_KINDS:
        return 0
    people = [p for p in (touchpoint.employee, touchpoint.owner) if p is not None]
    people = [p for p in {p.id: p for p in people}.values() if p.email and not p.is_deactivated]
    off = invites_turned_off(p.id for p in people)
    method = "CANCEL" if touchpoint.status is TouchpointStatus.CANCELLED else "REQUEST"
    queued = 0
    for person in people:
        if person.id in off:
            continue
        queued += enqueue(
            dedup_key=invitation_key(touchpoint, person.id),
            kind=NudgeKind.CALENDAR_INVITE,
            recipient=person,
            touchpoint_id=touchpoint.id,
            channel=DeliveryChannel.EMAIL,
            payload={"change": change, "method": method, "sequence": touchpoint.sequence},
        )
    return queued


def invitation_item(
    touchpoint: Touchpoint, *, nudge_id: int, recipient_id: int, timezone: str, settings: NudgeSettings
) -> Item:
    """What the invitation email says around its .ics: what, when (in the reader's zone), a link."""
    from touchpoints.nudges.calendar import event_summary

    summary = event_summary(touchpoint, recipient_id)
    if touchpoint.status is TouchpointStatus.CANCELLED:
        headline = f"Cancelled: {summary}"
    elif touchpoint.sequence > 0:
        headline = f"Updated invitation: {summary}"
    else:
        headline = f"Invitation: {summary}"
    facts = [("When", compose.when(touchpoint.due_at, timezone))]
    if touchpoint.status is not TouchpointStatus.CANCELLED:
        facts.append(("How", touchpoint.planned_mode.label))
    elif touchpoint.status_reason and not (touchpoint.sensitive or touchpoint.kind.is_sensitive):
        facts.append(("Why", touchpoint.status_reason))
    link = settings.link(f"/touchpoints/{touchpoint.id}")
    open_action = Action(compose.OPEN, "Open", link, touchpoint.id)
    return Item(headline, tuple(facts), (open_action,), touchpoint.id, nudge_id)
