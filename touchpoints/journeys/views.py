"""Journeys pages for HR: journey templates (versions, editing, clone, retire), bulk enrolment, the map.

People's timelines and lifecycle events live in person_views, touchpoint actions and the
manager's team page in touchpoint_views; all register their routes on this blueprint.
"""
from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from touchpoints.auth.access import hr_only
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.calendar import local_date
from touchpoints.journeys.display import (
    describe_offset,
    describe_rrule,
    in_time_order,
    local_moment,
    time_order_key,
)
from touchpoints.journeys.display import recurrence_preview as preview_recurrence
from touchpoints.journeys.forms import (
    BulkEnrolForm,
    CloneForm,
    ConfirmForm,
    JourneyForm,
    PublishForm,
    row_values,
)
from touchpoints.journeys.models import (
    OPEN_STATUSES,
    Enrolment,
    EnrolmentStatus,
    HumanTouchLevel,
    JourneyStage,
    JourneyStatus,
    JourneyTemplate,
    Touchpoint,
)
from touchpoints.journeys.services import (
    JourneyError,
    JourneyValidationError,
    clone_journey,
    create_journey,
    discard_draft,
    employee_ids_for,
    enrol_many,
    journey_map_figures,
    journey_to_data,
    latest_versions,
    publish,
    retire_journey,
    revision_impact,
    start_revision,
    update_draft,
    versions_of,
)
from touchpoints.people.models import Employee, LifecycleStatus, Team

bp = Blueprint("journeys", __name__)


@bp.app_template_filter("zoned")
def zoned(moment, timezone: str):
    """A stored UTC moment in the given IANA zone (for templates)."""
    return local_moment(moment, timezone)


@bp.app_template_filter("zone_city")
def zone_city(timezone: str) -> str:
    """'Europe/Berlin' -> 'Berlin', for 'Berlin time'."""
    return timezone.rsplit("/", 1)[-1].replace("_", " ")


def _journey_or_404(journey_id: int) -> JourneyTemplate:
    return db.session.scalar(
        select(JourneyTemplate).options(selectinload(JourneyTemplate.touchpoint_templates))
        .where(JourneyTemplate.id == journey_id)
    ) or abort(404)


def _draft_of(key: str) -> JourneyTemplate | None:
    return db.session.scalar(select(JourneyTemplate).where(JourneyTemplate.key == key,
                                                           JourneyTemplate.status == JourneyStatus.DRAFT))


def _active_of(key: str) -> JourneyTemplate | None:
    return db.session.scalar(select(JourneyTemplate).where(JourneyTemplate.key == key,
                                                           JourneyTemplate.status == JourneyStatus.ACTIVE))


# ---------------------------------------------------------------- the list and one journey


@bp.get("/journeys/")
@hr_only
def index():
    """Every journey at its newest version, with how many people follow it."""
    journeys = latest_versions()
    people = dict(db.session.execute(
        select(Enrolment.journey_key, func.count()).where(Enrolment.status == EnrolmentStatus.ACTIVE)
        .group_by(Enrolment.journey_key)).all())
    live = dict(db.session.execute(
        select(JourneyTemplate.key, JourneyTemplate.version)
        .where(JourneyTemplate.status == JourneyStatus.ACTIVE)).all())
    return render_template("journeys/index.html", journeys=journeys, people=people, live=live)


@bp.get("/journeys/<int:journey_id>")
@hr_only
def detail(journey_id: int):
    """One version of a journey: its touchpoints in the order they happen, its versions, its actions."""
    journey = _journey_or_404(journey_id)
    versions = versions_of(journey.key)
    people = db.session.scalar(
        select(func.count()).select_from(Enrolment)
        .where(Enrolment.journey_id == journey.id, Enrolment.status == EnrolmentStatus.ACTIVE)) or 0
    open_touchpoints = db.session.scalar(
        select(func.count()).select_from(Touchpoint).join(Enrolment, Enrolment.id == Touchpoint.enrolment_id)
        .where(Enrolment.journey_id == journey.id, Enrolment.status == EnrolmentStatus.ACTIVE,
               Touchpoint.status.in_(OPEN_STATUSES))) or 0
    draft = next((v for v in versions if v.status is JourneyStatus.DRAFT), None)
    return render_template(
        "journeys/detail.html", journey=journey, versions=versions, people=people,
        open_touchpoints=open_touchpoints, draft=draft, rows=in_time_order(journey.touchpoint_templates),
        describe_offset=describe_offset, describe_rrule=describe_rrule, form=ConfirmForm(),
    )


# ---------------------------------------------------------------- creating and editing


