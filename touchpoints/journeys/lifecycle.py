"""Lifecycle events and what they do to a person's touchpoints.

hire -> enrol in the journeys that take new hires; start -> onboarding begins; start date moved ->
open touchpoints anchored on it move; manager change -> the old manager's open touchpoints go to
the new one (or the HR partner when there is none); leave -> recurring series pause; return ->
they resume; exit date set -> offboarding; exit -> alumni, open touchpoints cancelled, what the
leaver owned handed on; rehire -> a fresh onboarding. Each event lands on the person's timeline
(LifecycleEvent) and in the audit log. Callers commit.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, insert, or_, select, update

from touchpoints.audit.services import record
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.enrolment import (
    OwnerResolver,
    cancel_open,
    enrol,
    enrolments_of,
    journeys_enrolling_on,
    load_facts,
    materialise,
    reassign_owner,
    replan_open_touchpoints,
)
from touchpoints.journeys.errors import JourneyError, JourneyValidationError
from touchpoints.journeys.models import (
    OPEN_STATUSES,
    Anchor,
    Enrolment,
    EnrolmentStatus,
    EnrolTrigger,
    LifecycleEvent,
    LifecycleEventKind,
    OwnerRole,
    SupportAssignment,
    SupportKind,
    Touchpoint,
    TouchpointStatus,
)
from touchpoints.people.models import Employee, LifecycleStatus, Team

ON_LEAVE_REASON = "on_leave"
ONE_DAY = timedelta(days=1)


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def record_lifecycle_event(employee: Employee, kind: LifecycleEventKind, *, effective_on: date | None = None,
                           actor_id: int | None, details: Mapping[str, Any] | None = None,
                           today: date | None = None) -> LifecycleEvent:
    """Record a lifecycle event for a person and apply its consequences to their record and touchpoints.

    `details` carries what the event needs: {"start_date"} for start_date_moved, {"manager_id"}
    for manager_change, {"exit_date"} for exit_date_set, {"hire_date", "start_date"} for rehire,
    {"expected_return"} for leave. Values already on the record are fine: the rules read the
    record after applying them, so the people service may change the field first and then call in.
    """
    details = dict(details or {})
    today = today or utcnow().date()
    effective_on = effective_on or today
    handler = _HANDLERS[kind]
    outcome = handler(employee, effective_on, details, actor_id, today) or {}
    db.session.flush()
    stored = {k: _iso(v) for k, v in {**details, **outcome}.items()}
    event = LifecycleEvent(employee_id=employee.id, kind=kind, effective_on=effective_on,
                           details=stored, recorded_by_id=actor_id)
    db.session.add(event)
    record(f"lifecycle.{kind.value}", "employee", employee.id, actor_id=actor_id,
           summary=f"{kind.label}: {employee.full_name} ({effective_on.isoformat()})", after=stored)
    db.session.flush()
    return event


def _parse_date(value: Any, name: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise JourneyValidationError({name: f"'{value}' is not a date in the form YYYY-MM-DD."}) from None


def _moment(today: date) -> datetime:
    """Now, or the start of `today` when the rules are applied as of another day (imports, tests)."""
    now = utcnow()
    return now if today == now.date() else _start_of(today)


def _enrol_by_rule(employee: Employee, trigger: EnrolTrigger, actor_id: int | None, today: date) -> list[int]:
    enrolled = []
    for journey in journeys_enrolling_on(trigger):
        enrolment = enrol(employee, journey, actor_id=actor_id, source=f"rule:{trigger.value}", today=today,
                          enrolled_at=_moment(today))
        enrolled.append(enrolment.id)
    return enrolled


def _on_hire(employee: Employee, effective_on: date, details: dict, actor_id: int | None,
             today: date) -> dict:
    for name in ("hire_date", "start_date"):
        if name in details:
            setattr(employee, name, _parse_date(details[name], name))
    if employee.hire_date is None:
        employee.hire_date = effective_on
    if employee.status is LifecycleStatus.ACTIVE and (employee.start_date or effective_on) > today:
        employee.status = LifecycleStatus.PRE_BOARDING
    db.session.flush()
    return {"enrolments": _enrol_by_rule(employee, EnrolTrigger.HIRE, actor_id, today)}


def _on_start(employee: Employee, effective_on: date, details: dict, actor_id: int | None,
              today: date) -> dict:
    if employee.start_date is None:
        employee.start_date = effective_on
    if employee.status is LifecycleStatus.PRE_BOARDING:
        employee.status = LifecycleStatus.ONBOARDING
    return {}


def _on_start_date_moved(employee: Employee, effective_on: date, details: dict, actor_id: int | None,
                         today: date) -> dict:
    new = _parse_date(details.get("start_date"), "start_date") or employee.start_date
    if new is None:
        raise JourneyValidationError({"start_date": "Give the new start date."})
    previous = details.get("previous_start_date") or _iso(employee.start_date)
    employee.start_date = new
    anchors = {Anchor.START_DATE} | ({Anchor.HIRE_DATE} if employee.hire_date is None else set())
    moved = replan_open_touchpoints(employee, anchors, today=today)
    created = materialise([e.id for e in enrolments_of(employee.id)], today=today)
    return {"previous_start_date": previous, "start_date": new, "moved_touchpoints": moved,
            "created_touchpoints": created}


def _on_manager_change(employee: Employee, effective_on: date, details: dict, actor_id: int | None,
                       today: date) -> dict:
    from touchpoints.people.services import would_create_cycle

    if "manager_id" in details:
        new_id = details["manager_id"]
        if new_id is not None and db.session.get(Employee, new_id) is None:
            raise JourneyValidationError({"manager_id": "That manager does not exist."})
        if would_create_cycle(employee.id, new_id):
            raise JourneyValidationError({"manager_id": "That would make a reporting loop."})
        previous = details.get("previous_manager_id", employee.manager_id)
        employee.manager_id = new_id
    else:
        previous = details.get("previous_manager_id")
    db.session.flush()
    facts = load_facts([employee.id])
    new_owner = OwnerResolver(facts, today=today).owner(facts[employee.id], OwnerRole.MANAGER)
    # Whatever the line held for this person follows the line: the old manager's, or the HR
    # partner's stand-in ownership while there was no manager.
    moved = reassign_owner(
        and_(Touchpoint.employee_id == employee.id, Touchpoint.owner_role == OwnerRole.MANAGER,
             or_(Touchpoint.owner_id.is_(None), Touchpoint.owner_id != new_owner)
             if new_owner is not None else Touchpoint.owner_id.is_not(None)),
        new_owner,
    )
    return {"previous_manager_id": previous, "manager_id": employee.manager_id, "owner_id": new_owner,
            "moved_touchpoints": moved}


def _on_leave(employee: Employee, effective_on: date, details: dict, actor_id: int | None,
              today: date) -> dict:
    if employee.status is LifecycleStatus.ON_LEAVE and "previous_status" not in details:
        raise JourneyError(f"{employee.full_name} is already on leave.")
    previous = details.get("previous_status") or employee.status.value
    employee.status = LifecycleStatus.ON_LEAVE
    paused = cancel_open(
        and_(Touchpoint.employee_id == employee.id, Touchpoint.occurrence > 0,
             Touchpoint.due_at >= _start_of(effective_on)),
        reason=ON_LEAVE_REASON,
    )
    return {"previous_status": previous, "paused_touchpoints": paused,
            "expected_return": _parse_date(details.get("expected_return"), "expected_return")}


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def _on_return(employee: Employee, effective_on: date, details: dict, actor_id: int | None,
               today: date) -> dict:
    if employee.status is not LifecycleStatus.ON_LEAVE:
        raise JourneyError(f"{employee.full_name} is not on leave.")
    last_leave = db.session.scalar(
        select(LifecycleEvent).where(LifecycleEvent.employee_id == employee.id,
                                     LifecycleEvent.kind == LifecycleEventKind.LEAVE)
        .order_by(LifecycleEvent.recorded_at.desc(), LifecycleEvent.id.desc()))
    previous = (last_leave.details or {}).get("previous_status") if last_leave else None
    employee.status = LifecycleStatus(previous) if previous and previous != "on_leave" \
        else LifecycleStatus.ACTIVE
    # Occurrences that fell inside the leave stay cancelled; those from the return on resume.
    resumed = db.session.execute(
        update(Touchpoint).where(Touchpoint.employee_id == employee.id,
                                 Touchpoint.status == TouchpointStatus.CANCELLED,
                                 Touchpoint.status_reason == ON_LEAVE_REASON,
                                 Touchpoint.due_at >= _start_of(effective_on))
        .values(status=TouchpointStatus.PLANNED, status_reason="", sequence=Touchpoint.sequence + 1,
                updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount or 0
    db.session.flush()
    created = materialise([e.id for e in enrolments_of(employee.id)], today=today)
    return {"status": employee.status.value, "resumed_touchpoints": resumed, "created_touchpoints": created}


def _on_exit_date_set(employee: Employee, effective_on: date, details: dict, actor_id: int | None,
                      today: date) -> dict:
    exit_date = _parse_date(details.get("exit_date"), "exit_date") or employee.exit_date
    if exit_date is None:
        raise JourneyValidationError({"exit_date": "Give the exit date."})
    if employee.start_date and exit_date < employee.start_date:
        raise JourneyValidationError({"exit_date": "The exit date cannot be before the start date."})
    previous = details.get("previous_exit_date") or _iso(employee.exit_date)
    employee.exit_date = exit_date
    if employee.status is not LifecycleStatus.ALUMNI:
        employee.status = LifecycleStatus.OFFBOARDING
    db.session.flush()
    # Nothing is planned for after someone's last day; what hangs on the exit date follows it.
    after_exit = cancel_open(
        and_(Touchpoint.employee_id == employee.id, Touchpoint.anchor != Anchor.EXIT_DATE,
             Touchpoint.due_at >= _start_of(exit_date + ONE_DAY)),
        reason="after_exit_date",
    )
    moved = replan_open_touchpoints(employee, {Anchor.EXIT_DATE}, today=today)
    enrolled = _enrol_by_rule(employee, EnrolTrigger.EXIT_DATE_SET, actor_id, today)
    created = materialise([e.id for e in enrolments_of(employee.id)], today=today)
    return {"previous_exit_date": previous, "exit_date": exit_date, "cancelled_touchpoints": after_exit,
            "moved_touchpoints": moved, "enrolments": enrolled, "created_touchpoints": created}


def _on_exit(employee: Employee, effective_on: date, details: dict, actor_id: int | None,
             today: date) -> dict:
    employee.exit_date = employee.exit_date or effective_on
    employee.status = LifecycleStatus.ALUMNI
    now = utcnow()
    cancelled = cancel_open(Touchpoint.employee_id == employee.id, reason="exit", now=now)
    ended = db.session.execute(
        update(Enrolment).where(Enrolment.employee_id == employee.id,
                                Enrolment.status == EnrolmentStatus.ACTIVE)
        .values(status=EnrolmentStatus.ENDED, ended_at=now, end_reason="Left the company")
        .execution_options(synchronize_session=False)
    ).rowcount or 0
    db.session.execute(
        update(SupportAssignment).where(
            or_(SupportAssignment.employee_id == employee.id, SupportAssignment.partner_id == employee.id),
            SupportAssignment.ended_on.is_(None))
        .values(ended_on=effective_on).execution_options(synchronize_session=False))
    db.session.flush()
    handed_on = hand_on_owned_touchpoints(employee.id, today=today)
    return {"cancelled_touchpoints": cancelled, "ended_enrolments": ended, "handed_on_touchpoints": handed_on}


def hand_on_owned_touchpoints(owner_id: int, *, today: date | None = None) -> int:
    """Give the open touchpoints a departing person owned for others to whoever owns them now."""
    today = today or utcnow().date()
    owned = list(db.session.scalars(
        select(Touchpoint).where(Touchpoint.owner_id == owner_id, Touchpoint.employee_id != owner_id,
                                 Touchpoint.status.in_(OPEN_STATUSES))))
    if not owned:
        return 0
    facts = load_facts({t.employee_id for t in owned})
    resolver = OwnerResolver(facts, today=today)
    resolver.active.discard(owner_id)
    resolver.hr_partners = [i for i in resolver.hr_partners if i != owner_id]
    now = utcnow()
    for tp in owned:
        tp.owner_id = resolver.owner(facts[tp.employee_id], tp.owner_role)
        tp.sequence += 1
        tp.updated_at = now
    return len(owned)


def _on_rehire(employee: Employee, effective_on: date, details: dict, actor_id: int | None,
               today: date) -> dict:
    if employee.status is not LifecycleStatus.ALUMNI:
        raise JourneyError(f"{employee.full_name} has not left; only a former employee can be rehired.")
    previous = {"hire_date": _iso(employee.hire_date), "start_date": _iso(employee.start_date),
                "exit_date": _iso(employee.exit_date)}
    employee.hire_date = _parse_date(details.get("hire_date"), "hire_date") or effective_on
    employee.start_date = _parse_date(details.get("start_date"), "start_date") or employee.hire_date
    employee.exit_date = None
    employee.deactivated_at = None
    employee.status = LifecycleStatus.PRE_BOARDING if employee.start_date > today \
        else LifecycleStatus.ONBOARDING
    db.session.flush()
    return {"previous": previous, "hire_date": employee.hire_date, "start_date": employee.start_date,
            "enrolments": _enrol_by_rule(employee, EnrolTrigger.HIRE, actor_id, today)}


_HANDLERS = {
    LifecycleEventKind.HIRE: _on_hire,
    LifecycleEventKind.START: _on_start,
    LifecycleEventKind.START_DATE_MOVED: _on_start_date_moved,
    LifecycleEventKind.MANAGER_CHANGE: _on_manager_change,
    LifecycleEventKind.LEAVE: _on_leave,
    LifecycleEventKind.RETURN: _on_return,
    LifecycleEventKind.EXIT_DATE_SET: _on_exit_date_set,
    LifecycleEventKind.EXIT: _on_exit,
    LifecycleEventKind.REHIRE: _on_rehire,
}


# ---------------------------------------------------------------- hooks the people service calls


def is_new_hire(employee: Employee, *, today: date | None = None) -> bool:
    """Someone joining now (pre-boarding or onboarding, or starting in future), not an existing colleague."""
    today = today or utcnow().date()
    if employee.status in (LifecycleStatus.PRE_BOARDING, LifecycleStatus.ONBOARDING):
        return True
    return employee.status is LifecycleStatus.ACTIVE and employee.start_date is not None \
        and employee.start_date >= today


def on_employee_created(employee: Employee, *, actor_id: int | None) -> LifecycleEvent | None:
    """A person was added: a new hire enters the journeys that take new hires."""
    if not is_new_hire(employee):
        return None
    return record_lifecycle_event(employee, LifecycleEventKind.HIRE,
                                  effective_on=employee.hire_date or utcnow().date(), actor_id=actor_id)


def on_employee_changed(employee: Employee, before: Mapping[str, Any], after: Mapping[str, Any], *,
                        actor_id: int | None) -> list[LifecycleEvent]:
    """A person's record changed (snapshots before and after): record the lifecycle events it implies."""
    events: list[LifecycleEvent] = []
    today = utcnow().date()

    def changed(name: str) -> bool:
        return before.get(name) != after.get(name)

    if changed("start_date") and after.get("start_date") and before.get("start_date"):
        events.append(record_lifecycle_event(
            employee, LifecycleEventKind.START_DATE_MOVED, actor_id=actor_id,
            details={"start_date": after["start_date"], "previous_start_date": before["start_date"]}))
    if changed("manager_id"):
        events.append(record_lifecycle_event(
            employee, LifecycleEventKind.MANAGER_CHANGE, actor_id=actor_id,
            details={"previous_manager_id": before.get("manager_id")}))
    old_status, new_status = before.get("status"), after.get("status")
    if changed("status") and new_status == LifecycleStatus.ON_LEAVE.value:
        events.append(record_lifecycle_event(employee, LifecycleEventKind.LEAVE, actor_id=actor_id,
                                             details={"previous_status": old_status}))
    elif changed("status") and old_status == LifecycleStatus.ON_LEAVE.value \
            and new_status != LifecycleStatus.ALUMNI.value:
        employee.status = LifecycleStatus.ON_LEAVE  # the return rule restores the status itself
        events.append(record_lifecycle_event(employee, LifecycleEventKind.RETURN, actor_id=actor_id))
        employee.status = LifecycleStatus(new_status)
    if changed("exit_date") and after.get("exit_date") and new_status != LifecycleStatus.ALUMNI.value:
        events.append(record_lifecycle_event(
            employee, LifecycleEventKind.EXIT_DATE_SET, actor_id=actor_id,
            details={"exit_date": after["exit_date"], "previous_exit_date": before.get("exit_date")}))
    if changed("status") and new_status == LifecycleStatus.ALUMNI.value:
        events.append(record_lifecycle_event(
            employee, LifecycleEventKind.EXIT, actor_id=actor_id,
            effective_on=_parse_date(after.get("exit_date"), "exit_date") or today))
    return events


