"""Team ritual pages: the list and calendar, planning a ritual, a ritual's occurrences, and the
occurrence page where the organiser, the team's manager or HR log attendance in one form."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from touchpoints.auth.access import managers, signed_in
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.calendar import zone
from touchpoints.journeys.display import describe_rrule
from touchpoints.people.models import Team
from touchpoints.rituals import services
from touchpoints.rituals.forms import CancelForm, LogForm, MarkForm, RitualForm
from touchpoints.rituals.models import (
    Audience,
    OccurrenceStatus,
    Presence,
    Ritual,
    RitualAttendance,
    RitualOccurrence,
)
from touchpoints.rituals.services import RitualValidationError, Viewer

bp = Blueprint("rituals", __name__, url_prefix="/rituals")
CALENDAR_WEEKS = 8


@bp.context_processor
def ritual_helpers() -> dict:
    """The series in plain words on every ritual page."""
    return {"describe_rrule": describe_rrule}


@bp.app_template_filter("ritual_time")
def ritual_time(moment, timezone: str = "Europe/London") -> str:
    """A due time in a person's zone: 'Tue 3 Mar 2026, 10:00'."""
    if moment is None:
        return "—"
    local = moment.astimezone(zone(timezone))
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M}"


def _viewer_zone() -> str:
    return current_user.employee.timezone


def _ritual_or_404(ritual_id: int, viewer: Viewer) -> Ritual:
    ritual = db.session.get(Ritual, ritual_id)
    # The same answer for missing and not visible: a ritual's existence is not disclosed.
    if ritual is None or not viewer.can_view(ritual):
        abort(404)
    return ritual


def _occurrence_or_404(occurrence_id: int, viewer: Viewer) -> RitualOccurrence:
    """An occurrence the viewer may see (404 alike for missing and hidden), with its ritual loaded."""
    found = services.load_occurrence(occurrence_id)
    if found is None or not viewer.can_view(found.ritual):
        abort(404)
    return found


@bp.get("")
@signed_in
def index():
    """The rituals a person may see, and what is coming up in the next weeks."""
    viewer = Viewer.of(current_user)
    query = viewer.visible_query()
    team_id = request.args.get("team", type=int)
    if team_id:
        query = query.where(Ritual.team_id == team_id)
    rows = services.ritual_rows(query)
    now = utcnow()
    calendar = services.upcoming_occurrences(query, now=now, limit=200,
                                             until=now + timedelta(weeks=CALENDAR_WEEKS))
    manageable = {row.ritual.id for row in rows if viewer.can_manage(row.ritual)}
    team = db.session.get(Team, team_id) if team_id else None
    running = viewer.running_query()
    if team_id:
        running = running.where(Ritual.team_id == team_id)
    to_log, to_log_total = services.unlogged_occurrences(running, now=now)
    return render_template("rituals/index.html", rows=rows, calendar=calendar, manageable=manageable,
                           can_create=bool(viewer.team_choices()), team=team, tz=_viewer_zone(),
                           team_choices=viewer.team_choices(), to_log=to_log, to_log_total=to_log_total,
                           weeks=CALENDAR_WEEKS)


@bp.route("/new", methods=["GET", "POST"])
@managers
def new():
    """Plan a ritual for a team one runs (HR: any team, or everyone)."""
    viewer = Viewer.of(current_user)
    if not viewer.team_choices():
        return render_template("rituals/no_team.html"), 200
    form = RitualForm(teams=viewer.team_choices(), hr=current_user.is_hr)
    if request.method == "GET":
        form.team_id.data = request.args.get("team", "")
        form.timezone.data = _viewer_zone()
        form.organiser_email.data = current_user.employee.email
    return _save(form, None, viewer)


@bp.route("/<int:ritual_id>/edit", methods=["GET", "POST"])
@signed_in
def edit(ritual_id: int):
    """Change a ritual: its future, unlogged occurrences follow."""
    viewer = Viewer.of(current_user)
    ritual = _ritual_or_404(ritual_id, viewer)
    if not viewer.can_manage(ritual):
        abort(403)
    teams = viewer.team_choices()
    if ritual.team_id and ritual.team_id not in {i for i, _ in teams}:
        teams = [(ritual.team_id, ritual.team.name), *teams]
    form = RitualForm(teams=teams, hr=current_user.is_hr, company_wide=ritual.audience is Audience.EVERYONE)
    if request.method == "GET":
        form.fill(ritual)
    return _save(form, ritual, viewer)


def _save(form: RitualForm, ritual: Ritual | None, viewer: Viewer):
    if form.validate_on_submit():
        try:
            saved = services.save_ritual(ritual, form.service_data(), viewer=viewer)
        except RitualValidationError as error:
            db.session.rollback()
            form.show_errors(error.errors)
        else:
            db.session.commit()
            flash(f"{saved.title} is saved; its occurrences are planned.", "success")
            return redirect(url_for("rituals.detail", ritual_id=saved.id))
    return render_template("rituals/form.html", form=form, ritual=ritual), 400 if form.errors else 200


