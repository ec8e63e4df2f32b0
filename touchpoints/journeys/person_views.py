"""A person's journeys: the timeline (theirs, their managers' and HR's view) and, for HR, enrolments,
lifecycle events and buddies/mentors, with what each change did to their touchpoints.
"""
from __future__ import annotations

from collections import OrderedDict
from datetime import date, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from wtforms import SelectChoice

from touchpoints.auth.access import hr_only, signed_in
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.calendar import local_date, to_local
from touchpoints.journeys.forms import (
    ConfirmForm,
    EnrolForm,
    LifecycleEventForm,
    ReasonForm,
)
from touchpoints.journeys.models import (
    Enrolment,
    EnrolmentStatus,
    JourneyStatus,
    JourneyTemplate,
    LifecycleEventKind,
    SupportAssignment,
    SupportKind,
    Touchpoint,
)
from touchpoints.journeys.services import (
    JourneyError,
    JourneyValidationError,
    current_support,
    employee_timeline,
    end_enrolment,
    end_support,
    enrol,
    enrolments_of,
    lifecycle_events_of,
    record_lifecycle_event,
)
from touchpoints.journeys.views import bp
from touchpoints.people.access import can_view_employee
from touchpoints.people.models import Employee, LifecycleStatus
from touchpoints.programmes.models import MatchStatus, ProgrammeMatch
from touchpoints.programmes.services import person_support

# The events HR records by hand, in the order a working life meets them, and when each applies.
RECORDABLE = [
    (LifecycleEventKind.START, lambda e: e.status is LifecycleStatus.PRE_BOARDING),
    (LifecycleEventKind.START_DATE_MOVED, lambda e: e.status is not LifecycleStatus.ALUMNI),
    (LifecycleEventKind.MANAGER_CHANGE, lambda e: e.status is not LifecycleStatus.ALUMNI),
    (LifecycleEventKind.LEAVE, lambda e: e.status not in (LifecycleStatus.ON_LEAVE, LifecycleStatus.ALUMNI)),
    (LifecycleEventKind.RETURN, lambda e: e.status is LifecycleStatus.ON_LEAVE),
    (LifecycleEventKind.EXIT_DATE_SET, lambda e: e.status is not LifecycleStatus.ALUMNI),
    (LifecycleEventKind.EXIT, lambda e: e.status is not LifecycleStatus.ALUMNI),
    (LifecycleEventKind.REHIRE, lambda e: e.status is LifecycleStatus.ALUMNI),
]
# Upcoming meetings this close take talking points right on the timeline; later ones on their own page.
AGENDA_WINDOW = timedelta(days=14)
RECORD_LABELS = {
    LifecycleEventKind.START: "Record their first day",
    LifecycleEventKind.START_DATE_MOVED: "Move the start date",
    LifecycleEventKind.MANAGER_CHANGE: "Change manager",
    LifecycleEventKind.LEAVE: "Start a leave",
    LifecycleEventKind.RETURN: "Record the return from leave",
    LifecycleEventKind.EXIT_DATE_SET: "Set the exit date",
    LifecycleEventKind.EXIT: "Record the exit",
    LifecycleEventKind.REHIRE: "Rehire",
}


def _employee_or_404(employee_id: int) -> Employee:
    return db.session.scalar(
        select(Employee).options(joinedload(Employee.team), joinedload(Employee.manager))
        .where(Employee.id == employee_id)
    ) or abort(404)


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


# ---------------------------------------------------------------- the timeline


@bp.get("/people/<int:employee_id>/timeline")
@signed_in
def timeline(employee_id: int):
    """A person's past and upcoming touchpoints, for them, their managers up the chain, and HR."""
    if not can_view_employee(current_user, employee_id):
        abort(403)
    return _render_timeline(_employee_or_404(employee_id))


@bp.get("/me/journey")
@signed_in
def my_journey():
    """One's own timeline."""
    return _render_timeline(_employee_or_404(current_user.employee_id))


def _month_groups(touchpoints, events, timezone: str, *, newest_first: bool) -> list[tuple[str, list]]:
    """Touchpoints and lifecycle events grouped by month in the person's zone."""
    items = [(to_local(t.due_at, timezone).date(), 1, "touchpoint", t) for t in touchpoints]
    items += [(e.effective_on, 0, "event", e) for e in events]
    items.sort(key=lambda item: (item[0], item[1]), reverse=newest_first)
    groups: OrderedDict[str, list] = OrderedDict()
    for day, _, what, obj in items:
        groups.setdefault(day.strftime("%B %Y"), []).append((what, obj))
    return list(groups.items())