def on_people_imported(employee_ids: list[int], *, actor_id: int | None) -> int:
    """People arrived in bulk (a CSV import): the new hires among them enter the hire journeys.

    Set-based, for imports of thousands: one query finds the new hires, one bulk enrolment per
    journey plans their touchpoints, and their hire events are inserted together. Returns how
    many new hires were enrolled.
    """
    if not employee_ids:
        return 0
    today = utcnow().date()
    hires: list[tuple[int, date | None]] = []
    for start in range(0, len(employee_ids), 2000):
        chunk = employee_ids[start:start + 2000]
        hires.extend(db.session.execute(
            select(Employee.id, Employee.hire_date).where(
                Employee.id.in_(chunk), Employee.deactivated_at.is_(None),
                or_(Employee.status.in_([LifecycleStatus.PRE_BOARDING, LifecycleStatus.ONBOARDING]),
                    and_(Employee.status == LifecycleStatus.ACTIVE, Employee.start_date >= today)))
        ).all())
    if not hires:
        return 0
    from touchpoints.journeys.enrolment import enrol_many

    ids = [employee_id for employee_id, _ in hires]
    enrolled: dict[int, list[int]] = {}
    for journey in journeys_enrolling_on(EnrolTrigger.HIRE):
        result = enrol_many(ids, journey, actor_id=actor_id, source="rule:hire", today=today)
        for employee_id, enrolment_id in zip(ids, result.enrolment_ids, strict=False):
            enrolled.setdefault(employee_id, []).append(enrolment_id)
    db.session.execute(insert(LifecycleEvent), [
        {"employee_id": employee_id, "kind": LifecycleEventKind.HIRE, "effective_on": hire_date or today,
         "details": {"source": "import"}, "recorded_by_id": actor_id, "recorded_at": utcnow()}
        for employee_id, hire_date in hires
    ])
    record("lifecycle.hire", "company", None, actor_id=actor_id,
           summary=f"{len(hires)} new hires arrived by import and entered the hire journeys")
    return len(hires)


