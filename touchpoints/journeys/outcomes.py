"""What happens to a touchpoint: logged, rescheduled, missed, confirmed; agendas and private notes.

`log_touchpoint` is the single entry point for recording an outcome, whether it comes from a
page, the API or a chat button. Human-touch policies plug in through `register_log_check`: every
registered check runs inside `log_touchpoint`, before anything is written, and may refuse with a
`HumanTouchRefusal` (an HR partner may override it with a written justification). Callbacks
registered with `register_after_log` run once the log is written, in the same transaction (the
nudges capability queues the confirmation request there). Callers commit.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from touchpoints.audit.services import record
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.hooks import Hooks
from touchpoints.journeys.access import can_manage_touchpoint, is_participant
from touchpoints.journeys.errors import JourneyValidationError, NotAllowed, TouchpointActionError
from touchpoints.journeys.models import (
    AgendaItem,
    Confirmation,
    Mode,
    OwnerRole,
    PrivateNote,
    Touchpoint,
    TouchpointKind,
    TouchpointStatus,
)
from touchpoints.people.access import can_view_employee
from touchpoints.people.models import Employee

CLOCK_SKEW = timedelta(minutes=5)  # a phone's clock a little ahead is not "in the future"
MAX_NOTE = 10_000
MAX_AGENDA_ITEM = 500


@dataclass(frozen=True)
class LogAttempt:
    """What someone is about to record; what a human-touch check gets to judge."""

    touchpoint: Touchpoint
    actual_mode: Mode
    happened_at: datetime
    actor: object  # the signed-in User (roles: is_hr, is_manager; employee_id)
    justification: str | None


LogCheck = Callable[[LogAttempt], None]
_log_checks: Hooks[LogCheck] = Hooks()


@dataclass(frozen=True)
class PlanAttempt:
    """A touchpoint about to be planned (built, not yet saved); what a human-touch check judges."""

    touchpoint: Touchpoint
    actor: object
    justification: str | None


PlanCheck = Callable[[PlanAttempt], None]
_plan_checks: Hooks[PlanCheck] = Hooks()


def register_plan_check(check: PlanCheck) -> PlanCheck:
    """Add a check every plan_touchpoint call runs before saving (usable as a decorator); idempotent."""
    return _plan_checks.register(check)


def register_log_check(check: LogCheck) -> LogCheck:
    """Add a check every log_touchpoint call runs first (usable as a decorator); idempotent."""
    return _log_checks.register(check)


def log_checks() -> tuple[LogCheck, ...]:
    """The checks currently registered, in order."""
    return tuple(_log_checks)


# Called with a touchpoint before anyone logs or plans it: for each mode that a rule would refuse or
# frown on, a sentence saying so, shown beside that mode (human-touch policies register one).
ModeAdvice = Callable[[Touchpoint], dict[Mode, str]]
_mode_advisers: Hooks[ModeAdvice] = Hooks()


def register_mode_advice(adviser: ModeAdvice) -> ModeAdvice:
    """Add an adviser the log page asks about each mode (usable as a decorator); idempotent."""
    return _mode_advisers.register(adviser)


def mode_advice(touchpoint: Touchpoint) -> dict[Mode, str]:
    """What the registered advisers say about logging this touchpoint in each mode."""
    advice: dict[Mode, list[str]] = {}
    for adviser in _mode_advisers:
        for mode, sentence in adviser(touchpoint).items():
            advice.setdefault(mode, []).append(sentence)
    return {mode: " ".join(sentences) for mode, sentences in advice.items()}


# Called with (touchpoint, actor) once a log is written, in the same transaction (the caller commits).
AfterLog = Callable[[Touchpoint, object], None]
_after_log: Hooks[AfterLog] = Hooks()


def register_after_log(callback: AfterLog) -> AfterLog:
    """Add a callback every log_touchpoint call runs after writing (usable as a decorator); idempotent.

    The nudges capability queues the confirmation request to the other person this way, so a log
    from any channel (page, API, Slack, Teams, email link) asks exactly once.
    """
    return _after_log.register(callback)


def after_log_hooks() -> tuple[AfterLog, ...]:
    """The after-log callbacks currently registered, in order."""
    return tuple(_after_log)


# Called with (touchpoint, change) once a touchpoint was planned, rescheduled or cancelled by someone,
# in the same transaction (calendar invitations follow the change this way). The caller commits.
ScheduleChange = Callable[[Touchpoint, str], None]
_after_schedule_change: Hooks[ScheduleChange] = Hooks()
PLANNED, RESCHEDULED, CANCELLED = "planned", "rescheduled", "cancelled"


def register_after_schedule_change(callback: ScheduleChange) -> ScheduleChange:
    """Add a callback run after every plan, reschedule and cancel of a touchpoint; idempotent."""
    return _after_schedule_change.register(callback)


def _schedule_changed(touchpoint: Touchpoint, change: str) -> None:
    for callback in _after_schedule_change:
        callback(touchpoint, change)


# Called with (enrolment ids, created_at) once enrolment or the horizon extension wrote touchpoints in
# bulk: the new rows are those of these enrolments stamped with that created_at. Same transaction, so
# whatever a callback queues (calendar invitations) commits or rolls back with the rows themselves.
BulkCreated = Callable[[Sequence[int], datetime], None]
_after_bulk_create: Hooks[BulkCreated] = Hooks()


def register_after_bulk_create(callback: BulkCreated) -> BulkCreated:
    """Add a callback run after journeys materialise touchpoints in bulk; idempotent."""
    return _after_bulk_create.register(callback)


def touchpoints_created(enrolment_ids: Sequence[int], created_at: datetime) -> None:
    """Tell the registered callbacks that these enrolments got touchpoints stamped `created_at`."""
    if not enrolment_ids:
        return
    for callback in _after_bulk_create:
        callback(enrolment_ids, created_at)


def _parse_mode(value: Mode | str) -> Mode:
    if isinstance(value, Mode):
        return value
    try:
        return Mode(str(value or "").strip().lower())
    except ValueError:
        allowed = ", ".join(m.value for m in Mode)
        raise JourneyValidationError({"actual_mode": f"Choose how it happened ({allowed})."}) from None


def _require_open(touchpoint: Touchpoint, doing: str) -> None:
    if touchpoint.status is TouchpointStatus.DONE:
        raise TouchpointActionError(f"This {touchpoint.kind.label.lower()} was already logged as done; "
                                    f"it cannot be {doing}.")
    if touchpoint.status is TouchpointStatus.CANCELLED:
        raise TouchpointActionError(
            f"This {touchpoint.kind.label.lower()} was cancelled; it cannot be {doing}.")


def _touch(touchpoint: Touchpoint) -> None:
    touchpoint.sequence += 1
    touchpoint.updated_at = utcnow()


def log_touchpoint(touchpoint: Touchpoint, *, actual_mode: Mode | str, happened_at: datetime | None = None,
                   note: str | None = None, actor, justification: str | None = None) -> Touchpoint:
    """Record that a touchpoint took place: how, when, and an optional private note for the logger.

    A touchpoint marked missed may still be logged (it happened late). The other side is asked
    to confirm unless the person themself logged it.
    """
    if not can_manage_touchpoint(actor, touchpoint):
        raise NotAllowed("Only the owner, the person's managers or HR can log this touchpoint.")
    _require_open(touchpoint, "logged again")
    mode = _parse_mode(actual_mode)
    now = utcnow()
    happened_at = happened_at or now
    if happened_at.tzinfo is None:
        raise JourneyValidationError({"happened_at": "Give the time with its time zone."})
    if happened_at > now + CLOCK_SKEW:
        raise JourneyValidationError({"happened_at": "That is in the future: log a touchpoint once it "
                                                     "has taken place."})
    if note is not None and len(note) > MAX_NOTE:
        raise JourneyValidationError({"note": f"Keep the note under {MAX_NOTE:,} characters."})
    justification = (justification or "").strip() or None

    # Human-touch policies decide here, before anything is written.
    attempt = LogAttempt(touchpoint, mode, happened_at, actor, justification)
    for check in _log_checks:
        check(attempt)

    before = {"status": touchpoint.status.value, "actual_mode": None}
    touchpoint.status = TouchpointStatus.DONE
    touchpoint.status_reason = ""
    touchpoint.actual_mode = mode
    touchpoint.happened_at = happened_at
    touchpoint.logged_by_id = actor.employee_id
    touchpoint.logged_at = now
    if actor.employee_id == touchpoint.employee_id:
        touchpoint.confirmation, touchpoint.confirmed_at = Confirmation.CONFIRMED, now
    else:
        touchpoint.confirmation, touchpoint.confirmed_at = Confirmation.PENDING, None
    _touch(touchpoint)
    if note and note.strip():
        _append_note(touchpoint, actor.employee_id, note.strip())
    record("touchpoint.logged", "touchpoint", touchpoint.id, actor_id=actor.id,
           summary=f"Logged {touchpoint.title} for employee {touchpoint.employee_id} as {mode.label.lower()}",
           before=before,
           after={"status": "done", "actual_mode": mode.value, "happened_at": happened_at.isoformat(),
                  "planned_mode": touchpoint.planned_mode.value},
           justification=justification)
    db.session.flush()
    for callback in _after_log:
        callback(touchpoint, actor)
    return touchpoint


def reschedule(touchpoint: Touchpoint, *, due_at: datetime, actor, reason: str = "") -> Touchpoint:
    """Move a touchpoint (open or missed) to another time; it becomes scheduled and invites update."""
    if not can_manage_touchpoint(actor, touchpoint):
        raise NotAllowed("Only the owner, the person's managers or HR can reschedule this touchpoint.")
    _require_open(touchpoint, "rescheduled")
    if due_at.tzinfo is None:
        raise JourneyValidationError({"due_at": "Give the time with its time zone."})
    if due_at < utcnow() - CLOCK_SKEW:
        raise JourneyValidationError({"due_at": "Choose a time from now on; log it instead if it "
                                                "already happened."})
    before = touchpoint.due_at
    touchpoint.due_at = due_at
    touchpoint.status = TouchpointStatus.SCHEDULED
    touchpoint.status_reason = ""
    _touch(touchpoint)
    record("touchpoint.rescheduled", "touchpoint", touchpoint.id, actor_id=actor.id,
           summary=f"Rescheduled {touchpoint.title}" + (f": {reason.strip()}" if reason.strip() else ""),
           before={"due_at": before.isoformat()}, after={"due_at": due_at.isoformat()})
    db.session.flush()
    _schedule_changed(touchpoint, RESCHEDULED)
    return touchpoint


def mark_missed(touchpoint: Touchpoint, *, actor, reason: str = "") -> Touchpoint:
    """Record that a touchpoint did not happen at its time."""
    if not can_manage_touchpoint(actor, touchpoint):
        raise NotAllowed("Only the owner, the person's managers or HR can mark this touchpoint missed.")
    _require_open(touchpoint, "marked missed")
    if touchpoint.status is TouchpointStatus.MISSED:
        return touchpoint
    if touchpoint.due_at > utcnow():
        raise TouchpointActionError("This touchpoint is not due yet: reschedule or cancel it instead.")
    touchpoint.status = TouchpointStatus.MISSED
    touchpoint.status_reason = reason.strip()[:200]
    _touch(touchpoint)
    record("touchpoint.missed", "touchpoint", touchpoint.id, actor_id=actor.id,
           summary=f"Marked {touchpoint.title} missed" + (f": {reason.strip()}" if reason.strip() else ""))
    db.session.flush()
    return touchpoint


def cancel_touchpoint(touchpoint: Touchpoint, *, actor, reason: str) -> Touchpoint:
    """Call off an open touchpoint, saying why."""
    if not can_manage_touchpoint(actor, touchpoint):
        raise NotAllowed("Only the owner, the person's managers or HR can cancel this touchpoint.")
    _require_open(touchpoint, "cancelled")
    if not reason or not reason.strip():
        raise JourneyValidationError({"reason": "Say why it is cancelled."})
    touchpoint.status = TouchpointStatus.CANCELLED
    touchpoint.status_reason = reason.strip()[:200]
    _touch(touchpoint)
    record("touchpoint.cancelled", "touchpoint", touchpoint.id, actor_id=actor.id,
           summary=f"Cancelled {touchpoint.title}: {reason.strip()}")
    db.session.flush()
    _schedule_changed(touchpoint, CANCELLED)
    return touchpoint


def confirm_touchpoint(touchpoint: Touchpoint, *, actor, took_place: bool, comment: str = "") -> Touchpoint:
    """The person concerned says whether a logged touchpoint really took place."""
    if actor.employee_id != touchpoint.employee_id:
        raise NotAllowed("Only the person it was with can confirm a touchpoint.")
    if touchpoint.status is not TouchpointStatus.DONE:
        raise TouchpointActionError("Only a touchpoint logged as done can be confirmed.")
    if touchpoint.confirmation is not Confirmation.PENDING:
        raise TouchpointActionError(f"You already answered: {touchpoint.confirmation.label.lower()}.")
    if len(comment or "") > 2000:
        raise JourneyValidationError({"comment": "Keep the comment under 2,000 characters."})
    if not took_place and not (comment or "").strip():
        raise JourneyValidationError(
            {"comment": "Say briefly what happened instead, so HR can follow up."})
    touchpoint.confirmation = Confirmation.CONFIRMED if took_place else Confirmation.DISPUTED
    touchpoint.confirmed_at = utcnow()
    touchpoint.confirmation_comment = (comment or "").strip()
    touchpoint.updated_at = utcnow()
    record("touchpoint.confirmed" if took_place else "touchpoint.disputed", "touchpoint", touchpoint.id,
           actor_id=actor.id,
           summary=("Confirmed " if took_place else "Said this did not take place: ") + touchpoint.title,
           after={"confirmation": touchpoint.confirmation.value})
    db.session.flush()
    return touchpoint


def plan_touchpoint(employee: Employee, *, kind: TouchpointKind | str, title: str,
                    planned_mode: Mode | str, due_at: datetime, owner: Employee | None, actor,
                    duration_minutes: int = 30, justification: str | None = None) -> Touchpoint:
    """Add a one-off touchpoint outside any journey (a coffee chat, a return-to-work talk).

    Registered plan checks (human-touch policies) judge it first and may refuse with a
    HumanTouchRefusal; an HR partner may override with a written justification.
    """
    errors: dict[str, str] = {}
    try:
        kind = TouchpointKind(kind) if not isinstance(kind, TouchpointKind) else kind
    except ValueError:
        errors["kind"] = f"'{kind}' is not a touchpoint kind."
    try:
        planned_mode = _parse_mode(planned_mode)
    except JourneyValidationError:
        errors["planned_mode"] = f"'{planned_mode}' is not a mode."
    title = (title or "").strip()
    if not title or len(title) > 200:
        errors["title"] = "Give a title of at most 200 characters."
    if due_at.tzinfo is None:
        errors["due_at"] = "Give the time with its time zone."
    if not 5 <= int(duration_minutes) <= 480:
        errors["duration_minutes"] = "The duration must be between 5 and 480 minutes."
    if errors:
        raise JourneyValidationError(errors)
    owner = owner or actor.employee
    if not actor.is_hr and (owner.id != actor.employee_id or not can_view_employee(actor, employee.id)
                            or kind.hr_only):
        raise NotAllowed("You can plan touchpoints you run yourself with people you look after.")
    if owner.id == employee.id:
        role = OwnerRole.EMPLOYEE
    elif owner.id == employee.manager_id or not actor.is_hr:
        role = OwnerRole.MANAGER
    else:
        role = OwnerRole.HR_PARTNER
    now = utcnow()
    touchpoint = Touchpoint(
        employee_id=employee.id, kind=kind, title=title, planned_mode=planned_mode, owner_role=role,
        owner_id=owner.id, due_at=due_at, duration_minutes=int(duration_minutes),
        sensitive=kind.is_sensitive, status=TouchpointStatus.SCHEDULED, occurrence=0,
        created_at=now, updated_at=now,
    )
    attempt = PlanAttempt(touchpoint, actor, (justification or "").strip() or None)
    for check in _plan_checks:
        check(attempt)
    db.session.add(touchpoint)
    db.session.flush()
    record("touchpoint.planned", "touchpoint", touchpoint.id, actor_id=actor.id,
           summary=f"Planned {title} with {employee.full_name}")
    _schedule_changed(touchpoint, PLANNED)
    return touchpoint


# ---------------------------------------------------------------- agenda and private notes


def add_agenda_item(touchpoint: Touchpoint, *, actor, text: str) -> AgendaItem:
    """Add a talking point to an upcoming touchpoint; both sides see it."""
    if not (is_participant(actor, touchpoint) or can_manage_touchpoint(actor, touchpoint)):
        raise NotAllowed("Only the two people meeting can add to this agenda.")
    if not touchpoint.is_open:
        raise TouchpointActionError("The agenda closes once the touchpoint is over.")
    text = (text or "").strip()
    if not text:
        raise JourneyValidationError({"text": "Write the talking point."})
    if len(text) > MAX_AGENDA_ITEM:
        raise JourneyValidationError({"text": f"Keep a talking point under {MAX_AGENDA_ITEM} characters."})
    item = AgendaItem(touchpoint=touchpoint, author_id=actor.employee_id, text=text)
    db.session.add(item)
    db.session.flush()
    return item


def set_agenda_item_done(item: AgendaItem, *, actor, done: bool) -> AgendaItem:
    """Tick a talking point off (or back on)."""
    if not (is_participant(actor, item.touchpoint) or can_manage_touchpoint(actor, item.touchpoint)):
        raise NotAllowed("Only the two people meeting can change this agenda.")
    item.done = bool(done)
    db.session.flush()
    return item


def remove_agenda_item(item: AgendaItem, *, actor) -> None:
    """Take back a talking point one added, before the meeting."""
    if item.author_id != actor.employee_id:
        raise NotAllowed("Only its author can remove a talking point.")
    if not item.touchpoint.is_open:
        raise TouchpointActionError("The agenda closes once the touchpoint is over.")
    db.session.delete(item)
    db.session.flush()


def _append_note(touchpoint: Touchpoint, author_id: int, text: str) -> PrivateNote:
    note = private_note_for(touchpoint.id, author_id)
    if note is None:
        note = PrivateNote(touchpoint_id=touchpoint.id, author_id=author_id, body=text)
        db.session.add(note)
    else:
        note.body = f"{note.body.rstrip()}\n\n{text}" if note.body.strip() else text
    return note


def save_private_note(touchpoint: Touchpoint, *, actor, body: str) -> PrivateNote:
    """Save one's own private note on a touchpoint (replacing the previous text); only its author reads it."""
    if not (is_participant(actor, touchpoint) or can_manage_touchpoint(actor, touchpoint)):
        raise NotAllowed("Only people taking part can keep notes on this touchpoint.")
    body = body or ""
    if len(body) > MAX_NOTE:
        raise JourneyValidationError({"body": f"Keep the note under {MAX_NOTE:,} characters."})
    note = private_note_for(touchpoint.id, actor.employee_id)
    if note is None:
        note = PrivateNote(touchpoint_id=touchpoint.id, author_id=actor.employee_id, body=body)
        db.session.add(note)
    else:
        note.body = body
    db.session.flush()
    return note


def private_note_for(touchpoint_id: int, author_id: int) -> PrivateNote | None:
    """The note this author keeps on this touchpoint, if any."""
    return db.session.scalar(select(PrivateNote).where(PrivateNote.touchpoint_id == touchpoint_id,
                                                       PrivateNote.author_id == author_id))
