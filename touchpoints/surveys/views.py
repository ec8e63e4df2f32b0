"""Survey pages: answering (everyone), authoring and rounds (HR), results (HR and managers)."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import func, select
from wtforms import SelectChoice

from touchpoints.auth.access import hr_only, managers, signed_in
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.people.models import LifecycleStatus, Team
from touchpoints.surveys import anonymity, charts, engagement, feedback, services
from touchpoints.surveys.anonymity import DIMENSIONS, NONE, FilterError, Results
from touchpoints.surveys.forms import (
    ConfirmForm,
    QuestionForm,
    ResultsFilterForm,
    RoundForm,
    SurveyForm,
    answer_form_class,
    field_name,
)
from touchpoints.surveys.models import (
    AudienceKind,
    QuestionKind,
    RoundStatus,
    Survey,
    SurveyParticipation,
    SurveyRound,
    TenureBand,
)
from touchpoints.surveys.pack import PackError, load_pack

bp = Blueprint("surveys", __name__, url_prefix="/surveys")

TREND_ROUNDS = 26
CHART_MAX_BARS = 25
COMMENTS_PER_PAGE = 50


# ---------------------------------------------------------------------------------------------
# Helpers shared by the templates


def local(moment: datetime | None, fmt: str = "%-d %b %Y, %H:%M") -> str:
    """A UTC moment in the viewer's own time zone."""
    if moment is None:
        return "—"
    return moment.astimezone(ZoneInfo(current_user.employee.timezone)).strftime(fmt)


def local_day(moment: datetime | None) -> str:
    return local(moment, "%a %-d %b %Y")


def percent(share: float | None) -> str:
    return "—" if share is None else f"{round(100 * share)}%"