# ---------------------------------------------------------------- one-on-one cadence

CADENCE_RANGE = (5, 92)


def set_one_on_one_cadence(subject: Employee | Team, days: int | None, *, actor_id: int | None) -> int:
    """Set a person's or a team's one-on-one cadence (None: follow the team / company) and re-plan.

    The people affected (the person, or the team's members without a cadence of their own) have
    their cadence-following series planned afresh from today: open future occurrences are
    cancelled, the journey is re-enrolled, and talking points already added move to the new next
    one-on-one. Returns how many people were re-planned.
    """
    if days is not None and not (CADENCE_RANGE[0] <= int(days) <= CADENCE_RANGE[1]):
        raise JourneyValidationError({"one_on_one_cadence_days": (
            f"Choose between {CADENCE_RANGE[0]} and {CADENCE_RANGE[1]} days, or leave it empty to "
            "follow the team's or the company's cadence.")})
    before = subject.one_on_one_cadence_days
    if before == days:
        return 0
    subject.one_on_one_cadence_days = days
    db.session.flush()
    if isinstance(subject, Employee):
        people = [subject.id]
        label, kind = subject.full_name, "employee"
    else:
        people = list(db.session.scalars(select(Employee.id).where(
            Employee.team_id == subject.id, Employee.one_on_one_cadence_days.is_(None))))
        label, kind = f"team {subject.name}", "team"
    replanned = _replan_cadence_series(people)
    record("cadence.changed", kind, subject.id, actor_id=actor_id,
           summary=f"One-on-one cadence for {label}: {days or 'default'} days "
                   f"({replanned} {'person' if replanned == 1 else 'people'} re-planned)",
           before={"one_on_one_cadence_days": before}, after={"one_on_one_cadence_days": days})
    return replanned