@bp.get("/<int:ritual_id>")
@signed_in
def detail(ritual_id: int):
    """A ritual: its plan, what is coming and what was held, with attendance counts."""
    viewer = Viewer.of(current_user)
    ritual = _ritual_or_404(ritual_id, viewer)
    past, coming, counts = services.occurrences_of(ritual)
    return render_template("rituals/detail.html", ritual=ritual, past=past, coming=coming, counts=counts,
                           can_manage=viewer.can_manage(ritual), tz=_viewer_zone(), Presence=Presence)


@bp.route("/occurrences/<int:occurrence_id>", methods=["GET", "POST"])
@signed_in
def occurrence(occurrence_id: int):
    """One occurrence; those who run the ritual log it as held and tick who was there, in one form."""
    viewer = Viewer.of(current_user)
    found = _occurrence_or_404(occurrence_id, viewer)
    manage = viewer.can_manage(found.ritual)
    if request.method == "POST" and not manage:
        abort(403)
    sheet = services.attendance_sheet(found, viewer.tree) if manage else None
    form = LogForm()
    chosen: dict[int, str] = {}
    if request.method == "GET":
        form.actual_mode.data = (found.actual_mode or found.ritual.planned_mode).value
        form.location.data = found.location or found.ritual.location
        form.note.data = found.note
    if sheet is not None:
        default = Presence.IN_PERSON if form.actual_mode.data == "in_person" else Presence.REMOTE
        chosen = {m.id: (sheet.marks[m.id].presence.value if m.id in sheet.marks else default.value)
                  for m in sheet.members}
    errors: dict[str, str] = {}
    presences = {int(key.removeprefix("presence-")): value for key, value in request.form.items()
                 if key.startswith("presence-") and key.removeprefix("presence-").isdigit()}
    chosen.update({k: v for k, v in presences.items() if k in chosen})  # keep what was ticked
    if request.method == "POST" and form.validate_on_submit():
        member_ids = {m.id for m in sheet.members}
        try:
            marked = services.log_occurrence(found, actual_mode=form.actual_mode.data,
                                             location=form.location.data, note=form.note.data,
                                             presences=presences, member_ids=member_ids, actor=current_user)
        except RitualValidationError as error:
            db.session.rollback()
            errors = error.errors
            found = services.load_occurrence(occurrence_id)
            sheet = services.attendance_sheet(found, viewer.tree)
            for name in ("actual_mode", "location", "note"):
                if name in errors:
                    form[name].errors = [*form[name].errors, errors[name]]
        else:
            db.session.commit()
            flash(f"Logged as held, with {marked} {'person' if marked == 1 else 'people'} marked.", "success")
            return redirect(url_for("rituals.occurrence", occurrence_id=occurrence_id))
    mine = None
    if viewer.is_member(found.ritual):
        mine = db.session.get(RitualAttendance, (found.id, current_user.employee_id))
    status = 400 if (errors or form.errors) else 200
    return render_template("rituals/occurrence.html", occurrence=found, ritual=found.ritual, sheet=sheet,
                           log_open=services.can_log_yet(found),
                           form=form, chosen=chosen, errors=errors, mine=mine,
                           member=viewer.is_member(found.ritual), mark_form=MarkForm(),
                           cancel_form=CancelForm(), can_manage=manage, tz=_viewer_zone(),
                           Presence=Presence, Status=OccurrenceStatus, now=utcnow()), status


@bp.post("/occurrences/<int:occurrence_id>/mine")
@signed_in
def mark_mine(occurrence_id: int):
    """A member says whether they were there."""
    viewer = Viewer.of(current_user)
    found = _occurrence_or_404(occurrence_id, viewer)
    if not viewer.is_member(found.ritual):
        abort(403)
    form = MarkForm()
    if not form.validate_on_submit():
        flash("Choose in person, remote or absent.", "error")
    else:
        try:
            value = services.mark_own_attendance(found, employee_id=current_user.employee_id,
                                                 presence=form.presence.data, actor=current_user)
        except RitualValidationError as error:
            db.session.rollback()
            flash(" ".join(error.errors.values()), "error")
        else:
            db.session.commit()
            flash(f"Thanks: you are marked {value.label.lower()}.", "success")
    return redirect(url_for("rituals.occurrence", occurrence_id=occurrence_id))


@bp.post("/occurrences/<int:occurrence_id>/cancel")
@signed_in
def cancel(occurrence_id: int):
    """Call one occurrence off; the series goes on."""
    viewer = Viewer.of(current_user)
    found = _occurrence_or_404(occurrence_id, viewer)
    if not viewer.can_manage(found.ritual):
        abort(403)
    form = CancelForm()
    if form.validate_on_submit():
        try:
            services.cancel_occurrence(found, reason=form.reason.data, actor=current_user)
        except RitualValidationError as error:
            db.session.rollback()
            flash(" ".join(error.errors.values()), "error")
        else:
            db.session.commit()
            flash("Called off. The team sees it on the ritual's page.", "success")
    return redirect(url_for("rituals.occurrence", occurrence_id=occurrence_id))


def team_ritual_counts() -> dict[int, int]:
    """How many active rituals each team has (for the teams page), in one query."""
    return dict(db.session.execute(select(Ritual.team_id, func.count()).where(
        Ritual.active.is_(True), Ritual.team_id.is_not(None)).group_by(Ritual.team_id)).all())