def score(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


@bp.context_processor
def template_helpers() -> dict:
    return {"local": local, "local_day": local_day, "percent": percent, "score": score,
            "QuestionKind": QuestionKind, "RoundStatus": RoundStatus}


@bp.app_template_global("open_surveys")
def open_surveys() -> list[services.OpenInvitation]:
    """The surveys waiting for the signed-in person (one query; for the home banner)."""
    if not current_user.is_authenticated:
        return []
    return services.open_invitations(current_user.employee_id)


@bp.app_template_global("survey_connection_alerts")
def survey_connection_alerts(limit: int = 10) -> list:
    """The newest feedback-loop alerts the signed-in person may see (for the compliance dashboard)."""
    if not current_user.is_authenticated or not (current_user.is_hr or current_user.is_manager):
        return []
    scope = anonymity.scope_for(current_user)
    team_ids = None if scope.sees_everything else set(scope.team_ids or ())
    return feedback.recent_alerts(limit, team_ids=team_ids)


def _survey_or_404(survey_id: int) -> Survey:
    return db.session.get(Survey, survey_id) or abort(404)


def _round_or_404(round_id: int) -> SurveyRound:
    return db.session.get(SurveyRound, round_id) or abort(404)


def _attach_errors(form, errors: dict[str, str], fallback: str | None = None) -> None:
    for name, message in errors.items():
        target = name if name in form else fallback
        if target:
            form[target].errors = [*form[target].errors, message]
        else:
            flash(message, "error")


# ---------------------------------------------------------------------------------------------
# Everyone: open surveys and answering


@bp.get("/")
@signed_in
def index():
    """The surveys waiting for me, and the ones I answered (when, never what)."""
    me = current_user.employee_id
    return render_template("surveys/index.html", waiting=services.open_invitations(me),
                           answered=services.answered_rounds(me))


@bp.route("/rounds/<int:round_id>/answer", methods=["GET", "POST"])
@signed_in
def answer(round_id: int):
    """Answer a round I was invited to."""
    round_ = _round_or_404(round_id)
    invitation = services.invitation_for(round_id, current_user.employee_id)
    if invitation is None:
        abort(404)
    answered_on = db.session.scalar(select(SurveyParticipation.responded_on).where(
        SurveyParticipation.round_id == round_id,
        SurveyParticipation.employee_id == current_user.employee_id))
    if answered_on is not None or round_.status is not RoundStatus.OPEN or round_.closes_at <= utcnow():
        return render_template("surveys/closed.html", round=round_, answered_on=answered_on), \
            200 if answered_on else 410
    questions = services.questions_for(round_, new_hire=invitation.new_hire)
    form = answer_form_class(questions)()
    status = 200
    if form.validate_on_submit():
        answers = {q.key: form[field_name(q)].data for q in questions}
        try:
            services.submit_response(round_id, current_user.employee_id, answers)
        except services.AnswerValidationError as error:
            by_key = {q.key: field_name(q) for q in questions}
            _attach_errors(form, {by_key.get(k, k): v for k, v in error.errors.items()})
            status = 422
        except services.AlreadyAnswered:
            flash("You had already answered this round; your first answers stand.", "info")
            return redirect(url_for("surveys.index"))
        except services.SubmissionError as error:
            flash(str(error), "error")
            return redirect(url_for("surveys.index"))
        else:
            return redirect(url_for("surveys.thanks", round_id=round_id))
    elif request.method == "POST":
        status = 422
    return render_template("surveys/answer.html", round=round_, survey=round_.survey, form=form,
                           questions=questions, field_name=field_name, preview=False), status


@bp.get("/rounds/<int:round_id>/thanks")
@signed_in
def thanks(round_id: int):
    """After answering: what happens to the answers, in plain words."""
    round_ = _round_or_404(round_id)
    if not services.has_answered(round_id, current_user.employee_id):
        return redirect(url_for("surveys.answer", round_id=round_id))
    return render_template("surveys/thanks.html", round=round_)


# ---------------------------------------------------------------------------------------------
# HR: surveys and questions


@bp.get("/manage")
@hr_only
def manage():
    """All surveys with their latest round and what is open now."""
    surveys = db.session.scalars(select(Survey).order_by(Survey.archived_at.is_not(None), Survey.title)).all()
    rounds = db.session.scalars(
        select(SurveyRound).where(SurveyRound.status.in_((RoundStatus.OPEN, RoundStatus.SCHEDULED)))
        .order_by(SurveyRound.opens_at)).all()
    by_survey: dict[int, list[SurveyRound]] = {}
    for r in rounds:
        by_survey.setdefault(r.survey_id, []).append(r)
    closed = dict(db.session.execute(select(SurveyRound.survey_id, func.count()).where(
        SurveyRound.status == RoundStatus.CLOSED).group_by(SurveyRound.survey_id)).all())
    return render_template("surveys/manage.html", surveys=surveys, active=by_survey, closed=closed,
                           alerts=feedback.recent_alerts(5), form=ConfirmForm())


@bp.post("/manage/load-defaults")
@hr_only
def load_defaults():
    """Add the default connection pulse (skipped when it is already there)."""
    try:
        created = load_pack(actor_id=current_user.id)
    except PackError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("surveys.manage"))
    db.session.commit()
    flash(f"Added {', '.join(s.title for s in created)}." if created
          else "The default surveys are already here.", "success" if created else "info")
    return redirect(url_for("surveys.manage"))


@bp.route("/new", methods=["GET", "POST"])
@hr_only
def new():
    """Start a survey; questions come next."""
    form = SurveyForm()
    if form.validate_on_submit():
        try:
            survey = services.create_survey(form.data, actor_id=current_user.id)
        except services.SurveyValidationError as error:
            _attach_errors(form, error.errors)
        else:
            db.session.commit()
            flash("Survey created. Add its questions.", "success")
            return redirect(url_for("surveys.detail", survey_id=survey.id))
    return render_template("surveys/survey_form.html", form=form, survey=None), 422 if form.errors else 200


@bp.get("/<int:survey_id>")
@hr_only
def detail(survey_id: int):
    """A survey: its questions (current version), versions and rounds."""
    survey = _survey_or_404(survey_id)
    rounds = db.session.scalars(select(SurveyRound).where(SurveyRound.survey_id == survey_id)
                                .order_by(SurveyRound.sequence.desc())).all()
    responded = dict(db.session.execute(
        select(SurveyParticipation.round_id, func.count())
        .where(SurveyParticipation.round_id.in_([r.id for r in rounds]))
        .group_by(SurveyParticipation.round_id)).all()) if rounds else {}
    used_by: dict[int, list[str]] = {}
    for r in rounds:
        if r.version_id:
            used_by.setdefault(r.version_id, []).append(r.label)
    return render_template("surveys/detail.html", survey=survey, rounds=rounds, responded=responded,
                           used_by=used_by, form=ConfirmForm())