def _replan_cadence_series(employee_ids: list[int]) -> int:
    from touchpoints.journeys.enrolment import enrol_many
    from touchpoints.journeys.models import AgendaItem, JourneyTemplate, TouchpointTemplate

    if not employee_ids:
        return 0
    cadence_journeys = select(TouchpointTemplate.journey_id).where(
        TouchpointTemplate.follows_cadence.is_(True))
    enrolments = list(db.session.scalars(
        select(Enrolment).where(Enrolment.employee_id.in_(employee_ids),
                                Enrolment.status == EnrolmentStatus.ACTIVE,
                                Enrolment.journey_id.in_(cadence_journeys))))
    now = utcnow()
    touched: set[int] = set()
    for enrolment in enrolments:
        journey = db.session.get(JourneyTemplate, enrolment.journey_id)
        old_open = list(db.session.scalars(
            select(Touchpoint.id).where(Touchpoint.enrolment_id == enrolment.id,
                                        Touchpoint.status.in_(OPEN_STATUSES), Touchpoint.due_at >= now)))
        if old_open:
            cancel_open(Touchpoint.id.in_(old_open), reason="cadence_changed", now=now)
        enrolment.status, enrolment.ended_at = EnrolmentStatus.ENDED, now
        enrolment.end_reason = "One-on-one cadence changed: re-planned"
        db.session.flush()
        enrol_many([enrolment.employee_id], journey, actor_id=None, source=enrolment.source,
                   enrolled_at=now, audit=False)
        first_new = db.session.scalar(
            select(Touchpoint.id).join(Enrolment, Enrolment.id == Touchpoint.enrolment_id)
            .join(TouchpointTemplate, TouchpointTemplate.id == Touchpoint.template_id)
            .where(Enrolment.employee_id == enrolment.employee_id,
                   Enrolment.status == EnrolmentStatus.ACTIVE,
                   Enrolment.journey_key == enrolment.journey_key,
                   TouchpointTemplate.follows_cadence.is_(True), Touchpoint.status.in_(OPEN_STATUSES))
            .order_by(Touchpoint.due_at).limit(1))
        if first_new is not None and old_open:
            db.session.execute(update(AgendaItem).where(AgendaItem.touchpoint_id.in_(old_open))
                               .values(touchpoint_id=first_new).execution_options(synchronize_session=False))
        touched.add(enrolment.employee_id)
    return len(touched)


