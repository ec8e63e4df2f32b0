"""Calendar invitations by email: planned, moved and cancelled one-on-ones and check-ins.

When a touchpoint of an invite kind is planned, rescheduled or cancelled (the journeys services'
`register_after_schedule_change`), both people get an email with the .ics invitation, through the
outbox, in the same transaction as the change. The dedup key carries the touchpoint's SEQUENCE, so
each version is sent once; an invitation overtaken by a later change before it left is not sent.

Touchpoints that journeys write in bulk (enrolment of one person or 10,000, the horizon extension)
get theirs through `register_after_bulk_create`: a set-based read per few thousand enrolments and
one executemany, never a query per row. Only those due within `CALENDAR_INVITE_AHEAD_DAYS` (28)
are invited when created; `invite_upcoming`, a scheduler job, invites the others as they come within
reach, and catches up whatever a set-based change (a replanned series, a new owner, a cancelled
enrolment) or an outage left without its current version. Someone a touchpoint was handed away
from (a new manager, buddy or mentor) gets its cancellation, so it leaves their calendar.

A person may turn calendar invitations off in their notification settings (`preferences`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, cast, exists, literal, or_, select
from sqlalchemy.orm import aliased

from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.models import OPEN_STATUSES, Touchpoint, TouchpointKind, TouchpointStatus
from touchpoints.nudges import compose
from touchpoints.nudges.compose import Action, Item
from touchpoints.nudges.models import DeliveryChannel, DeliveryProfile, Nudge, NudgeKind, NudgeStatus
from touchpoints.nudges.preferences import invites_turned_off
from touchpoints.nudges.services import enqueue, enqueue_many
from touchpoints.nudges.settings import NudgeSettings
from touchpoints.people.models import Employee

CHUNK = 2000  # enrolment ids per IN (...) list


def invitation_key(touchpoint: Touchpoint, person_id: int) -> str:
    """One invitation per version (SEQUENCE) of a touchpoint per person, ever."""
    return _key(touchpoint.id, touchpoint.sequence, person_id)


def _key(touchpoint_id: int, sequence: int, person_id: int) -> str:
    return f"invite:{touchpoint_id}:{sequence}:{person_id}"


def _row(touchpoint_id: int, sequence: int, person_id: int, *, change: str, method: str,
         now: datetime) -> dict[str, Any]:
    """The outbox row of one invitation (or cancellation) of one version to one person."""
    return {
        "dedup_key": _key(touchpoint_id, sequence, person_id), "kind": NudgeKind.CALENDAR_INVITE,
        "recipient_id": person_id, "touchpoint_id": touchpoint_id, "channel": DeliveryChannel.EMAIL,
        "payload": {"at": now.isoformat(), "change": change, "method": method, "sequence": sequence},
        "next_attempt_at": now,
    }


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
    from touchpoints.nudges.calendar import cancelled_for, event_summary

    summary = event_summary(touchpoint, recipient_id)
    cancelled = touchpoint.status is TouchpointStatus.CANCELLED
    if not cancelled and cancelled_for(touchpoint, recipient_id):
        # Someone else runs it now (a new manager, buddy or mentor): off this person's calendar.
        owner = touchpoint.owner.full_name if touchpoint.owner is not None else "someone else"
        return Item(f"Cancelled for you: {summary}",
                    (("When", compose.when(touchpoint.due_at, timezone)), ("Why", f"{owner} runs it now")),
                    (), touchpoint.id, nudge_id)
    if cancelled:
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


# ---------------------------------------------------------------- in bulk


def _key_sql(person_id: Any) -> ColumnElement[str]:
    """`invitation_key` computed in SQL, to find the versions nobody invited yet."""
    return (literal("invite:") + cast(Touchpoint.id, String) + literal(":")
            + cast(Touchpoint.sequence, String) + literal(":") + cast(person_id, String))


def _not_invited(person_id: Any) -> ColumnElement[bool]:
    queued = aliased(Nudge)  # its own alias: the cancellation pass reads the outbox around it too
    return ~exists().where(queued.dedup_key == _key_sql(person_id))


def _invite_kinds() -> list[TouchpointKind]:
    from touchpoints.nudges.calendar import INVITE_KINDS

    return sorted(INVITE_KINDS)


def _candidates(where: ColumnElement[bool]) -> Select:
    """Touchpoints matching `where` with both people's address, state and invitation choice (one query)."""
    person, owner = aliased(Employee), aliased(Employee)
    person_profile, owner_profile = aliased(DeliveryProfile), aliased(DeliveryProfile)
    return (
        select(Touchpoint.id, Touchpoint.sequence, Touchpoint.status,
               Touchpoint.employee_id, person.email, person.deactivated_at.is_(None),
               person_profile.calendar_invites,
               Touchpoint.owner_id, owner.email, owner.deactivated_at.is_(None),
               owner_profile.calendar_invites)
        .join(person, person.id == Touchpoint.employee_id)
        .outerjoin(owner, owner.id == Touchpoint.owner_id)
        .outerjoin(person_profile, person_profile.employee_id == Touchpoint.employee_id)
        .outerjoin(owner_profile, owner_profile.employee_id == Touchpoint.owner_id)
        .where(Touchpoint.kind.in_(_invite_kinds()), where)
    )