@bp.route("/<int:survey_id>/edit", methods=["GET", "POST"])
@hr_only
def edit(survey_id: int):
    """Change a survey's title, description and feedback-loop thresholds."""
    survey = _survey_or_404(survey_id)
    form = SurveyForm(obj=survey)
    if form.validate_on_submit():
        try:
            services.update_survey(survey, form.data, actor_id=current_user.id)
        except services.SurveyValidationError as error:
            _attach_errors(form, error.errors)
        else:
            db.session.commit()
            flash("Survey saved.", "success")
            return redirect(url_for("surveys.detail", survey_id=survey.id))
    return render_template("surveys/survey_form.html", form=form, survey=survey), 422 if form.errors else 200


@bp.post("/<int:survey_id>/archive")
@hr_only
def archive(survey_id: int):
    """Archive a survey, or restore an archived one."""
    survey = _survey_or_404(survey_id)
    if ConfirmForm().validate_on_submit():
        try:
            services.set_archived(survey, survey.archived_at is None, actor_id=current_user.id)
        except services.SurveyValidationError as error:
            flash(" ".join(error.errors.values()), "error")
        else:
            db.session.commit()
            flash("Survey archived." if survey.archived_at else "Survey restored.", "success")
    return redirect(url_for("surveys.detail", survey_id=survey.id))


def _question_form_data(form: QuestionForm) -> dict:
    return {"kind": form.kind.data, "prompt": form.prompt.data, "help_text": form.help_text.data,
            "choices": form.choices.data, "audience": form.audience.data,
            "counts_toward_connection": form.counts_toward_connection.data}


@bp.route("/<int:survey_id>/questions/new", methods=["GET", "POST"])
@hr_only
def add_question(survey_id: int):
    """Add a question to the survey's next version."""
    survey = _survey_or_404(survey_id)
    form = QuestionForm()
    if form.validate_on_submit():
        try:
            services.add_question(survey, _question_form_data(form), actor_id=current_user.id)
        except services.SurveyValidationError as error:
            _attach_errors(form, error.errors)
        else:
            db.session.commit()
            flash("Question added.", "success")
            return redirect(url_for("surveys.detail", survey_id=survey.id))
    return render_template("surveys/question_form.html", form=form, survey=survey, question=None), \
        422 if form.errors else 200


def _question_or_404(survey: Survey, key: str):
    return next((q for q in survey.current_version.questions if q.key == key), None) or abort(404)


@bp.route("/<int:survey_id>/questions/<key>/edit", methods=["GET", "POST"])
@hr_only
def edit_question(survey_id: int, key: str):
    """Change a question (a version already answered keeps the old wording)."""
    survey = _survey_or_404(survey_id)
    question = _question_or_404(survey, key)
    form = QuestionForm(obj=question)
    if request.method == "GET":
        form.kind.data = question.kind.value
        form.audience.data = question.audience.value
        form.choices.data = "\n".join(c["label"] for c in question.choices or [])
    if form.validate_on_submit():
        try:
            services.update_question(survey, key, _question_form_data(form), actor_id=current_user.id)
        except services.SurveyValidationError as error:
            _attach_errors(form, error.errors)
        else:
            db.session.commit()
            flash("Question saved.", "success")
            return redirect(url_for("surveys.detail", survey_id=survey.id))
    return render_template("surveys/question_form.html", form=form, survey=survey, question=question), \
        422 if form.errors else 200


@bp.post("/<int:survey_id>/questions/<key>/move")
@hr_only
def move_question(survey_id: int, key: str):
    """Move a question up or down one place."""
    survey = _survey_or_404(survey_id)
    _question_or_404(survey, key)
    if ConfirmForm().validate_on_submit():
        try:
            services.move_question(survey, key, request.form.get("direction", ""), actor_id=current_user.id)
        except services.SurveyValidationError as error:
            flash(" ".join(error.errors.values()), "error")
        else:
            db.session.commit()
    return redirect(url_for("surveys.detail", survey_id=survey.id, _anchor="questions"))


@bp.post("/<int:survey_id>/questions/<key>/remove")
@hr_only
def remove_question(survey_id: int, key: str):
    """Take a question out of the survey's next version."""
    survey = _survey_or_404(survey_id)
    question = _question_or_404(survey, key)
    if ConfirmForm().validate_on_submit():
        prompt = question.prompt
        services.remove_question(survey, key, actor_id=current_user.id)
        db.session.commit()
        flash(f"Removed “{prompt}”.", "success")
    return redirect(url_for("surveys.detail", survey_id=survey.id, _anchor="questions"))


