"""Policies pages (HR): list, create, edit as drafts, dry run, activate, versions and restore, export;
the compliance dashboard (HR and managers) and the list of overrides (HR).
"""
from __future__ import annotations

from math import ceil

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.core import UnboundField

from touchpoints.auth.access import hr_only, managers
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.people.models import Team
from touchpoints.policies import compliance, services
from touchpoints.policies.charts import trend_chart
from touchpoints.policies.forms import ActivateForm, ConfirmForm, PolicyForm
from touchpoints.policies.models import Policy, PolicyVersion, VersionStatus
from touchpoints.policies.rules import RULE_KINDS

bp = Blueprint("policies", __name__)
PER_PAGE = 50


# What HR calls each field of a definition, from the policy form's own labels, so a change reads
# "Look back (days): 90 -> 60" and not "params.lookback_days".
FIELD_LABELS = {name: str(field.args[0]) for name, field in vars(PolicyForm).items()
                if isinstance(field, UnboundField) and field.args}
FIELD_LABELS.update(rule="Rule kind", status="Status", version="Version")


def field_label(path: str) -> str:
    """A definition's field path (params.days, scope.kinds) in the words the policy form uses."""
    name = path.split(".", 1)[-1] if path.startswith(("params.", "scope.")) else path
    return FIELD_LABELS.get(name, name.replace("_", " ").capitalize())


@bp.context_processor
def viewer_zone() -> dict:
    """The reader's own IANA zone: history and overrides show when things happened in it, not in UTC."""
    employee = getattr(current_user, "employee", None)
    # An error page drawn for someone signed out still renders here: the company's zone then.
    zone = employee.timezone if employee else current_app.config["DEFAULT_TIMEZONE"]
    return {"viewer_zone": zone, "field_label": field_label}


def _policy_or_404(policy_id: int) -> Policy:
    return services.get_policy(policy_id) or abort(404)


def _version_or_404(policy: Policy, number: int) -> PolicyVersion:
    return services.version_of(policy, number) or abort(404)


def _team_names() -> list[str]:
    return list(db.session.scalars(select(Team.name).order_by(Team.name)))


def _page_arg() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


# ---------------------------------------------------------------- policies


@bp.get("/policies")
@hr_only
def index():
    """Every policy: what it asks, whether it is enforced, and how many people break it today."""
    rows = services.list_policies()
    report = compliance.report_for(current_user)
    counts = {policy.policy_id: (violations, people) for policy, violations, people in report.by_policy()}
    return render_template("policies/index.html", rows=rows, counts=counts, report=report,
                           overrides=compliance.override_count(), rule_kinds=RULE_KINDS,
                           confirm_form=ConfirmForm())


@bp.get("/policies/export")
@hr_only
def export():
    """The active policies as a YAML policy file, to keep in version control or load elsewhere."""
    text = services.export_policies()
    stamp = utcnow().strftime("%Y-%m-%d")
    return Response(text, mimetype="application/yaml", headers={
        "Content-Disposition": f'attachment; filename="touchpoints-policies-{stamp}.yaml"'})


def _render_form(form: PolicyForm, *, policy: Policy | None, status: int = 200):
    cls = form.rule_class()
    return render_template("policies/form.html", form=form, policy=policy, rule=cls,
                           fields=cls.PARAMS if cls else ()), status


@bp.route("/policies/new", methods=["GET", "POST"])
@hr_only
def new():
    """Pick a rule kind, then fill in the policy; saving makes a draft and shows its dry run."""
    form = PolicyForm()
    form.set_team_choices(_team_names())
    if request.method == "GET":
        cls = RULE_KINDS.get(request.args.get("rule", ""))
        if cls is None:
            return render_template("policies/choose.html", rule_kinds=RULE_KINDS)
        form.fill_defaults(cls)
        return _render_form(form, policy=None)
    if form.rule_class() is None:
        abort(400)
    if form.validate_on_submit():
        try:
            version = services.create_policy(form.to_definition(), actor_id=current_user.id,
                                             change_note=form.change_note.data or "")
        except services.PolicyValidationError as error:
            db.session.rollback()
            form.place_errors(error.errors)
        else:
            db.session.commit()
            flash(f"Draft of {version.name} saved. Read its dry run, then activate it.", "success")
            return redirect(url_for("policies.dry_run", policy_id=version.policy_id))
    return _render_form(form, policy=None, status=400)


