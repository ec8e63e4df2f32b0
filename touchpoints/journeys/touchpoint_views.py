"""Acting on touchpoints: log (three clicks at most), reschedule, mark missed, confirm or dispute, the
shared agenda and one's own private note; and the manager's week at /team/touchpoints.
"""
from __future__ import annotations

from datetime import datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from touchpoints.auth.access import managers, signed_in
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.calendar import to_local, zone
from touchpoints.journeys.forms import (
    AgendaItemForm,
    ConfirmationForm,
    ConfirmForm,
    LogForm,
    MissedForm,
    PrivateNoteForm,
    RescheduleForm,
)
from touchpoints.journeys.models import AgendaItem, Mode, Touchpoint, TouchpointStatus
from touchpoints.journeys.services import (
    HumanTouchRefusal,
    JourneyError,
    JourneyValidationError,
    add_agenda_item,
    can_manage_touchpoint,
    can_view_touchpoint,
    confirm_touchpoint,
    log_touchpoint,
    mark_missed,
    mode_advice,
    private_note_for,
    remove_agenda_item,
    reschedule,
    save_private_note,
    set_agenda_item_done,
)
from touchpoints.journeys.team_overview import team_week
from touchpoints.journeys.views import bp


def _touchpoint_or_404(touchpoint_id: int) -> Touchpoint:
    return db.session.scalar(
        select(Touchpoint)
        .options(joinedload(Touchpoint.employee), joinedload(Touchpoint.owner),
                 joinedload(Touchpoint.logged_by),
                 selectinload(Touchpoint.agenda_items).joinedload(AgendaItem.author))
        .where(Touchpoint.id == touchpoint_id)
    ) or abort(404)


def _visible(touchpoint_id: int) -> Touchpoint:
    """The touchpoint, or 403 when the signed-in person may not see it (grievances stay with HR)."""
    touchpoint = _touchpoint_or_404(touchpoint_id)
    if not can_view_touchpoint(current_user, touchpoint):
        abort(403)
    return touchpoint


def _manageable(touchpoint_id: int) -> Touchpoint:
    touchpoint = _visible(touchpoint_id)
    if not can_manage_touchpoint(current_user, touchpoint):
        abort(403)
    return touchpoint


def safe_next(default: str) -> str:
    """Where to go back to: a path on this site taken from `next`, or the default."""
    target = request.values.get("next") or ""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def _timeline_url(touchpoint: Touchpoint) -> str:
    if touchpoint.employee_id == current_user.employee_id:
        return url_for("journeys.my_journey")
    return url_for("journeys.timeline", employee_id=touchpoint.employee_id)


def _back(touchpoint: Touchpoint) -> str:
    return safe_next(url_for("journeys.touchpoint", touchpoint_id=touchpoint.id))


def _viewer_zone() -> str:
    return current_user.employee.timezone


def _as_local_input(moment: datetime) -> datetime:
    """A UTC moment as the naive wall-clock time a datetime-local input shows in the viewer's zone."""
    return to_local(moment, _viewer_zone()).replace(tzinfo=None, second=0, microsecond=0)


def _from_local_input(value: datetime) -> datetime:
    """A wall-clock time typed in the viewer's zone, as an aware moment."""
    return value.replace(tzinfo=zone(_viewer_zone()))


def _place_errors(form, errors: dict[str, str], aliases: dict[str, str] | None = None) -> None:
    for name, message in errors.items():
        target = form._fields.get((aliases or {}).get(name, name))
        if target is None:
            form.form_errors.append(message)
        else:
            target.errors = [*target.errors, message]


# ---------------------------------------------------------------- one touchpoint


@bp.get("/touchpoints/<int:touchpoint_id>")
@signed_in
def touchpoint(touchpoint_id: int):
    """One touchpoint: what, when, how, who; its shared agenda and the reader's own private note."""
    tp = _visible(touchpoint_id)
    note = private_note_for(tp.id, current_user.employee_id)
    form = PrivateNoteForm(body=note.body if note else "")
    return render_template("journeys/touchpoint.html", tp=tp, note=note, note_form=form,
                           agenda_form=AgendaItemForm(), confirm_form=ConfirmForm(),
                           can_manage=can_manage_touchpoint(current_user, tp),
                           timeline_url=_timeline_url(tp), now=utcnow())