@bp.get("/<int:survey_id>/preview")
@hr_only
def preview(survey_id: int):
    """The survey as a respondent sees it (new hires see the onboarding questions too)."""
    survey = _survey_or_404(survey_id)
    new_hire = request.args.get("new_hire") == "1"
    questions = [q for q in survey.current_version.questions if q.applies_to(new_hire)]
    form = answer_form_class(questions)(formdata=None)
    return render_template("surveys/answer.html", round=None, survey=survey, form=form, questions=questions,
                           field_name=field_name, preview=True, new_hire=new_hire)


# ---------------------------------------------------------------------------------------------
# HR: rounds


def _round_form(form: RoundForm) -> RoundForm:
    form.team_ids.choices = [SelectChoice(str(team_id), name) for team_id, name in
                             db.session.execute(select(Team.id, Team.name).order_by(Team.name))]
    return form


def _all_round_errors(form: RoundForm, tz: str) -> None:
    """When the form's own checks fail, add the service's too, so every problem shows at once."""
    try:
        services.plan_round(form.data_for_service(), tz=tz)
    except services.SurveyValidationError as error:
        _attach_errors(form, {k: v for k, v in error.errors.items() if k not in form.errors},
                       fallback="opens_on")


@bp.route("/<int:survey_id>/rounds/new", methods=["GET", "POST"])
@hr_only
def new_round(survey_id: int):
    """Plan a round: when, for whom, how often, and the anonymity threshold."""
    survey = _survey_or_404(survey_id)
    form = _round_form(RoundForm())
    if request.method == "GET":
        form.opens_on.data = date.today()
    if form.validate_on_submit():
        try:
            round_ = services.schedule_round(survey, form.data_for_service(),
                                             tz=current_user.employee.timezone, actor_id=current_user.id)
        except services.SurveyValidationError as error:
            _attach_errors(form, error.errors, fallback="opens_on")
        else:
            db.session.commit()
            flash(f"{round_.label} is planned. It opens on {local_day(round_.opens_at)}.", "success")
            return redirect(url_for("surveys.round_detail", round_id=round_.id))
    elif form.is_submitted():
        _all_round_errors(form, current_user.employee.timezone)
    return render_template("surveys/round_form.html", form=form, survey=survey, round=None), \
        422 if form.errors else 200


@bp.route("/rounds/<int:round_id>/edit", methods=["GET", "POST"])
@hr_only
def edit_round(round_id: int):
    """Change a round that has not opened yet."""
    round_ = _round_or_404(round_id)
    if round_.status is not RoundStatus.SCHEDULED:
        flash(f"{round_.label} has opened; its plan and threshold are fixed.", "info")
        return redirect(url_for("surveys.round_detail", round_id=round_id))
    form = _round_form(RoundForm())
    tz = current_user.employee.timezone
    if request.method == "GET":
        form.opens_on.data = round_.opens_at.astimezone(ZoneInfo(tz)).date()
        form.open_days.data = max(1, round((round_.closes_at - round_.opens_at).total_seconds() / 86400))
        form.audience_kind.data = round_.audience_kind.value
        form.team_ids.data = list(round_.audience_team_ids or [])
        form.stages.data = list(round_.audience_stages or [])
        form.milestone_days.data = round_.milestone_days
        form.milestone_window_days.data = round_.milestone_window_days
        form.repeat_every_days.data = round_.repeat_every_days
        form.send_reminder.data = round_.remind_at is not None
        form.min_group_size.data = round_.min_group_size
    if form.validate_on_submit():
        try:
            services.update_round(round_, form.data_for_service(), tz=tz, actor_id=current_user.id)
        except services.SurveyValidationError as error:
            _attach_errors(form, error.errors, fallback="opens_on")
        else:
            db.session.commit()
            flash(f"{round_.label} is saved.", "success")
            return redirect(url_for("surveys.round_detail", round_id=round_.id))
    elif form.is_submitted():
        _all_round_errors(form, tz)
    return render_template("surveys/round_form.html", form=form, survey=round_.survey, round=round_), \
        422 if form.errors else 200


