"""Privacy pages: what is held about me and who sees it, my export; HR's erasure of departed people."""
from __future__ import annotations

import json

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from touchpoints.audit.services import record
from touchpoints.auth.access import hr_only, signed_in
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.people.models import Employee
from touchpoints.people.text_search import name_or_email_contains
from touchpoints.privacy import erasure, inventory, retention
from touchpoints.privacy.export import export_person
from touchpoints.privacy.forms import EraseForm, SearchForm
from touchpoints.scheduling.models import JobRun

bp = Blueprint("privacy", __name__)
PER_PAGE = 50
RETENTION_JOB = "privacy-retention"


def _download(employee_id: int, filename: str) -> Response:
    data = export_person(employee_id)
    if data is None:
        abort(404)
    body = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/me/privacy")
@signed_in
def mine():
    """What Touchpoints holds about me, where it comes from, who can see it and how long it is kept."""
    return render_template("privacy/mine.html", catalogue=inventory.CATALOGUE,
                           counts=inventory.holdings(current_user.employee_id), rules=retention.RULES,
                           other_periods=retention.OTHER_PERIODS)


@bp.get("/me/privacy/export.json")
@signed_in
def export_mine():
    """Everything held about me, as a JSON file."""
    record("privacy.exported", "employee", current_user.employee_id, actor_id=current_user.id,
           summary="Downloaded their own data")
    db.session.commit()
    return _download(current_user.employee_id, f"touchpoints-my-data-{utcnow():%Y-%m-%d}.json")


@bp.get("/privacy/people")
@hr_only
def departed():
    """People who have left, whose personal data an HR partner can export or erase; the retention rules."""
    form = SearchForm(request.args)
    query = erasure.departed_query()
    if form.q.data:
        query = query.where(name_or_email_contains(form.q.data))
    page = db.paginate(query, page=max(1, request.args.get("page", 1, type=int)), per_page=PER_PAGE,
                       error_out=False)
    erased_total = db.session.scalar(select(func.count()).select_from(Employee).where(
        Employee.email.endswith("@" + erasure.ERASED_DOMAIN))) or 0
    return render_template("privacy/departed.html", page=page, form=form, rules=retention.RULES,
                           erased_total=erased_total, job=db.session.get(JobRun, RETENTION_JOB))


def _departed_or_404(employee_id: int) -> Employee:
    return db.session.get(Employee, employee_id) or abort(404)


@bp.get("/privacy/people/<int:employee_id>/export.json")
@hr_only
def export_person_data(employee_id: int):
    """Everything held about one person, for an HR partner answering their request for it."""
    employee = _departed_or_404(employee_id)
    record("privacy.exported", "employee", employee.id, actor_id=current_user.id,
           summary="An HR partner downloaded this person's data")
    db.session.commit()
    return _download(employee.id, f"touchpoints-person-{employee.id}-{utcnow():%Y-%m-%d}.json")


@bp.route("/privacy/people/<int:employee_id>/erase", methods=["GET", "POST"])
@hr_only
def erase(employee_id: int):
    """Erase a departed person's personal data, after typing their name; what stays is said first."""
    employee = _departed_or_404(employee_id)
    refused = erasure.refusal(employee)
    form = EraseForm()
    if refused is None and form.validate_on_submit():
        try:
            erasure.erase_person(employee, actor=current_user, typed_name=form.confirm_name.data)
        except erasure.ErasureConfirmationError as error:
            db.session.rollback()
            form.confirm_name.errors = [*form.confirm_name.errors, *error.errors.values()]
        except erasure.ErasureRefused as error:
            db.session.rollback()
            refused = str(error)
        else:
            db.session.commit()
            flash(f"Erased. The record is now {erasure.pseudonym(employee_id)}; the audit log says who "
                  "did it and when, without the name.", "success")
            return redirect(url_for("privacy.departed"))
    status = 400 if form.errors or (refused and request.method == "POST") else 200
    return render_template("privacy/erase.html", employee=employee, form=form, refused=refused,
                           counts=inventory.holdings(employee.id), catalogue=inventory.CATALOGUE,
                           grievance_rule=retention.GRIEVANCES), status