def _preview(raw: dict) -> dict:
    """A row's recurrence in words and its next dates, for someone whose anchor date is today."""
    preview = preview_recurrence(
        raw, today=local_date(utcnow(), current_user.employee.timezone),
        cadence_days=int(current_app.config["DEFAULT_ONE_ON_ONE_CADENCE_DAYS"]),
        country=current_user.employee.country_code or current_app.config["DEFAULT_COUNTRY"],
        subdivision=current_user.employee.subdivision or "",
    )
    # The dates as HR reads them ("Mon 7 Dec 2026"); `dates` stays ISO for machines and <time>.
    days = [date.fromisoformat(day) for day in preview["dates"]]
    preview["labels"] = [f"{day:%a} {day.day} {day:%b %Y}" for day in days]
    return preview


def _render_editor(form: JourneyForm, journey: JourneyTemplate | None, *, revising: bool, status: int = 200):
    previews = []
    for entry in form.touchpoints.entries:
        row = entry.form
        recurring = (row.rrule.data or "").strip() or row.follows_cadence.data
        previews.append(_preview({name: row[name].data for name in
                                  ("anchor", "offset", "offset_unit", "rrule", "follows_cadence",
                                   "series_length")}) if recurring else None)
    return render_template("journeys/form.html", form=form, journey=journey, revising=revising,
                           previews=previews, current=_active_of(journey.key) if journey else None), status


def _add_row_requested(form: JourneyForm) -> bool:
    if request.method == "POST" and form.add_row.data:
        form.touchpoints.append_entry()
        return True
    return False


@bp.route("/journeys/new", methods=["GET", "POST"])
@hr_only
def new():
    """Create a journey (saved as a draft, published when HR is ready)."""
    form = JourneyForm()
    if _add_row_requested(form):
        return _render_editor(form, None, revising=False)
    refused = False
    if form.validate_on_submit():
        data, row_of = form.service_data()
        try:
            journey = create_journey(data, actor_id=current_user.id)
        except JourneyValidationError as error:
            db.session.rollback()
            form.show_errors(error.errors, row_of)
            refused = True
        else:
            db.session.commit()
            flash(f"{journey.label} is saved as a draft. Publish it when it is ready to take people.",
                  "success")
            return redirect(url_for("journeys.detail", journey_id=journey.id))
    return _render_editor(form, None, revising=False, status=400 if refused or form.errors else 200)


@bp.route("/journeys/<int:journey_id>/edit", methods=["GET", "POST"])
@hr_only
def edit(journey_id: int):
    """Change a draft in place, or an active journey by saving a new version as a draft."""
    journey = _journey_or_404(journey_id)
    if journey.status not in (JourneyStatus.DRAFT, JourneyStatus.ACTIVE):
        flash(f"{journey.label} is {journey.status.label.lower()}: make a copy to build on it.", "error")
        return redirect(url_for("journeys.detail", journey_id=journey.id))
    revising = journey.status is JourneyStatus.ACTIVE
    if revising:
        draft = _draft_of(journey.key)
        if draft is not None:
            flash(f"Version {draft.version} is already being drafted; you are editing it.", "warning")
            return redirect(url_for("journeys.edit", journey_id=draft.id))
    data = journey_to_data(journey)
    form = JourneyForm(data={**data, "touchpoints": [row_values(t) for t in data["touchpoints"]]})
    if _add_row_requested(form):
        return _render_editor(form, journey, revising=revising)
    refused = False
    if form.validate_on_submit():
        changes, row_of = form.service_data()
        changes.pop("key")
        try:
            target = start_revision(journey, actor_id=current_user.id) if revising else journey
            update_draft(target, changes, actor_id=current_user.id)
        except JourneyValidationError as error:
            db.session.rollback()
            form.show_errors(error.errors, row_of)
            refused = True
        except JourneyError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
            refused = True
        else:
            db.session.commit()
            if revising:
                flash(f"Your changes are saved as version {target.version}. Choose what happens to the "
                      f"people on version {journey.version}, then publish.", "success")
                return redirect(url_for("journeys.publish_draft", journey_id=target.id))
            flash(f"{target.label} is saved.", "success")
            return redirect(url_for("journeys.detail", journey_id=target.id))
    return _render_editor(form, journey, revising=revising, status=400 if refused or form.errors else 200)




@bp.get("/journeys/recurrence-preview")
@hr_only
def recurrence_preview():
    """The editor's live preview: a touchpoint row's recurrence in words and its next dates (JSON)."""
    return jsonify(_preview(request.args.to_dict()))


# ---------------------------------------------------------------- publishing, copies, retiring


