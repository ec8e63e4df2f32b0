"""People pages: the list, a person's record, adding and changing people, the org chart, preferences.

Teams and the CSV import add their pages to the same blueprint (team_views, import_views).
"""
from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo

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
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from touchpoints.auth.access import hr_only, managers, signed_in
from touchpoints.auth.models import Role, User
from touchpoints.extensions import db
from touchpoints.journeys.errors import JourneyValidationError
from touchpoints.journeys.services import set_one_on_one_cadence
from touchpoints.people.access import can_view_employee
from touchpoints.people.forms import PeopleFilterForm, PersonForm, PreferencesForm, choices
from touchpoints.people.listing import PeopleFilters, people_page
from touchpoints.people.models import Employee, LifecycleStatus, Team
from touchpoints.people.orgchart import org_chart
from touchpoints.people.services import (
    PeopleValidationError,
    create_employee,
    deactivate_employee,
    reactivate_employee,
    record_errors,
    update_employee,
)
from touchpoints.people.team_search import NO_TEAM_LABEL, suggest_teams
from touchpoints.people.text_search import name_or_email_contains
from touchpoints.privacy.erasure import refusal as erasure_refusal
from touchpoints.programmes.services import person_support

bp = Blueprint("people", __name__, url_prefix="/people")
LOOKUP_LIMIT = 20
ORG_CHART_DEPTH = 4  # levels shown below the top; deeper parts open on their own page
_HREF_ID = 987654321  # stands in for a person's id while the list builds its record link once


@bp.get("/")
@managers
def index():
    """Everyone (HR) or one's reports (managers): searchable, filterable, paginated."""
    form = PeopleFilterForm(request.args)
    form.status.choices = choices([("", "All stages"), *((s.value, s.label) for s in LifecycleStatus)])
    filters = PeopleFilters(q=form.q.data, team=form.team.data, status=form.status.data,
                            deactivated=bool(form.deactivated.data))
    page = people_page(current_user, filters, page=request.args.get("page", 1, type=int),
                       per_page=current_app.config["PEOPLE_PER_PAGE"])
    # One record link built for the whole page, the id put in per row: url_for on every row was
    # a fifth of drawing the list.
    href_start, _, href_end = url_for("people.detail", employee_id=_HREF_ID).partition(str(_HREF_ID))
    return render_template("people/index.html", page=page, form=form, no_team_label=NO_TEAM_LABEL,
                           record_href=(href_start, href_end))


def _team_choices() -> list[tuple[int, str]]:
    return db.session.execute(select(Team.id, Team.name).order_by(Team.name)).all()


@bp.route("/new", methods=["GET", "POST"])
@hr_only
def new():
    """Add a person and their login; they set a password through a link HR sends."""
    form = PersonForm(teams=_team_choices())
    if request.method == "GET":
        form.status.data = LifecycleStatus.PRE_BOARDING.value
        form.timezone.data = current_app.config["DEFAULT_TIMEZONE"]
        form.country_code.data = current_app.config["DEFAULT_COUNTRY"]
        form.work_days.data = list("12345")
        form.work_start.data, form.work_end.data = time(9, 0), time(17, 30)
    if form.validate_on_submit():
        try:
            employee = create_employee(form.service_data(), actor_id=current_user.id,
                                       roles=form.roles())
            set_one_on_one_cadence(employee, form.one_on_one_cadence_days.data,
                                   actor_id=current_user.id)
        except (PeopleValidationError, JourneyValidationError) as error:
            db.session.rollback()
            form.show_errors(error.errors)
        else:
            db.session.commit()
            flash(f"{employee.full_name} is added. They cannot sign in until they choose a "
                  "password: send them a password link from this page.", "success")
            return redirect(url_for("people.detail", employee_id=employee.id))
    elif form.is_submitted():
        _add_record_errors(form)
    return render_template("people/form.html", form=form, employee=None), \
        400 if form.errors else 200


@bp.route("/<int:employee_id>/edit", methods=["GET", "POST"])
@hr_only
def edit(employee_id: int):
    """Change a person's record and roles."""
    employee = db.session.scalar(
        select(Employee).options(joinedload(Employee.manager)).where(Employee.id == employee_id)
    ) or abort(404)
    user = db.session.scalar(select(User).where(User.employee_id == employee.id))
    form = PersonForm(obj=employee, teams=_team_choices())
    if request.method == "GET":
        form.team_id.data = str(employee.team_id or "")
        form.status.data = employee.status.value
        form.manager_email.data = employee.manager.email if employee.manager else ""
        form.work_days.data = list(employee.work_days)
        form.is_hr_partner.data = bool(user and user.is_hr)
        form.is_manager.data = bool(user and user.is_manager)
    if form.validate_on_submit():
        try:
            update_employee(employee, form.service_data(), actor_id=current_user.id,
                            roles=form.roles())
            set_one_on_one_cadence(employee, form.one_on_one_cadence_days.data,
                                   actor_id=current_user.id)
        except (PeopleValidationError, JourneyValidationError) as error:
            db.session.rollback()
            form.show_errors(error.errors)
        else:
            db.session.commit()
            flash(f"{employee.full_name}'s record is saved.", "success")
            return redirect(url_for("people.detail", employee_id=employee.id))
    elif form.is_submitted():
        _add_record_errors(form, employee)
    return render_template("people/form.html", form=form, employee=employee), \
        400 if form.errors else 200


