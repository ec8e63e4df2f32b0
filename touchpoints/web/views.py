"""Home pages (one per role, switchable), the company-wide overdue list, and the health check."""
from __future__ import annotations

import time
from datetime import datetime

from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from sqlalchemy import text

from touchpoints.auth.access import hr_only, public, signed_in
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.home import today
from touchpoints.home.cache import HOME_PAGES, WROTE_AT, cache_seconds
from touchpoints.home.charts import compliance_sparkline, touch_meter
from touchpoints.home.forms import ViewSwitchForm
from touchpoints.journeys.calendar import to_local
from touchpoints.people.models import LifecycleStatus
from touchpoints.surveys.services import open_invitations

bp = Blueprint("web", __name__)
VIEW_KEY = "home_view"
OVERDUE_PER_PAGE = 50
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


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


def _local_input(moment: datetime) -> str:
    """A moment as the viewer's wall-clock value for a datetime-local field (what the log form reads)."""
    return to_local(moment, current_user.employee.timezone).strftime("%Y-%m-%dT%H:%M")


@bp.get("/")
@signed_in
def home():
    """What needs me today, as the view chosen (HR, manager or my own) among the person's roles."""
    view = today.choose_view(current_user, request.args.get("view") or session.get(VIEW_KEY))
    if request.args.get("view") == view.value and session.get(VIEW_KEY) != view.value:
        session[VIEW_KEY] = view.value  # a bookmarked ?view= is remembered like the switch
    seconds = cache_seconds()
    generate_csrf()  # makes the session's CSRF secret, which the page's forms are signed with
    key = (view.value, current_user.id, session.get("csrf_token", ""))
    content = None
    if seconds:
        content = HOME_PAGES.get(key, max_age=seconds, fresh_after=session.get(WROTE_AT, 0.0))
    if content is None:
        content = _draw_home(view)
        if seconds:
            HOME_PAGES.put(key, content)
    # Drawn by Jinja with autoescaping on: already escaped HTML, kept as it is.
    return render_template("web/home.html", view=view, content=Markup(content))  # noqa: S704


def _draw_home(view: today.HomeView) -> str:
    """The home page's content for this view, drawn from the read models."""
    context = {"view": view, "views": today.views_for(current_user), "switch_form": ViewSwitchForm(),
               "local_input": _local_input, "here": url_for("web.home")}
    if view is not today.HomeView.ME:  # the person's own surveys, in one line above their role's page
        context["invitations"] = open_invitations(current_user.employee_id)
    if view is today.HomeView.HR:
        data = today.hr_today(current_user)
        chart = compliance_sparkline(data.compliance.trend, title="People out of compliance, by week")
        return render_template("web/_home_hr.html", data=data, chart=chart, statuses=list(LifecycleStatus),
                               **context)
    if view is today.HomeView.MANAGER:
        data = today.manager_today(current_user)
        return render_template("web/_home_manager.html", data=data, index_meter=touch_meter(data.touch.index),
                               **context)
    return render_template("web/_home_employee.html", data=today.employee_today(current_user), **context)


@bp.after_app_request
def note_writes(response: Response) -> Response:
    """Stamp the session when a signed-in person changed something, so their home page shows it at once."""
    if request.method in WRITES and response.status_code < 400 and current_user.is_authenticated:
        session[WROTE_AT] = time.time()
    return response


@bp.post("/home/view")
@signed_in
def switch_view():
    """Remember which home page to show (HR, manager or my own) for the rest of the session."""
    form = ViewSwitchForm()
    if not form.validate_on_submit():
        abort(400)
    view = today.choose_view(current_user, form.view.data)
    if view.value != form.view.data:
        abort(403)  # a view this person's roles do not open
    session[VIEW_KEY] = view.value
    return redirect(url_for("web.home"))


@bp.get("/overdue")
@hr_only
def overdue():
    """Every overdue touchpoint in the company, the longest overdue first (HR)."""
    page = max(1, request.args.get("page", 1, type=int))
    listing = today.overdue_page(utcnow(), page=page, per_page=OVERDUE_PER_PAGE)
    return render_template("web/overdue.html", listing=listing)
