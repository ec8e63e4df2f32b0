"""People pages: the list, a person's record, and one's own preferences."""
from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from touchpoints.auth.access import managers, signed_in
from touchpoints.extensions import db
from touchpoints.people.access import can_view_employee, visible_employees
from touchpoints.people.forms import PeopleFilterForm, PreferencesForm
from touchpoints.people.models import Employee, LifecycleStatus, Team
from touchpoints.people.services import PeopleValidationError, update_employee

bp = Blueprint("people", __name__, url_prefix="/people")


@bp.get("/")
@managers
def index():
    """Everyone (HR) or one's reports (managers): searchable, filterable, paginated."""
    form = PeopleFilterForm(request.args)
    teams = db.session.execute(select(Team.id, Team.name).order_by(Team.name)).all()
    form.team.choices = [("", "All teams")] + [(str(t.id), t.name) for t in teams]
    form.status.choices = [("", "All stages")] + [(s.value, s.label) for s in LifecycleStatus]

    query = visible_employees(current_user).options(
        joinedload(Employee.team), joinedload(Employee.manager)
    )
    if form.q.data:
        like = f"%{form.q.data.strip().lower()}%"
        query = query.where(or_(func.lower(Employee.full_name).like(like),
                                func.lower(Employee.email).like(like)))
    if form.team.data and form.team.data.isdigit():
        query = query.where(Employee.team_id == int(form.team.data))
    if form.status.data in {s.value for s in LifecycleStatus}:
        query = query.where(Employee.status == LifecycleStatus(form.status.data))
    if request.args.get("deactivated") != "1":
        query = query.where(Employee.deactivated_at.is_(None))
    page = db.paginate(query.order_by(Employee.full_name, Employee.id),
                       per_page=current_app.config["PEOPLE_PER_PAGE"], error_out=False)
    return render_template("people/index.html", page=page, form=form)


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
    return render_template("people/detail.html", employee=employee, reports=reports)


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