def _add_record_errors(form: PersonForm, employee: Employee | None = None) -> None:
    """Add the record's own checks to a form that failed its own, so every mistake shows at once
    (a taken email was otherwise named only after the dates were put right)."""
    data = {name: value for name, value in form.service_data().items()
            if name not in form or not form[name].errors}
    errors = record_errors(data, employee)
    db.session.rollback()
    form.show_errors({name: message for name, message in errors.items()
                      if name not in form or not form[name].errors})


def _employee_or_404(employee_id: int) -> Employee:
    return db.session.get(Employee, employee_id) or abort(404)


@bp.post("/<int:employee_id>/deactivate")
@hr_only
def deactivate(employee_id: int):
    """Stop someone signing in and end their sessions (their history stays)."""
    employee = _employee_or_404(employee_id)
    if employee.id == current_user.employee_id:
        flash("You cannot deactivate yourself; ask another HR partner.", "error")
        return redirect(url_for("people.detail", employee_id=employee.id))
    try:
        deactivate_employee(employee, actor_id=current_user.id)
    except PeopleValidationError as error:
        db.session.rollback()
        flash(" ".join(error.errors.values()), "error")
    else:
        db.session.commit()
        flash(f"{employee.full_name} is deactivated and signed out everywhere.", "success")
    return redirect(url_for("people.detail", employee_id=employee.id))


@bp.post("/<int:employee_id>/reactivate")
@hr_only
def reactivate(employee_id: int):
    """Let someone sign in again."""
    employee = _employee_or_404(employee_id)
    reactivate_employee(employee, actor_id=current_user.id)
    db.session.commit()
    flash(f"{employee.full_name} can sign in again.", "success")
    return redirect(url_for("people.detail", employee_id=employee.id))


@bp.get("/lookup")
@hr_only
def lookup():
    """Up to 20 people whose name or email matches, for the manager field's suggestions."""
    text = (request.args.get("q") or "").strip().lower()
    if len(text) < 2:
        return jsonify(people=[])
    rows = db.session.execute(
        select(Employee.full_name, Employee.email, Employee.job_title)
        .where(Employee.deactivated_at.is_(None), name_or_email_contains(text))
        .order_by(Employee.full_name).limit(LOOKUP_LIMIT)
    ).all()
    return jsonify(people=[{"name": n, "email": e, "title": t} for n, e, t in rows])


@bp.get("/teams/lookup")
@managers
def team_lookup():
    """Up to 20 team names containing the text, among the teams the person may see (JSON)."""
    return jsonify(teams=suggest_teams(current_user, request.args.get("q") or ""))


@bp.get("/<int:employee_id>")
@signed_in
def detail(employee_id: int):
    """One person's record, for HR, their managers above them, and themselves."""
    if not can_view_employee(current_user, employee_id):
        abort(403)
    employee = db.session.scalar(
        select(Employee).options(joinedload(Employee.team), joinedload(Employee.manager))
        .where(Employee.id == employee_id)
    ) or abort(404)
    reports = db.session.scalars(
        select(Employee).where(Employee.manager_id == employee.id, Employee.deactivated_at.is_(None))
        .order_by(Employee.full_name)
    ).all()
    login = db.session.scalar(select(User).where(User.employee_id == employee.id))
    support = person_support(current_user, employee)
    roles = sorted((r for r in login.roles if r is not Role.EMPLOYEE), key=lambda r: r.label) \
        if login else []
    # A departed person's data can be exported or erased by HR, once (privacy.erasure).
    departed = erasure_refusal(employee) is None
    # Moments are shown in the reader's own time zone.
    return render_template("people/detail.html", employee=employee, reports=reports, login=login,
                           roles=roles, tz=ZoneInfo(current_user.employee.timezone), support=support,
                           departed=departed)


@bp.get("/org-chart")
@managers
def org():
    """Who reports to whom: the whole company for HR, a manager's own part for managers."""
    root_id = request.args.get("root", type=int)
    chart = org_chart(current_user, root_id)
    if chart is None:
        abort(404)
    return render_template("people/org_chart.html", chart=chart, root_id=root_id,
                           max_depth=ORG_CHART_DEPTH)


@bp.route("/me/preferences", methods=["GET", "POST"])
@signed_in
def preferences():
    """One's own time zone, quiet hours and preferred channel."""
    me = current_user.employee
    form = PreferencesForm(obj=me)
    if request.method == "GET":
        form.preferred_channel.data = me.preferred_channel.value
    if form.validate_on_submit():
        try:
            update_employee(me, {
                "timezone": form.timezone.data,
                "quiet_hours_start": form.quiet_hours_start.data,
                "quiet_hours_end": form.quiet_hours_end.data,
                "preferred_channel": form.preferred_channel.data,
            }, actor_id=current_user.id)
        except PeopleValidationError as error:
            for name, message in error.errors.items():
                form[name].errors = [*form[name].errors, message]
        else:
            db.session.commit()
            flash("Your preferences are saved.", "success")
            return redirect(url_for("people.preferences"))
    return render_template("people/preferences.html", form=form, me=me)


# The team and import pages register their routes on this blueprint.
from touchpoints.people import import_views, team_views  # noqa: E402, F401