@bp.get("/rounds/<int:round_id>")
@hr_only
def round_detail(round_id: int):
    """A round's plan, audience and live participation (never answers while it is open)."""
    round_ = _round_or_404(round_id)
    total, teams = services.participation_by_team(round_)
    team_names = {}
    if round_.audience_kind is AudienceKind.TEAMS:
        team_names = dict(db.session.execute(select(Team.id, Team.name).where(
            Team.id.in_(round_.audience_team_ids or [-1]))).all())
    audience_preview = None
    if round_.status is RoundStatus.SCHEDULED:
        audience_preview = services.audience_size(round_, round_.opens_at.date())
    return render_template("surveys/round_detail.html", round=round_, survey=round_.survey, total=total,
                           teams=teams, team_names=team_names, audience_preview=audience_preview,
                           stage_labels={s.value: s.label for s in LifecycleStatus}, form=ConfirmForm())


@bp.post("/rounds/<int:round_id>/open")
@hr_only
def open_now(round_id: int):
    """Open a planned round now instead of waiting for its day."""
    round_ = _round_or_404(round_id)
    if ConfirmForm().validate_on_submit():
        if services.open_round(round_.id, actor_id=current_user.id):
            round_ = _round_or_404(round_id)
            flash(f"{round_.label} is open: {round_.invited_count} people invited.", "success")
        else:
            flash(f"{round_.label} could not be opened (it is no longer planned, or has no questions).",
                  "error")
    return redirect(url_for("surveys.round_detail", round_id=round_id))


@bp.post("/rounds/<int:round_id>/close")
@hr_only
def close_now(round_id: int):
    """Close an open round early; its results appear at once."""
    round_ = _round_or_404(round_id)
    if ConfirmForm().validate_on_submit():
        if services.close_round(round_.id, actor_id=current_user.id):
            flash(f"{round_.label} is closed; its results are ready.", "success")
        else:
            flash(f"{round_.label} is not open.", "error")
    return redirect(url_for("surveys.round_detail", round_id=round_id))


@bp.post("/rounds/<int:round_id>/cancel")
@hr_only
def cancel(round_id: int):
    """Cancel a planned round."""
    round_ = _round_or_404(round_id)
    if ConfirmForm().validate_on_submit():
        try:
            services.cancel_round(round_, actor_id=current_user.id)
        except services.SurveyValidationError as error:
            flash(" ".join(error.errors.values()), "error")
        else:
            db.session.commit()
            flash(f"{round_.label} is cancelled.", "success")
    return redirect(url_for("surveys.round_detail", round_id=round_id))


# ---------------------------------------------------------------------------------------------
# Results: HR partners (everything) and managers (their teams)


@bp.get("/results")
@managers
def results_home():
    """Go to the results of the survey with the latest closed round."""
    latest = db.session.scalar(select(SurveyRound.survey_id).where(SurveyRound.status == RoundStatus.CLOSED)
                               .order_by(SurveyRound.closed_at.desc()).limit(1))
    if latest is not None:
        return redirect(url_for("surveys.results", survey_id=latest))
    return render_template("surveys/results_empty.html")


def _closed_rounds(survey_id: int) -> list[SurveyRound]:
    return list(db.session.scalars(
        select(SurveyRound).where(SurveyRound.survey_id == survey_id,
                                  SurveyRound.status == RoundStatus.CLOSED,
                                  SurveyRound.results_built_at.is_not(None))
        .order_by(SurveyRound.sequence.desc()).limit(TREND_ROUNDS)))


def _results_request(scope: anonymity.Scope, rounds: list[SurveyRound]):
    """The filter form, the chosen round, filters, breakdown and a read cache from the query string."""
    form = ResultsFilterForm(request.args)
    form.round.choices = [SelectChoice(str(r.id), f"{r.label} · closed {local_day(r.closes_at)}")
                          for r in rounds]
    teams = db.session.execute(select(Team.id, Team.name).order_by(Team.name)).all()
    # The anonymity layer labels groups with these names instead of loading them again.
    cache = anonymity.ReadCache(team_names={t.id: t.name for t in teams})
    if scope.team_ids is not None:
        teams = [t for t in teams if t.id in scope.team_ids]
    form.team.choices = [SelectChoice("", "All teams" if scope.sees_everything else "Choose a team"),
                         *(SelectChoice(str(t.id), t.name) for t in teams)]
    if scope.sees_everything:
        form.team.choices.append(SelectChoice(NONE, "Other teams (too small to report)"))
    form.stage.choices = [SelectChoice("", "All stages"),
                          *(SelectChoice(s.value, s.label) for s in LifecycleStatus)]
    form.tenure.choices = [SelectChoice("", "Any tenure"),
                           *(SelectChoice(b.value, b.label) for b in TenureBand)]
    chosen = next((r for r in rounds if str(r.id) == form.round.data), rounds[0] if rounds else None)
    if scope.team_ids is not None and len(scope.team_ids) == 1 and "team" not in request.args \
            and "by" not in request.args:
        # A manager of one team starts on that team as a whole.
        form.team.data, form.by.data = str(next(iter(scope.team_ids))), "none"
    filters = {dim: (form[dim].data or "") for dim in DIMENSIONS}
    breakdown = form.by.data or "team"
    if filters.get(breakdown):
        breakdown = next((d for d in DIMENSIONS if not filters[d]), "none")
        form.by.data = breakdown
    return form, chosen, filters, breakdown, cache