# ---------------------------------------------------------------- buddies and mentors


def assign_support(employee: Employee, kind: SupportKind, partner: Employee, *, actor_id: int | None,
                   started_on: date | None = None) -> SupportAssignment:
    """Make `partner` this person's buddy or mentor; open buddy/mentor touchpoints go to them.

    The building block of a programme pair, without its checks: pages and the API match through
    `programmes.services.create_match`, which holds the load cap and plans the pair's meetings.
    """
    if partner.id == employee.id:
        raise JourneyValidationError({"partner_id": "Nobody can be their own buddy or mentor."})
    if partner.status is LifecycleStatus.ALUMNI or partner.deactivated_at is not None:
        raise JourneyValidationError({"partner_id": f"{partner.full_name} has left the company."})
    started_on = started_on or utcnow().date()
    db.session.execute(
        update(SupportAssignment).where(SupportAssignment.employee_id == employee.id,
                                        SupportAssignment.kind == kind,
                                        SupportAssignment.ended_on.is_(None))
        .values(ended_on=started_on).execution_options(synchronize_session=False))
    assignment = SupportAssignment(employee_id=employee.id, kind=kind, partner_id=partner.id,
                                   started_on=started_on, created_by_id=actor_id)
    db.session.add(assignment)
    role = OwnerRole.BUDDY if kind is SupportKind.BUDDY else OwnerRole.MENTOR
    moved = reassign_owner(and_(Touchpoint.employee_id == employee.id, Touchpoint.owner_role == role,
                                or_(Touchpoint.owner_id.is_(None), Touchpoint.owner_id != partner.id)),
                           partner.id)
    record(f"support.{kind.value}_assigned", "employee", employee.id, actor_id=actor_id,
           summary=f"{partner.full_name} is now {employee.full_name}'s {kind.value}",
           after={"partner_id": partner.id, "moved_touchpoints": moved})
    db.session.flush()
    return assignment