@bp.route("/touchpoints/<int:touchpoint_id>/log", methods=["GET", "POST"])
@signed_in
def log(touchpoint_id: int):
    """Log that it happened: how (preselected to the plan), when (now or its due time), an optional note."""
    tp = _manageable(touchpoint_id)
    if tp.status in (TouchpointStatus.DONE, TouchpointStatus.CANCELLED):
        flash(f"This {tp.kind.label.lower()} is already {tp.status.label.lower()}.", "warning")
        return redirect(_back(tp))
    form = LogForm()
    now = utcnow()
    if request.method == "GET":
        form.actual_mode.data = tp.planned_mode.value
        form.happened_at.data = _as_local_input(tp.due_at if tp.due_at <= now else now)
    refusal: HumanTouchRefusal | None = None
    if form.validate_on_submit():
        try:
            log_touchpoint(tp, actual_mode=form.actual_mode.data,
                           happened_at=_from_local_input(form.happened_at.data), note=form.note.data,
                           actor=current_user, justification=form.justification.data)
        except JourneyValidationError as error:
            db.session.rollback()
            _place_errors(form, error.errors)
        except HumanTouchRefusal as error:
            # A human-touch policy said no: its reason goes on the mode, and what was typed stays.
            db.session.rollback()
            refusal = error
            form.actual_mode.errors = [*form.actual_mode.errors, error.reason]
        except JourneyError as error:
            db.session.rollback()
            if getattr(error, "status", None) == 422:  # another refusal of the way it happened
                form.actual_mode.errors = [*form.actual_mode.errors, str(error)]
            else:
                form.form_errors.append(str(error))
        else:
            db.session.commit()
            other = tp.employee.full_name if tp.employee_id != current_user.employee_id else None
            flash(f"Logged: {tp.title}, {tp.actual_mode.label.lower()}."
                  + (f" {other} is asked to confirm it took place." if other else ""), "success")
            warning = mode_advice(tp).get(tp.actual_mode)
            if warning:
                flash(warning, "warning")
            return redirect(safe_next(_timeline_url(tp)))
    may_override = refusal is not None and refusal.overridable and current_user.is_hr
    return render_template("journeys/log.html", tp=tp, form=form, modes=list(Mode), may_override=may_override,
                           advice=mode_advice(tp),
                           viewer_zone=_viewer_zone(), next_url=safe_next(_timeline_url(tp))), \
        400 if form.errors else 200


@bp.route("/touchpoints/<int:touchpoint_id>/reschedule", methods=["GET", "POST"])
@signed_in
def reschedule_touchpoint(touchpoint_id: int):
    """Move it to another date and time, typed in the reader's own zone."""
    tp = _manageable(touchpoint_id)
    form = RescheduleForm()
    if request.method == "GET":
        local = to_local(tp.due_at, _viewer_zone())
        form.day.data, form.time_of_day.data = local.date(), local.time().replace(second=0, microsecond=0)
    if form.validate_on_submit():
        moment = datetime.combine(form.day.data, form.time_of_day.data, tzinfo=zone(_viewer_zone()))
        try:
            reschedule(tp, due_at=moment, actor=current_user, reason=form.reason.data or "")
        except JourneyValidationError as error:
            db.session.rollback()
            _place_errors(form, error.errors, {"due_at": "day"})
        except JourneyError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            theirs = to_local(moment, tp.employee.timezone)
            flash(f"{tp.title} is moved to {theirs:%a %-d %b %Y, %H:%M} ({tp.employee.timezone}).", "success")
            return redirect(safe_next(_timeline_url(tp)))
    return render_template("journeys/reschedule.html", tp=tp, form=form, viewer_zone=_viewer_zone(),
                           next_url=safe_next(_timeline_url(tp))), 400 if form.errors else 200


@bp.route("/touchpoints/<int:touchpoint_id>/missed", methods=["GET", "POST"])
@signed_in
def missed(touchpoint_id: int):
    """Record that it did not happen at its time, with an optional reason."""
    tp = _manageable(touchpoint_id)
    form = MissedForm()
    if form.validate_on_submit():
        try:
            mark_missed(tp, actor=current_user, reason=form.reason.data or "")
        except JourneyError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash(f"{tp.title} is marked missed. Reschedule it or log it if it happens later.", "success")
            return redirect(safe_next(_timeline_url(tp)))
    return render_template("journeys/missed.html", tp=tp, form=form, next_url=safe_next(_timeline_url(tp))), \
        400 if form.errors else 200


