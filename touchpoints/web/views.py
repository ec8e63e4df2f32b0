"""Home page and the load balancer's health check."""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from flask_login import current_user
from sqlalchemy import func, select, text

from touchpoints.auth.access import public, signed_in
from touchpoints.extensions import db
from touchpoints.people.access import visible_employees
from touchpoints.people.models import Employee, LifecycleStatus

bp = Blueprint("web", __name__)


@bp.get("/healthz")
@public
def healthz():
    """200 when the database answers, 503 otherwise."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


@bp.get("/")
@signed_in
def home():
    """What needs me today, for the signed-in person's roles."""
    counts = {}
    if current_user.is_hr or current_user.is_manager:
        scope = visible_employees(current_user).where(Employee.deactivated_at.is_(None)).subquery()
        rows = db.session.execute(
            select(scope.c.status, func.count()).group_by(scope.c.status)
        ).all()
        counts = {LifecycleStatus(status): n for status, n in rows}
    return render_template("web/home.html", counts=counts, statuses=list(LifecycleStatus))