@bp.get("/policies/<int:policy_id>")
@hr_only
def detail(policy_id: int):
    """One policy: its enforced version, its draft, who breaks it today, its versions and history."""
    policy = _policy_or_404(policy_id)
    active, draft = services.active_version(policy), services.draft_version(policy)
    report = compliance.report_for(current_user)
    violations = report.of_policy(policy.id)
    return render_template(
        "policies/detail.html", policy=policy, active=active, draft=draft,
        spec=services.spec_of(active or draft or policy.versions[-1]),
        violations=violations[:PER_PAGE], violation_total=len(violations),
        people_total=report.people_of_policy(policy.id), people=report.people,
        team_violations=report.teams_of_policy(policy.id),
        in_scope=report.in_scope.get(policy.id), history=services.policy_history(policy),
        changes=services.audit_changes,
        confirm_form=ConfirmForm(), rule=RULE_KINDS[(active or draft or policy.versions[-1]).rule_kind])


@bp.route("/policies/<int:policy_id>/edit", methods=["GET", "POST"])
@hr_only
def edit(policy_id: int):
    """Change a policy: the change is saved as a draft, and nothing is enforced until it is activated."""
    policy = _policy_or_404(policy_id)
    base = services.draft_version(policy) or services.active_version(policy) or policy.versions[-1]
    form = PolicyForm()
    form.set_team_choices(_team_names())
    if request.method == "GET":
        form.fill(services.spec_of(base))
        return _render_form(form, policy=policy)
    form.rule.data = form.rule.data or base.rule_kind
    if form.rule_class() is None:
        abort(400)
    if form.validate_on_submit():
        try:
            services.save_draft(policy, form.to_definition(), actor_id=current_user.id,
                                change_note=form.change_note.data or "")
        except services.PolicyValidationError as error:
            db.session.rollback()
            form.place_errors(error.errors)
        else:
            db.session.commit()
            flash("Draft saved. Nothing changes until you activate it.", "success")
            return redirect(url_for("policies.dry_run", policy_id=policy.id))
    return _render_form(form, policy=policy, status=400)


@bp.get("/policies/<int:policy_id>/dry-run")
@hr_only
def dry_run(policy_id: int):
    """Exactly who and what the draft would put out of compliance with today's data, before activating."""
    policy = _policy_or_404(policy_id)
    draft = services.draft_version(policy)
    if draft is None:
        flash(f"{policy.name} has no draft to activate. Edit it to make one.", "warning")
        return redirect(url_for("policies.detail", policy_id=policy.id))
    result = services.dry_run_version(draft)
    page = _page_arg()
    people = result.report.by_person()
    current = services.active_version(policy)
    return render_template(
        "policies/dry_run.html", policy=policy, draft=draft, result=result,
        spec=services.spec_of(draft), rule=RULE_KINDS[draft.rule_kind], current=current,
        changes=services.definition_changes(current, draft),
        people=people[(page - 1) * PER_PAGE: page * PER_PAGE],
        page=page, pages=max(1, ceil(len(people) / PER_PAGE)), by_team=result.report.by_team(),
        activate_form=ActivateForm(version=str(draft.number)), confirm_form=ConfirmForm())


@bp.post("/policies/<int:policy_id>/activate")
@hr_only
def activate(policy_id: int):
    """Activate the draft HR just read the dry run of (refused if the draft changed meanwhile)."""
    policy = _policy_or_404(policy_id)
    form = ActivateForm()
    draft = services.draft_version(policy)
    if not form.validate_on_submit():
        abort(400)
    if draft is None or str(draft.number) != form.version.data:
        flash("The draft changed since you read its dry run: read it again before activating.", "error")
        return redirect(url_for("policies.dry_run", policy_id=policy.id) if draft
                        else url_for("policies.detail", policy_id=policy.id))
    try:
        services.activate(draft, actor_id=current_user.id)
    except services.PolicyError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("policies.detail", policy_id=policy.id))
    db.session.commit()
    flash(f"Version {draft.number} of {draft.name} is active from now on.", "success")
    return redirect(url_for("policies.detail", policy_id=policy.id))