@bp.route("/journeys/<int:journey_id>/publish", methods=["GET", "POST"])
@hr_only
def publish_draft(journey_id: int):
    """Publish a draft: HR sees how many open touchpoints would follow it and chooses."""
    draft = _journey_or_404(journey_id)
    if draft.status is not JourneyStatus.DRAFT:
        flash(f"{draft.label} is {draft.status.label.lower()}, not a draft.", "error")
        return redirect(url_for("journeys.detail", journey_id=draft.id))
    current = _active_of(draft.key)
    impact = revision_impact(draft)
    form = PublishForm()
    if form.validate_on_submit():
        move = form.open_touchpoints.data == "move"
        try:
            result = publish(draft, actor_id=current_user.id, move_open=move)
        except JourneyValidationError as error:
            db.session.rollback()
            form.form_errors.extend(error.errors.values())
        except JourneyError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash(_published_message(result, current, move), "success")
            return redirect(url_for("journeys.detail", journey_id=draft.id))
    names = {t.key: t.title for t in draft.touchpoint_templates}
    if current is not None:
        names.update({t.key: t.title for t in current.touchpoint_templates if t.key not in names})
    return render_template("journeys/publish.html", draft=draft, current=current, impact=impact, form=form,
                           names=names), 400 if form.errors else 200


def _published_message(result, current: JourneyTemplate | None, moved: bool) -> str:
    text = f"{result.journey.label} is live"
    if current is None:
        return text + "; new enrolments follow it."
    if moved:
        moved_count = result.moved_touchpoints
        text += (f". {moved_count} open touchpoint{'s' if moved_count != 1 else ''} "
                 f"for {result.moved_enrolments} {'person' if result.moved_enrolments == 1 else 'people'} "
                 f"now follow it")
        extras = []
        if result.created_touchpoints:
            extras.append(f"{result.created_touchpoints} added")
        if result.cancelled_touchpoints:
            extras.append(f"{result.cancelled_touchpoints} cancelled because their moment was removed")
        return text + (f" ({'; '.join(extras)})." if extras else ".")
    return text + (f"; people already on version {current.version} keep it until they finish, and new "
                   "enrolments follow the new version.")


@bp.post("/journeys/<int:journey_id>/discard")
@hr_only
def discard(journey_id: int):
    """Throw away a draft that was never published."""
    journey = _journey_or_404(journey_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    key, label = journey.key, journey.label
    try:
        discard_draft(journey, actor_id=current_user.id)
    except JourneyError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("journeys.detail", journey_id=journey_id))
    db.session.commit()
    flash(f"The draft {label} is discarded.", "success")
    remaining = versions_of(key)
    if remaining:
        return redirect(url_for("journeys.detail", journey_id=remaining[0].id))
    return redirect(url_for("journeys.index"))


@bp.route("/journeys/<int:journey_id>/clone", methods=["GET", "POST"])
@hr_only
def clone(journey_id: int):
    """Copy a journey into a new, independent one (version 1, a draft)."""
    journey = _journey_or_404(journey_id)
    form = CloneForm()
    if request.method == "GET":
        form.key.data = f"{journey.key}-copy"[:64]
        form.name.data = f"{journey.name} (copy)"[:120]
    if form.validate_on_submit():
        try:
            copy = clone_journey(journey, key=form.key.data, name=form.name.data, actor_id=current_user.id)
        except JourneyValidationError as error:
            db.session.rollback()
            for name, message in error.errors.items():
                target = form._fields.get(name)
                if target is not None:
                    target.errors = [*target.errors, message]
                else:
                    form.form_errors.append(message)
        else:
            db.session.commit()
            flash(f"{copy.label} is a new draft copied from {journey.label}.", "success")
            return redirect(url_for("journeys.edit", journey_id=copy.id))
    return render_template("journeys/clone.html", journey=journey, form=form), 400 if form.errors else 200


