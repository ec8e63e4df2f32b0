"""Team pages for HR partners: the list with headcounts, adding and changing a team."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from touchpoints.auth.access import hr_only
from touchpoints.extensions import db
from touchpoints.journeys.errors import JourneyValidationError
from touchpoints.journeys.services import set_one_on_one_cadence
from touchpoints.people.forms import TeamForm
from touchpoints.people.models import Employee, Team
from touchpoints.people.services import PeopleValidationError, hr_partner_choices, save_team
from touchpoints.people.views import bp
from touchpoints.rituals.views import team_ritual_counts


@bp.get("/teams")
@hr_only
def teams():
    """Every team with its HR partner and how many active people are in it."""
    headcount = (
        select(Employee.team_id, func.count().label("people"))
        .where(Employee.deactivated_at.is_(None)).group_by(Employee.team_id).subquery()
    )
    rows = db.session.execute(
        select(Team, func.coalesce(headcount.c.people, 0))
        .outerjoin(headcount, headcount.c.team_id == Team.id)
        .options(joinedload(Team.hr_partner), joinedload(Team.manager), joinedload(Team.parent))
        .order_by(Team.name)
    ).all()
    return render_template("people/teams.html", rows=rows, rituals=team_ritual_counts())


@bp.route("/teams/new", methods=["GET", "POST"])
@hr_only
def new_team():
    """Add a team."""
    return _team_form(None)


@bp.route("/teams/<int:team_id>/edit", methods=["GET", "POST"])
@hr_only
def edit_team(team_id: int):
    """Change a team's name, description or HR partner."""
    return _team_form(db.session.get(Team, team_id) or abort(404))


def _team_form(team: Team | None):
    parents = [(i, n) for i, n in db.session.execute(select(Team.id, Team.name).order_by(Team.name))
               if team is None or i != team.id]
    form = TeamForm(obj=team, hr_partners=hr_partner_choices(), parents=parents)
    if request.method == "GET" and team is not None:
        form.hr_partner_id.data = str(team.hr_partner_id or "")
        form.work_pattern.data = team.work_pattern.value if team.work_pattern else ""
        form.parent_id.data = str(team.parent_id or "")
        form.manager_email.data = team.manager.email if team.manager else ""
    if form.validate_on_submit():
        partner, parent = form.hr_partner_id.data, form.parent_id.data
        try:
            saved = save_team(team, {
                "name": form.name.data, "description": form.description.data,
                "hr_partner_id": int(partner) if (partner or "").isdigit() else None,
                "work_pattern": form.work_pattern.data or None,
                "parent_id": int(parent) if (parent or "").isdigit() else None,
                "manager_email": form.manager_email.data or "",
            }, actor_id=current_user.id)
            replanned = set_one_on_one_cadence(saved, form.one_on_one_cadence_days.data,
                                               actor_id=current_user.id)
        except (PeopleValidationError, JourneyValidationError) as error:
            db.session.rollback()
            for name, message in error.errors.items():
                form[name].errors = [*form[name].errors, message]
        else:
            db.session.commit()
            flash(f"Team {saved.name} is saved." + (
                f" One-on-ones re-planned for {replanned} "
                f"{'person' if replanned == 1 else 'people'} at the new cadence." if replanned else ""
            ), "success")
            return redirect(url_for("people.teams"))
    return render_template("people/team_form.html", form=form, team=team), \
        400 if form.errors else 200