@bp.post("/policies/<int:policy_id>/discard")
@hr_only
def discard(policy_id: int):
    """Throw the draft away; the active version stays as it is."""
    policy = _policy_or_404(policy_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    only = len(policy.versions) == 1
    try:
        services.discard_draft(policy, actor_id=current_user.id)
    except services.PolicyError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("policies.detail", policy_id=policy_id))
    db.session.commit()
    flash("Draft discarded.", "success")
    return redirect(url_for("policies.index") if only else url_for("policies.detail", policy_id=policy_id))


@bp.post("/policies/<int:policy_id>/switch-off")
@hr_only
def switch_off(policy_id: int):
    """Stop enforcing a policy; any of its versions can be restored later."""
    policy = _policy_or_404(policy_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.switch_off(policy, actor_id=current_user.id)
    except services.PolicyError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(f"{policy.name} is switched off. Restore a version to enforce it again.", "success")
    return redirect(url_for("policies.detail", policy_id=policy.id))


@bp.get("/policies/<int:policy_id>/versions/<int:number>")
@hr_only
def version(policy_id: int, number: int):
    """An older (or the current) version as it was written."""
    policy = _policy_or_404(policy_id)
    shown = _version_or_404(policy, number)
    return render_template("policies/version.html", policy=policy, version=shown,
                           spec=services.spec_of(shown), rule=RULE_KINDS[shown.rule_kind],
                           draft=services.draft_version(policy), confirm_form=ConfirmForm())


@bp.post("/policies/<int:policy_id>/versions/<int:number>/restore")
@hr_only
def restore(policy_id: int, number: int):
    """Copy an older version into a new draft and show its dry run."""
    policy = _policy_or_404(policy_id)
    shown = _version_or_404(policy, number)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if shown.status is VersionStatus.DRAFT:
        return redirect(url_for("policies.dry_run", policy_id=policy.id))
    draft = services.restore(shown, actor_id=current_user.id)
    db.session.commit()
    flash(f"Version {number} is copied into draft v{draft.number}. Read its dry run, then activate it.",
          "success")
    return redirect(url_for("policies.dry_run", policy_id=policy.id))


# ---------------------------------------------------------------- compliance


@bp.get("/compliance")
@managers
def dashboard():
    """Current violations by rule, team, manager and person, with the weekly trend (HR)."""
    report = compliance.report_for(current_user)
    policy_filter = request.args.get("policy", type=int)
    team_filter = request.args.get("team", "")
    shown = report
    if policy_filter:
        shown = report.only_policy(policy_filter)
    if team_filter:
        ids = {pid for pid, person in report.people.items()
               if (str(person.team_id) if person.team_id else "none") == team_filter}
        shown = shown.restricted_to(ids)
    people = shown.by_person()
    page = _page_arg()
    trend = chart = None
    if current_user.is_hr:
        trend = compliance.weekly_trend(report, policy_id=policy_filter or None)
        chart = trend_chart(trend, title="People out of compliance, by week")
    teams = sorted({(p.team_id, p.team_name or "No team") for p in report.people.values()},
                   key=lambda t: t[1])
    return render_template(
        "policies/compliance.html", report=report, shown=shown, by_policy=shown.by_policy(),
        by_team=shown.by_team(), by_manager=shown.by_manager(),
        people=people[(page - 1) * PER_PAGE: page * PER_PAGE], people_total=len(people), page=page,
        pages=max(1, ceil(len(people) / PER_PAGE)), trend=trend, chart=chart,
        policies=report.policies, teams=teams, policy_filter=policy_filter, team_filter=team_filter,
        overrides=compliance.override_count() if current_user.is_hr else None)


@bp.get("/compliance/overrides")
@hr_only
def overrides():
    """Every override an HR partner granted: when, who, for whom, which policy, and why."""
    policy_filter = request.args.get("policy", type=int)
    pagination = compliance.list_overrides(page=_page_arg(), per_page=PER_PAGE, policy_id=policy_filter)
    policies = list(db.session.scalars(select(Policy).order_by(Policy.name)))
    return render_template("policies/overrides.html", pagination=pagination, policies=policies,
                           policy_filter=policy_filter)