def _breakdown_chart(results: Results):
    if not results.groups:
        return None
    groups = results.groups
    title = "Connection score by " + anonymity.DIMENSION_LABELS[results.breakdown].lower()
    if len(groups) > CHART_MAX_BARS:
        # A chart of hundreds of bars helps nobody: show where attention is needed most.
        scored = sorted((g for g in groups if g.shown and g.connection is not None),
                        key=lambda g: g.connection)
        groups = scored[:CHART_MAX_BARS]
        title += f": the {len(groups)} lowest of {len(results.groups)} (every group is in the table)"
    items = [(g.label, g.connection if g.shown else None,
              score(g.connection) if g.shown and g.connection is not None else "hidden")
             for g in groups]
    reference = (results.slice.connection, f"{results.slice.label} {score(results.slice.connection)}") \
        if results.slice.shown and results.slice.connection is not None else None
    return charts.bar_chart(title, items, low=1, high=5, ticks=[1, 2, 3, 4, 5], reference=reference,
                            unit=" out of 5")


def _trend_charts(points: list[anonymity.TrendPoint], survey: Survey):
    if len(points) < 2:
        return None, None
    connection = charts.line_chart(
        "Connection score over rounds",
        [(p.round.label.replace("Round ", "R"), p.group.connection,
          score(p.group.connection)) for p in points],
        low=1, high=5, y_ticks=[1, 2, 3, 4, 5],
        reference=(survey.alert_below, f"Alert below {survey.alert_below:g}"))
    enps = charts.line_chart(
        "eNPS over rounds",
        [(p.round.label.replace("Round ", "R"), p.group.enps.score if p.group.enps else None,
          str(p.group.enps.score) if p.group.enps else "hidden") for p in points],
        low=-100, high=100, y_ticks=[-100, -50, 0, 50, 100])
    return connection, enps