@bp.post("/journeys/<int:journey_id>/retire")
@hr_only
def retire(journey_id: int):
    """Stop enrolling people in a journey; those on it finish what they started."""
    journey = _journey_or_404(journey_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        retire_journey(journey, actor_id=current_user.id)
    except JourneyError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(f"{journey.label} is retired: no one new is enrolled; people on it finish what they "
              "started.", "success")
    return redirect(url_for("journeys.detail", journey_id=journey.id))


# ---------------------------------------------------------------- bulk enrolment


STAGE_ORDER = {stage: index for index, stage in enumerate(JourneyStage)}


def _active_journeys() -> list[JourneyTemplate]:
    """The live journeys in the order of a working life: onboarding, development, offboarding."""
    journeys = db.session.scalars(
        select(JourneyTemplate).where(JourneyTemplate.status == JourneyStatus.ACTIVE))
    return sorted(journeys, key=lambda j: (STAGE_ORDER[j.stage], j.name))


@bp.route("/journeys/enrol", methods=["GET", "POST"])
@hr_only
def bulk_enrol():
    """Enrol a team or a filtered group in a journey: preview how many, then enrol them."""
    form = BulkEnrolForm()
    journeys = _active_journeys()
    form.journey_id.choices = [SelectChoice(str(j.id), j.label) for j in journeys]
    teams = db.session.execute(select(Team.id, Team.name).order_by(Team.name)).all()
    form.team_id.choices = [SelectChoice("", "Any team"), *(SelectChoice(str(i), name) for i, name in teams)]
    if request.method == "GET":
        first = str(journeys[0].id) if journeys else ""
        form.journey_id.data = request.args.get("journey", type=str) or first
        form.team_id.data = request.args.get("team", "")
    preview = None
    if form.validate_on_submit():
        journey = next((j for j in journeys if str(j.id) == form.journey_id.data), None)
        filters = _bulk_filters(form)
        if journey is None:
            form.journey_id.errors = ["Choose an active journey."]
        elif filters is not None:
            ids = employee_ids_for(**filters)
            already = _already_enrolled(ids, journey.key)
            preview = {"journey": journey, "matching": len(ids), "already": already,
                       "new": len(ids) - already}
            if form.enrol.data and form.expected.data == str(preview["new"]) and preview["new"]:
                result = enrol_many(ids, journey, actor_id=current_user.id, source="bulk")
                db.session.commit()
                skipped = len(result.not_enrollable)
                flash(f"Enrolled {result.enrolled} {'person' if result.enrolled == 1 else 'people'} in "
                      f"{journey.label}; {result.touchpoints_created} touchpoints planned"
                      + (f"; {len(result.already_enrolled)} were already on it" if result.already_enrolled
                         else "")
                      + (f"; {skipped} could not be enrolled (they have left)" if skipped else "") + ".",
                      "success")
                return redirect(url_for("journeys.detail", journey_id=journey.id))
            if form.enrol.data and preview["new"]:
                flash("The number of people matching changed since the preview; check it again.", "warning")
            form.expected.data = str(preview["new"])
    return render_template("journeys/bulk_enrol.html", form=form, preview=preview, journeys=journeys), \
        400 if form.errors else 200


def _bulk_filters(form: BulkEnrolForm) -> dict | None:
    """The filter as employee_ids_for takes it; None (with errors on the form) when it is not usable."""
    statuses = []
    for value in form.statuses.data or []:
        try:
            statuses.append(LifecycleStatus(value))
        except ValueError:
            form.statuses.errors = [*form.statuses.errors, f"'{value}' is not a lifecycle stage."]
    manager_id = None
    if (form.manager_email.data or "").strip():
        manager_id = db.session.scalar(select(Employee.id).where(
            func.lower(Employee.email) == form.manager_email.data.strip().lower()))
        if manager_id is None:
            form.manager_email.errors = [*form.manager_email.errors, "No one has this work email."]
    team_id = int(form.team_id.data) if (form.team_id.data or "").isdigit() else None
    if form.errors:
        return None
    return {"team_id": team_id, "statuses": statuses or None, "manager_id": manager_id,
            "location": (form.location.data or "").strip() or None}


def _already_enrolled(ids: list[int], key: str) -> int:
    if not ids:
        return 0
    active = select(Enrolment.employee_id).where(Enrolment.journey_key == key,
                                                 Enrolment.status == EnrolmentStatus.ACTIVE)
    return len(set(ids) & set(db.session.scalars(active)))


# ---------------------------------------------------------------- the journey map


@bp.get("/journeys/map")
@hr_only
def journey_map():
    """A journey's stages and moments along time, by human-touch level, with figures across the company."""
    journeys = _active_journeys()
    chosen = request.args.get("journey", type=int)
    journey = next((j for j in journeys if j.id == chosen), journeys[0] if journeys else None)
    if chosen is not None and (journey is None or journey.id != chosen):
        journey = db.session.get(JourneyTemplate, chosen) or abort(404)
    figures = journey_map_figures(journey) if journey is not None else None
    stages = []
    if figures is not None:
        for stage in figures.stages:
            stage.points.sort(key=lambda p: time_order_key(p.template))
        stages = sorted((s for s in figures.stages if s.points),
                        key=lambda s: time_order_key(s.points[0].template))
    return render_template("journeys/map.html", journeys=journeys, journey=journey, figures=figures,
                           stages=stages, levels=list(HumanTouchLevel), describe_offset=describe_offset)


# People's timelines, lifecycle events and touchpoint actions register their routes on this blueprint.
from touchpoints.journeys import person_views, touchpoint_views  # noqa: E402, F401