def _render_timeline(employee: Employee):
    data = employee_timeline(employee, viewer=current_user)
    now = data.now
    today = local_date(now, employee.timezone)
    attention = [t for t in data.past if t.is_open or data.can_confirm(t)]
    history = [t for t in data.past if not (t.is_open or data.can_confirm(t))]
    past_events = [e for e in data.events if e.effective_on <= today]
    future_events = [e for e in data.events if e.effective_on > today]
    return render_template(
        "journeys/timeline.html", employee=employee, timeline=data, attention=attention,
        upcoming=_month_groups(data.upcoming, future_events, employee.timezone, newest_first=False),
        history=_month_groups(history, past_events, employee.timezone, newest_first=True),
        history_truncated=len(data.past) >= 200, is_me=employee.id == current_user.employee_id,
        here=request.full_path.rstrip("?"), event_summary=event_summary,
        agenda_until=now + AGENDA_WINDOW,
    )


# ---------------------------------------------------------------- HR: journeys and lifecycle of one person


@bp.get("/people/<int:employee_id>/journeys")
@hr_only
def person_journeys(employee_id: int):
    """HR's view of a person's journeys: enrolments, lifecycle events, buddy and mentor."""
    employee = _employee_or_404(employee_id)
    enrolments = enrolments_of(employee.id, active_only=False)
    on = {e.journey_key for e in enrolments if e.status is EnrolmentStatus.ACTIVE}
    form = EnrolForm()
    form.journey_id.choices = [SelectChoice(str(j.id), j.label) for j in db.session.scalars(
        select(JourneyTemplate).where(JourneyTemplate.status == JourneyStatus.ACTIVE)
        .order_by(JourneyTemplate.stage, JourneyTemplate.name)) if j.key not in on]
    support = current_support(employee.id)
    partners = {a.partner_id for a in support.values()}
    names = dict(db.session.execute(select(Employee.id, Employee.full_name)
                                    .where(Employee.id.in_(partners))).all()) if partners else {}
    # Buddies and mentors are matched in programmes only (the load cap, suggestions, the pair's
    # meetings, a polite end): this page links there rather than assigning anyone itself.
    programmes = person_support(current_user, employee)
    in_programme = {m.assignment_id: m.id for m in programmes.pairs if m.employee_id == employee.id}
    find_in: dict[str, list] = {kind.value: [] for kind in SupportKind}
    for programme in programmes.can_find_in:
        find_in[programme.kind.value].append(programme)
    events = lifecycle_events_of(employee.id)
    return render_template(
        "journeys/person.html", employee=employee, enrolments=enrolments, form=form, events=events,
        support={kind.value: assignment for kind, assignment in support.items()}, partner_names=names,
        in_programme=in_programme, find_in=find_in, end_form=ReasonForm(),
        confirm_form=ConfirmForm(),
        actions=[(kind, RECORD_LABELS[kind]) for kind, applies in RECORDABLE if applies(employee)],
        event_summary=event_summary,
    )


def _programme_pairs(assignment_ids: list[int]) -> dict[int, int]:
    """The live programme pair behind each of these buddy or mentor assignments: {assignment: pair}."""
    if not assignment_ids:
        return {}
    return dict(db.session.execute(
        select(ProgrammeMatch.assignment_id, ProgrammeMatch.id)
        .where(ProgrammeMatch.assignment_id.in_(assignment_ids),
               ProgrammeMatch.status == MatchStatus.ACTIVE)).all())


@bp.post("/people/<int:employee_id>/enrol")
@hr_only
def enrol_person(employee_id: int):
    """Enrol one person in an active journey."""
    employee = _employee_or_404(employee_id)
    form = EnrolForm()
    form.journey_id.choices = []
    journey = db.session.get(JourneyTemplate, int(form.journey_id.data)) \
        if (form.journey_id.data or "").isdigit() else None
    if not form.validate_on_submit() or journey is None:
        flash("Choose a journey to enrol them in.", "error")
        return redirect(url_for("journeys.person_journeys", employee_id=employee.id))
    try:
        enrolment = enrol(employee, journey, actor_id=current_user.id, source="hand")
    except JourneyError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        planned = _planned_count(enrolment.id)
        db.session.commit()
        flash(f"{employee.full_name} is on {journey.label}: {_plural(planned, 'touchpoint')} planned.",
              "success")
    return redirect(url_for("journeys.person_journeys", employee_id=employee.id))