@bp.get("/<int:survey_id>/results")
@managers
def results(survey_id: int):
    """Scores, eNPS, breakdowns, trends and comments, through the anonymity rules."""
    survey = _survey_or_404(survey_id)
    scope = anonymity.scope_for(current_user)
    rounds = _closed_rounds(survey_id)
    form, chosen, filters, breakdown, cache = _results_request(scope, rounds)
    context = {"survey": survey, "form": form, "round": chosen, "scope": scope, "rounds": rounds}
    if chosen is None:
        return render_template("surveys/results.html", **context, results=None)
    try:
        result = anonymity.group_results([chosen], scope, filters=filters, breakdown=breakdown, cache=cache,
                                         group_detail="summary")
    except FilterError as error:
        _attach_errors(form, {("by" if k == "by" else k): v for k, v in error.errors.items()})
        return render_template("surveys/results.html", **context, results=None), 400
    points = anonymity.trend(list(reversed(rounds)), scope, filters=result.filters, cache=cache)
    trend_connection, trend_enps = _trend_charts(points, survey)
    comments = None
    if scope.sees_everything or "team" in result.filters:
        page = max(1, request.args.get("comments_page", 1, type=int) or 1)
        comments = anonymity.comments([chosen], scope, filters=result.filters, cache=cache,
                                      limit=COMMENTS_PER_PAGE, offset=(page - 1) * COMMENTS_PER_PAGE)
        context["comments_page"] = page
    alerts = feedback.recent_alerts(10, team_ids=None if scope.sees_everything else set(scope.team_ids or ()))
    alerts = [a for a in alerts if a.round_id == chosen.id]
    return render_template("surveys/results.html", **context, results=result, points=points,
                           breakdown_chart=_breakdown_chart(result), trend_connection=trend_connection,
                           trend_enps=trend_enps, comments=comments, alerts=alerts,
                           per_page=COMMENTS_PER_PAGE)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def results_rows(result: Results) -> list[list[object]]:
    """Aggregates only, one row per group: the CSV export (comments are never exported)."""
    questions = [q.question for q in (result.slice.questions or next(
        (g.questions for g in result.groups if g.questions), []))
        if q.question.kind is not QuestionKind.SHORT_TEXT]
    header = ["Group", "Invited", "Respondents", "Participation %", "Connection (1-5)", "eNPS",
              *[f"{q.prompt} ({'share' if q.kind is QuestionKind.SINGLE_CHOICE else 'mean'})"
                for q in questions],
              "Shown"]
    rows: list[list[object]] = [header]
    for group in [result.slice, *result.groups]:
        if group.refusal is not None and group.refusal.code == "not_in_scope":
            continue
        by_id = {q.question.id: q for q in group.questions}
        cells: list[object] = [group.label, group.invited, group.respondents,
                               round(100 * group.participation) if group.participation is not None else ""]
        if group.shown:
            cells += [round(group.connection, 2) if group.connection is not None else "",
                      group.enps.score if group.enps else ""]
            for q in questions:
                r = by_id.get(q.id)
                if r is None or not r.shown:
                    cells.append("")
                elif q.kind is QuestionKind.SINGLE_CHOICE:
                    cells.append("; ".join(f"{b.label}: {round(100 * b.share)}%" for b in r.buckets))
                else:
                    cells.append(round(r.mean, 2) if r.mean is not None else "")
            cells.append("yes")
        else:
            cells += [""] * (2 + len(questions)) + [f"no: {group.refusal.message}"]
        rows.append([neutralise(c) for c in cells])
    return rows


@bp.get("/<int:survey_id>/results.csv")
@managers
def results_csv(survey_id: int):
    """The aggregates on screen as CSV: no comments, no hidden groups' figures."""
    survey = _survey_or_404(survey_id)
    scope = anonymity.scope_for(current_user)
    rounds = _closed_rounds(survey_id)
    _, chosen, filters, breakdown, cache = _results_request(scope, rounds)
    if chosen is None:
        abort(404)
    try:
        result = anonymity.group_results([chosen], scope, filters=filters, breakdown=breakdown, cache=cache,
                                         group_detail="figures")
    except FilterError as error:
        abort(400, description=" ".join(error.errors.values()))
    buffer = io.StringIO()
    csv.writer(buffer).writerows(results_rows(result))
    filename = f"{survey.key or 'survey-' + str(survey.id)}-round-{chosen.sequence}.csv"
    return Response(buffer.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/engagement")
@hr_only
def engagement_page():
    """Per team: the human-touch index beside the pulse scores, to see whether one moves the other."""
    surveys = db.session.scalars(select(Survey).join(SurveyRound, SurveyRound.survey_id == Survey.id)
                                 .where(SurveyRound.status == RoundStatus.CLOSED).distinct()
                                 .order_by(Survey.title)).all()
    wanted = request.args.get("survey")
    chosen = next((s for s in surveys if str(s.id) == wanted), surveys[0] if surveys else None)
    latest = _closed_rounds(chosen.id)[:1] if chosen else []
    data = engagement.human_touch_against_engagement(latest[0] if latest else None)
    points = [(row.name, row.touch.index, row.pulse.connection,
               f"index {row.touch.index:.0f}, connection {row.pulse.connection:.1f}")
              for row in data.rows if row.touch.index is not None and row.pulse.connection is not None]
    chart = charts.scatter_chart(
        "Human-touch index against connection score, per team", points, x_range=(0, 100), y_range=(1, 5),
        x_ticks=[0, 25, 50, 75, 100], y_ticks=[1, 2, 3, 4, 5],
        x_label="Human-touch index (0-100)", y_label="Connection (1-5)") if points else None
    return render_template("surveys/engagement.html", surveys=surveys, survey=chosen, data=data, chart=chart,
                           window=engagement.WINDOW_DAYS, recent=engagement.RECENT_ONE_ON_ONE_DAYS)


@bp.get("/alerts")
@hr_only
def alerts():
    """The feedback loop: teams whose connection fell, and the conversations planned."""
    return render_template("surveys/alerts.html", alerts=feedback.recent_alerts(100))