def _rows(statement: Select, *, change: str, now: datetime) -> list[dict[str, Any]]:
    """Outbox rows for each reachable person of each touchpoint read.

    Reachable: an address, still here, and invitations not turned off (no profile means on).
    Plain tuples rather than objects per person: a bulk enrolment reads tens of thousands of rows.
    """
    rows: list[dict[str, Any]] = []
    for tp_id, sequence, status, *people in db.session.execute(statement):
        method = "CANCEL" if status is TouchpointStatus.CANCELLED else "REQUEST"
        invited: set[int] = set()
        for person_id, email, active, wants in (people[0:4], people[4:8]):
            if person_id is None or person_id in invited or not email or not active or wants is False:
                continue
            invited.add(person_id)
            rows.append(_row(tp_id, sequence, person_id, change=change, method=method, now=now))
    return rows


def queue_for_created(enrolment_ids: Sequence[int], created_at: datetime, *,
                      settings: NudgeSettings | None = None) -> int:
    """Invite both people to the one-on-ones and check-ins journeys just wrote for these enrolments.

    Only those still ahead and due within the invitation window; the rest are `invite_upcoming`'s.
    Nothing is queued while email is not set up (the job catches up once it is). Caller commits.
    """
    settings = settings or NudgeSettings.current()
    if not settings.email_enabled or not enrolment_ids:
        return 0
    now = utcnow()
    until = now + timedelta(days=settings.invite_ahead_days)
    ids = sorted(set(enrolment_ids))
    rows: list[dict[str, Any]] = []
    for start in range(0, len(ids), CHUNK):
        # No condition on the status: these rows were just written, planned. With one, SQLite reads
        # the whole company's window through the (status, due) index instead of these enrolments'.
        rows.extend(_rows(_candidates(and_(
            Touchpoint.enrolment_id.in_(ids[start:start + CHUNK]), Touchpoint.created_at == created_at,
            Touchpoint.due_at > now, Touchpoint.due_at <= until,
        )), change="planned", now=now))
    return enqueue_many(rows)


def _cancellations(within: ColumnElement[bool], now: datetime) -> list[dict[str, Any]]:
    """Cancellations owed to people who were sent a version of an event that is now off for them.

    Off: cancelled without its cancellation going out (an ended enrolment, a person who left), or
    handed to someone else (a new manager, buddy or mentor), so the old holder's calendar drops it.
    """
    holder, profile = aliased(Employee), aliased(DeliveryProfile)
    stale = db.session.execute(
        select(Touchpoint.id, Touchpoint.sequence, Nudge.recipient_id).distinct()
        .join(Nudge, and_(Nudge.touchpoint_id == Touchpoint.id, Nudge.kind == NudgeKind.CALENDAR_INVITE,
                          Nudge.status == NudgeStatus.SENT))
        .join(holder, holder.id == Nudge.recipient_id)
        .outerjoin(profile, profile.employee_id == Nudge.recipient_id)
        .where(within, Touchpoint.kind.in_(_invite_kinds()), _not_invited(Nudge.recipient_id),
               holder.deactivated_at.is_(None), holder.email != "", profile.calendar_invites.is_not(False),
               or_(Touchpoint.status == TouchpointStatus.CANCELLED,
                   and_(Touchpoint.status.in_(OPEN_STATUSES), Nudge.recipient_id != Touchpoint.employee_id,
                        or_(Touchpoint.owner_id.is_(None), Nudge.recipient_id != Touchpoint.owner_id))))
    ).all()
    return [_row(tp_id, sequence, person_id, change="cancelled", method="CANCEL", now=now)
            for tp_id, sequence, person_id in stale]


def invite_upcoming(*, now: datetime | None = None, settings: NudgeSettings | None = None) -> dict[str, int]:
    """The scheduler's invitation pass: every version of a touchpoint within reach is sent once.

    Invites both people to open one-on-ones and check-ins due within the window whose current
    version (SEQUENCE) has not been queued for them: those planned far ahead as they come within
    reach, and those a set-based change moved or handed over. Sends the cancellation to whoever was
    sent a version of one now off for them: cancelled in bulk (an ended enrolment, a person who
    left) or handed to someone else (a new manager). Safe to run late or twice (dedup keys);
    commits its own work.
    """
    settings = settings or NudgeSettings.current()
    if not settings.email_enabled:
        return {"invitations": 0, "cancellations": 0}
    now = now or utcnow()
    until = now + timedelta(days=settings.invite_ahead_days)
    within = and_(Touchpoint.due_at > now, Touchpoint.due_at <= until)
    try:
        invited = enqueue_many(_rows(_candidates(and_(
            within, Touchpoint.status.in_(OPEN_STATUSES),
            or_(_not_invited(Touchpoint.employee_id),
                and_(Touchpoint.owner_id.is_not(None), _not_invited(Touchpoint.owner_id))),
        )), change="planned", now=now))
        cancelled = enqueue_many(_cancellations(within, now))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return {"invitations": invited, "cancellations": cancelled}