def _planned_count(enrolment_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Touchpoint)
                             .where(Touchpoint.enrolment_id == enrolment_id)) or 0


@bp.post("/enrolments/<int:enrolment_id>/end")
@hr_only
def end_person_enrolment(enrolment_id: int):
    """Take a person off a journey; its open touchpoints are cancelled."""
    enrolment = db.session.scalar(select(Enrolment).options(joinedload(Enrolment.journey))
                                  .where(Enrolment.id == enrolment_id)) or abort(404)
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        cancelled = end_enrolment(enrolment, actor_id=current_user.id,
                                  reason=(form.reason.data or "").strip() or "Ended by HR")
    except JourneyError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(f"Enrolment in {enrolment.journey.label} ended: {_plural(cancelled, 'open touchpoint')} "
              "cancelled.", "success")
    return redirect(url_for("journeys.person_journeys", employee_id=enrolment.employee_id))


@bp.route("/people/<int:employee_id>/lifecycle/<kind>", methods=["GET", "POST"])
@hr_only
def record_event(employee_id: int, kind: str):
    """Record a lifecycle event for a person and show what it did to their touchpoints."""
    employee = _employee_or_404(employee_id)
    try:
        event_kind = LifecycleEventKind(kind)
    except ValueError:
        abort(404)
    applies = dict(RECORDABLE).get(event_kind)
    if applies is None:
        abort(404)
    if not applies(employee):
        flash(f"{RECORD_LABELS[event_kind]} does not apply while {employee.full_name} is "
              f"{employee.status.label.lower()}.", "error")
        return redirect(url_for("journeys.person_journeys", employee_id=employee.id))
    form = LifecycleEventForm()
    today = local_date(utcnow(), employee.timezone)
    if request.method == "GET":
        form.effective_on.data = {LifecycleEventKind.START: employee.start_date,
                                  LifecycleEventKind.EXIT: employee.exit_date}.get(event_kind) or today
        form.start_date.data = employee.start_date if event_kind is not LifecycleEventKind.REHIRE else None
        form.exit_date.data = employee.exit_date
        if event_kind is LifecycleEventKind.REHIRE:
            form.hire_date.data = today
        form.manager_email.data = employee.manager.email if employee.manager else ""
    if form.validate_on_submit():
        details = _event_details(event_kind, form)
        if details is not None:
            try:
                event = record_lifecycle_event(employee, event_kind, effective_on=form.effective_on.data,
                                               actor_id=current_user.id, details=details)
            except JourneyValidationError as error:
                db.session.rollback()
                form.show_errors(error.errors)
            except JourneyError as error:
                db.session.rollback()
                form.form_errors.append(str(error))
            else:
                db.session.commit()
                flash(f"{event_kind.label}: {event_summary(event)}", "success")
                return redirect(url_for("journeys.person_journeys", employee_id=employee.id))
    return render_template("journeys/lifecycle_form.html", employee=employee, kind=event_kind, form=form,
                           heading=RECORD_LABELS[event_kind]), 400 if form.errors else 200


def _event_details(kind: LifecycleEventKind, form: LifecycleEventForm) -> dict | None:
    """What the lifecycle service needs for this kind of event; None (errors on the form) when missing."""
    def need(field, message):
        if field.data is None:
            field.errors = [*field.errors, message]

    if kind is LifecycleEventKind.START_DATE_MOVED:
        need(form.start_date, "Give the new start date.")
        return None if form.errors else {"start_date": form.start_date.data}
    if kind is LifecycleEventKind.MANAGER_CHANGE:
        email = (form.manager_email.data or "").strip().lower()
        if not email:
            return {"manager_id": None}
        manager_id = db.session.scalar(select(Employee.id).where(func.lower(Employee.email) == email))
        if manager_id is None:
            form.manager_email.errors = [*form.manager_email.errors, "No one has this work email."]
            return None
        return {"manager_id": manager_id}
    if kind is LifecycleEventKind.LEAVE:
        return {"expected_return": form.expected_return.data} if form.expected_return.data else {}
    if kind is LifecycleEventKind.EXIT_DATE_SET:
        need(form.exit_date, "Give the exit date.")
        return None if form.errors else {"exit_date": form.exit_date.data}
    if kind is LifecycleEventKind.REHIRE:
        need(form.hire_date, "Give the new hire date.")
        if form.errors:
            return None
        return {"hire_date": form.hire_date.data, "start_date": form.start_date.data or form.hire_date.data}
    return {}