def end_support(assignment: SupportAssignment, *, actor_id: int | None, ended_on: date | None = None) -> int:
    """End a buddy or mentor pairing; their open touchpoints fall back to the HR partner."""
    assignment.ended_on = ended_on or utcnow().date()
    db.session.flush()
    role = OwnerRole.BUDDY if assignment.kind is SupportKind.BUDDY else OwnerRole.MENTOR
    facts = load_facts([assignment.employee_id])
    owner = OwnerResolver(facts, today=assignment.ended_on + ONE_DAY).owner(
        facts[assignment.employee_id], role)
    moved = reassign_owner(and_(Touchpoint.employee_id == assignment.employee_id,
                                Touchpoint.owner_role == role,
                                Touchpoint.owner_id == assignment.partner_id), owner)
    record(f"support.{assignment.kind.value}_ended", "employee", assignment.employee_id, actor_id=actor_id,
           summary=f"Ended {assignment.kind.value} pairing", after={"moved_touchpoints": moved})
    return moved


def current_support(employee_id: int, *, today: date | None = None) -> dict[SupportKind, SupportAssignment]:
    """A person's current buddy and mentor, by kind."""
    today = today or utcnow().date()
    rows = db.session.scalars(
        select(SupportAssignment).where(SupportAssignment.employee_id == employee_id,
                                        SupportAssignment.started_on <= today,
                                        or_(SupportAssignment.ended_on.is_(None),
                                            SupportAssignment.ended_on > today))
        .order_by(SupportAssignment.started_on, SupportAssignment.id))
    return {row.kind: row for row in rows}


def record_due_starts(*, today: date | None = None, actor_id: int | None = None) -> int:
    """Record the start of everyone pre-boarding whose start date has come (the daily job calls it)."""
    today = today or utcnow().date()
    people = list(db.session.scalars(
        select(Employee).where(Employee.status == LifecycleStatus.PRE_BOARDING,
                               Employee.start_date.is_not(None), Employee.start_date <= today,
                               Employee.deactivated_at.is_(None))
        .with_for_update(skip_locked=True)))  # two schedulers never record the same start twice
    for person in people:
        record_lifecycle_event(person, LifecycleEventKind.START, effective_on=person.start_date,
                               actor_id=actor_id, today=today)
    return len(people)


def lifecycle_events_of(employee_id: int) -> list[LifecycleEvent]:
    """A person's lifecycle events, newest first."""
    return list(db.session.scalars(
        select(LifecycleEvent).where(LifecycleEvent.employee_id == employee_id)
        .order_by(LifecycleEvent.effective_on.desc(), LifecycleEvent.id.desc())))