@bp.route("/touchpoints/<int:touchpoint_id>/confirm", methods=["GET", "POST"])
@signed_in
def confirm(touchpoint_id: int):
    """The person concerned says whether it took place (or not, with a word on what happened)."""
    tp = _visible(touchpoint_id)
    if tp.employee_id != current_user.employee_id:
        abort(403)
    form = ConfirmationForm()
    if request.method == "GET" and request.args.get("answer") in ("yes", "no"):
        form.took_place.data = request.args["answer"]
    if form.validate_on_submit():
        try:
            confirm_touchpoint(tp, actor=current_user, took_place=form.took_place.data == "yes",
                               comment=form.comment.data or "")
        except JourneyValidationError as error:
            db.session.rollback()
            _place_errors(form, error.errors)
        except JourneyError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash("Thank you: it is confirmed." if form.took_place.data == "yes"
                  else "Thank you: HR can see it did not take place as logged.", "success")
            return redirect(safe_next(url_for("journeys.my_journey")))
    return render_template("journeys/confirm.html", tp=tp, form=form,
                           next_url=safe_next(url_for("journeys.my_journey"))), 400 if form.errors else 200


# ---------------------------------------------------------------- agenda and private notes


@bp.post("/touchpoints/<int:touchpoint_id>/agenda")
@signed_in
def add_talking_point(touchpoint_id: int):
    """Add a talking point to the shared agenda."""
    tp = _visible(touchpoint_id)
    form = AgendaItemForm()
    if not form.validate_on_submit():
        flash("Write the talking point (at most 500 characters).", "error")
        return redirect(_back(tp))
    try:
        add_agenda_item(tp, actor=current_user, text=form.text.data)
    except JourneyError as error:
        db.session.rollback()
        if getattr(error, "status", None) == 403:
            abort(403)
        flash(" ".join(error.errors.values()) if isinstance(error, JourneyValidationError) else str(error),
              "error")
    else:
        db.session.commit()
        flash("Talking point added; both of you see it.", "success")
    return redirect(_back(tp) + f"#tp-{tp.id}")


def _agenda_item_or_404(item_id: int) -> AgendaItem:
    item = db.session.scalar(select(AgendaItem).options(joinedload(AgendaItem.touchpoint))
                             .where(AgendaItem.id == item_id)) or abort(404)
    if not can_view_touchpoint(current_user, item.touchpoint):
        abort(403)
    return item


@bp.post("/agenda-items/<int:item_id>/done")
@signed_in
def tick_talking_point(item_id: int):
    """Tick a talking point off, or back on."""
    item = _agenda_item_or_404(item_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        set_agenda_item_done(item, actor=current_user, done=request.form.get("done") == "1")
    except JourneyError:
        db.session.rollback()
        abort(403)
    db.session.commit()
    return redirect(_back(item.touchpoint) + f"#tp-{item.touchpoint_id}")


@bp.post("/agenda-items/<int:item_id>/remove")
@signed_in
def remove_talking_point(item_id: int):
    """Take back a talking point one added."""
    item = _agenda_item_or_404(item_id)
    tp = item.touchpoint
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        remove_agenda_item(item, actor=current_user)
    except JourneyError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash("Talking point removed.", "success")
    return redirect(_back(tp) + f"#tp-{tp.id}")


@bp.post("/touchpoints/<int:touchpoint_id>/note")
@signed_in
def save_note(touchpoint_id: int):
    """Save one's own private note; no one else ever reads it."""
    tp = _visible(touchpoint_id)
    form = PrivateNoteForm()
    if not form.validate_on_submit():
        note = private_note_for(tp.id, current_user.employee_id)
        return render_template("journeys/touchpoint.html", tp=tp, note=note, note_form=form,
                               agenda_form=AgendaItemForm(), confirm_form=ConfirmForm(),
                               can_manage=can_manage_touchpoint(current_user, tp),
                               timeline_url=_timeline_url(tp), now=utcnow()), 400
    try:
        save_private_note(tp, actor=current_user, body=form.body.data or "")
    except JourneyValidationError as error:
        db.session.rollback()
        flash(" ".join(error.errors.values()), "error")
    except JourneyError:
        db.session.rollback()
        abort(403)
    else:
        db.session.commit()
        flash("Your private note is saved. Only you can read it.", "success")
    return redirect(_back(tp))


# ---------------------------------------------------------------- the manager's week


@bp.get("/team/touchpoints")
@managers
def team_touchpoints():
    """Overdue and this week's touchpoints for one's reports, and each report's last human contact."""
    week = team_week(current_user)
    return render_template("journeys/team.html", week=week, viewer_zone=_viewer_zone(),
                           here=request.full_path.rstrip("?"))