def _day(value) -> str:
    """A date kept in an event's details (ISO text) as people read it: '15 Dec 2026'."""
    try:
        day = date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return f"{day.day} {day:%b %Y}"


def event_summary(event) -> str:
    """What a lifecycle event did, in a sentence ('3 open touchpoints moved to the new start date')."""
    d = event.details or {}
    kind = event.kind
    if kind is LifecycleEventKind.START_DATE_MOVED:
        text = f"{_plural(d.get('moved_touchpoints', 0), 'open touchpoint')} moved to the new start date " \
               f"({_day(d.get('start_date'))})"
        if d.get("created_touchpoints"):
            text += f"; {d['created_touchpoints']} newly planned"
        return text + "."
    if kind is LifecycleEventKind.MANAGER_CHANGE:
        return f"{_plural(d.get('moved_touchpoints', 0), 'open touchpoint')} handed to the new manager" \
            + ("" if d.get("manager_id") else " (the HR partner while there is none)") + "."
    if kind is LifecycleEventKind.LEAVE:
        text = f"{_plural(d.get('paused_touchpoints', 0), 'recurring touchpoint')} paused"
        back = d.get("expected_return")
        return text + (f" until the expected return on {_day(back)}." if back else " until they return.")
    if kind is LifecycleEventKind.RETURN:
        return f"{_plural(d.get('resumed_touchpoints', 0), 'touchpoint')} resumed and " \
               f"{d.get('created_touchpoints', 0)} newly planned."
    if kind is LifecycleEventKind.EXIT_DATE_SET:
        parts = [f"{_plural(d.get('moved_touchpoints', 0), 'open touchpoint')} moved to the exit date "
                 f"({_day(d.get('exit_date'))})"]
        if d.get("cancelled_touchpoints"):
            parts.append(f"{d['cancelled_touchpoints']} after the exit date cancelled")
        if d.get("enrolments"):
            parts.append(f"enrolled in {_plural(len(d['enrolments']), 'offboarding journey')}")
        if d.get("created_touchpoints"):
            parts.append(f"{d['created_touchpoints']} touchpoints planned")
        return "; ".join(parts) + "."
    if kind is LifecycleEventKind.EXIT:
        return f"{_plural(d.get('cancelled_touchpoints', 0), 'open touchpoint')} cancelled, " \
               f"{_plural(d.get('ended_enrolments', 0), 'enrolment')} ended, " \
               f"{_plural(d.get('handed_on_touchpoints', 0), 'touchpoint')} they ran handed on."
    if kind in (LifecycleEventKind.HIRE, LifecycleEventKind.REHIRE):
        count = len(d.get("enrolments") or [])
        return f"Enrolled in {_plural(count, 'journey')} that take new hires." if count \
            else "No journey takes new hires automatically."
    if kind is LifecycleEventKind.START:
        return "Onboarding has begun."
    return ""


# ---------------------------------------------------------------- HR: buddy and mentor


@bp.post("/support/<int:assignment_id>/end")
@hr_only
def end_partner(assignment_id: int):
    """End a buddy or mentor pairing; their open touchpoints fall back to the HR partner."""
    assignment = db.session.get(SupportAssignment, assignment_id) or abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    pair_id = _programme_pairs([assignment.id]).get(assignment.id)
    if pair_id is not None:
        # A programme pair ends politely, with a reason and a note to both, on the programme's page.
        flash("This pair was made in a programme: say why it ends, and both get a kind note.", "info")
        back = url_for("journeys.person_journeys", employee_id=assignment.employee_id)
        return redirect(url_for("programmes.end", programme_match_id=pair_id, next=back), 303)
    moved = end_support(assignment, actor_id=current_user.id)
    db.session.commit()
    flash(f"The {assignment.kind.value} pairing has ended; {_plural(moved, 'open touchpoint')} went back to "
          "the HR partner.", "success")
    return redirect(url_for("journeys.person_journeys", employee_id=assignment.employee_id))
