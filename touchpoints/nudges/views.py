"""Nudge pages: HR's delivery page, the notification list and settings, the Slack interactions
endpoint, the page Teams and email links open, and calendar downloads and feeds."""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from touchpoints.auth.access import hr_only, public, signed_in
from touchpoints.db_types import utcnow
from touchpoints.extensions import csrf, db
from touchpoints.journeys.access import can_manage_touchpoint, can_view_touchpoint
from touchpoints.journeys.errors import HumanTouchRefusal, JourneyError
from touchpoints.journeys.models import Mode, Touchpoint
from touchpoints.nudges import calendar as ics
from touchpoints.nudges.delivery_page import delivery_overview, describe_nudge, notification_rows
from touchpoints.nudges.forms import ActionForm, ConfirmActionForm, NotificationSettingsForm, TeamChannelForm
from touchpoints.nudges.interactions import SlackInteractions, log_from_chat
from touchpoints.nudges.links import LinkError, read_action
from touchpoints.nudges.models import (
    DeliveryChannel,
    DeliveryProfile,
    Nudge,
    NudgeStatus,
    TeamChannel,
)
from touchpoints.nudges.preferences import set_invites, set_teams_digest
from touchpoints.nudges.services import (
    NudgeActionError,
    dismiss_nudge,
    profile_for,
    resume_channel,
    retry_nudge,
)
from touchpoints.nudges.settings import NudgeSettings
from touchpoints.people.models import Employee, Team

bp = Blueprint("nudges", __name__)
NOTIFICATIONS_SHOWN = 50


# ---------------------------------------------------------------- Slack


@bp.post("/slack/interactions")
@public
def slack_interactions():
    """Slack calls this when a button or dialog is used; only requests Slack signed are answered."""
    # Imported here: slack-sdk costs every web worker 2.5 MB, and only this endpoint needs it.
    from slack_sdk.signature import SignatureVerifier

    settings = NudgeSettings.current()
    if not settings.slack_signing_secret:
        return jsonify(error="Slack interactivity is not set up (SLACK_SIGNING_SECRET)."), 503
    body = request.get_data(cache=True, as_text=True)
    verifier = SignatureVerifier(settings.slack_signing_secret)
    timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
    signature = request.headers.get("X-Slack-Signature", "")
    if not timestamp.isdigit() or not signature or not verifier.is_valid(body, timestamp, signature):
        return jsonify(error="invalid or stale signature"), 401
    try:
        payload = json.loads(request.form.get("payload", ""))
    except ValueError:
        return jsonify(error="no payload"), 400
    answer = SlackInteractions(settings).handle(payload)
    response = jsonify(answer.body) if answer.body is not None else Response()
    response.status_code = answer.status
    for later in answer.after:
        response.call_on_close(later)
    return response


csrf.exempt(slack_interactions)  # Slack cannot send our CSRF token; its signature stands in


# ---------------------------------------------------------------- links from Teams and email


def _link_touchpoint(token: str):
    settings = NudgeSettings.current()
    try:
        link = read_action(token, max_age_days=settings.action_link_days)
    except LinkError as error:
        return None, None, str(error)
    if link.recipient_id != current_user.employee_id:
        return None, None, "This link was sent to someone else. Open the touchpoint from your own message."
    tp = db.session.scalar(
        select(Touchpoint)
        .options(joinedload(Touchpoint.employee), joinedload(Touchpoint.owner))
        .where(Touchpoint.id == link.touchpoint_id)
    )
    if tp is None or not can_view_touchpoint(current_user, tp):
        return None, None, "This touchpoint is not there any more, or not yours to see."
    return link, tp, None


@bp.route("/nudges/act/<token>", methods=["GET", "POST"])
@signed_in
def act(token: str):
    """Where a Teams or email button leads: the person, signed in, confirms here (a GET changes nothing)."""
    link, tp, problem = _link_touchpoint(token)
    if problem:
        return render_template("nudges/link_problem.html", problem=problem), 403
    if link.action == "open":
        return redirect(url_for("journeys.touchpoint", touchpoint_id=tp.id))
    if link.action == "done_other":
        return redirect(url_for("journeys.log", touchpoint_id=tp.id))
    if link.action == "reschedule":
        return redirect(url_for("journeys.reschedule_touchpoint", touchpoint_id=tp.id))
    form = ConfirmActionForm()
    problem = None
    if not tp.is_open:
        problem = f"This {tp.kind.label.lower()} is already {tp.status.label.lower()}."
    elif not can_manage_touchpoint(current_user, tp):
        problem = "You cannot log this touchpoint."
    elif form.validate_on_submit():
        try:
            outcome = log_from_chat(tp, actor=current_user, mode=Mode.IN_PERSON)
        except HumanTouchRefusal as error:
            db.session.rollback()
            problem = error.reason
        except JourneyError as error:
            db.session.rollback()
            problem = str(error)
        else:
            flash(outcome, "success")
            return redirect(url_for("journeys.touchpoint", touchpoint_id=tp.id))
    return render_template("nudges/act.html", tp=tp, form=form, problem=problem), 400 if problem else 200


# ---------------------------------------------------------------- notifications


@bp.get("/notifications")
@signed_in
def notifications():
    """Everything Touchpoints told me, on any channel, newest first."""
    items = db.session.scalars(
        select(Nudge)
        .options(
            joinedload(Nudge.touchpoint).joinedload(Touchpoint.employee),
            joinedload(Nudge.touchpoint).joinedload(Touchpoint.owner),
        )
        .where(Nudge.recipient_id == current_user.employee_id, Nudge.status == NudgeStatus.SENT)
        .order_by(Nudge.sent_at.desc(), Nudge.id.desc())
        .limit(NOTIFICATIONS_SHOWN)
    ).all()
    rows = notification_rows(items, current_user.employee.timezone, NudgeSettings.current())
    return render_template("nudges/notifications.html", rows=rows, form=ActionForm())


@bp.post("/notifications/read")
@signed_in
def mark_read():
    """Mark all my notifications as read."""
    form = ActionForm()
    if form.validate_on_submit():
        db.session.execute(
            update(Nudge)
            .where(
                Nudge.recipient_id == current_user.employee_id,
                Nudge.status == NudgeStatus.SENT,
                Nudge.read_at.is_(None),
            )
            .values(read_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        flash("All caught up.", "success")
    return redirect(url_for("nudges.notifications"))


@bp.get("/notifications/unread.json")
@signed_in
def unread_count():
    """The badge's number: unread notifications in the app (fetched by the page's script)."""
    count = (
        db.session.scalar(
            select(func.count())
            .select_from(Nudge)
            .where(
                Nudge.recipient_id == current_user.employee_id,
                Nudge.status == NudgeStatus.SENT,
                Nudge.channel == DeliveryChannel.IN_APP,
                Nudge.read_at.is_(None),
            )
        )
        or 0
    )
    return jsonify(unread=count)


@bp.route("/notifications/settings", methods=["GET", "POST"])
@signed_in
def notification_settings():
    """My delivery settings: digest, calendar invitations, my Teams workflow, my calendar feed."""
    profile = db.session.get(DeliveryProfile, current_user.employee_id)
    form = NotificationSettingsForm(obj=profile)
    if form.validate_on_submit():
        profile = profile_for(current_user.employee_id)
        profile.daily_digest = bool(form.daily_digest.data)
        set_invites(current_user.employee_id, bool(form.calendar_invites.data), actor_id=current_user.id)
        url = (form.teams_webhook_url.data or "").strip() or None
        if url != profile.teams_webhook_url:
            profile.teams_webhook_url = url
            profile.teams_webhook_broken_at, profile.teams_webhook_error = None, ""
        db.session.commit()
        flash("Your notification settings are saved.", "success")
        return redirect(url_for("nudges.notification_settings"))
    settings = NudgeSettings.current()
    feed_url = (
        settings.link(url_for("nudges.calendar_feed", token=profile.calendar_token))
        if profile is not None and profile.calendar_token
        else None
    )
    return render_template(
        "nudges/settings.html",
        form=form,
        profile=profile,
        feed_url=feed_url,
        action_form=ActionForm(),
        employee=current_user.employee,
        slack_enabled=settings.slack_enabled,
        email_enabled=settings.email_enabled,
    ), 400 if form.errors else 200


@bp.post("/notifications/calendar")
@signed_in
def calendar_token():
    """Create, replace or switch off my calendar feed address."""
    form = ActionForm()
    if form.validate_on_submit():
        if request.form.get("action") == "revoke":
            ics.revoke_feed_token(current_user.employee_id)
            flash("Your calendar feed is switched off; the old address no longer works.", "success")
        else:
            ics.new_feed_token(current_user.employee_id)
            flash("Your calendar feed has a new address; any old address no longer works.", "success")
        db.session.commit()
    return redirect(url_for("nudges.notification_settings"))


# ---------------------------------------------------------------- calendar


@bp.get("/touchpoints/<int:touchpoint_id>/invite.ics")
@signed_in
def invite(touchpoint_id: int):
    """The touchpoint as a calendar invitation (REQUEST, or CANCEL once called off)."""
    tp = db.session.scalar(
        select(Touchpoint)
        .options(joinedload(Touchpoint.employee), joinedload(Touchpoint.owner))
        .where(Touchpoint.id == touchpoint_id)
    ) or abort(404)
    if not can_view_touchpoint(current_user, tp):
        abort(403)
    data = ics.invitation(tp, NudgeSettings.current(), viewer_id=current_user.employee_id)
    method = "CANCEL" if b"METHOD:CANCEL" in data else "REQUEST"
    return Response(
        data,
        mimetype=f"text/calendar; method={method}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="touchpoint-{tp.id}.ics"'},
    )


@bp.get("/calendar/<token>.ics")
@public
def calendar_feed(token: str):
    """A person's subscribable feed; the secret in the address is the key (revocable)."""
    employee = ics.employee_for_feed(token)
    if employee is None:
        abort(404)
    return Response(
        ics.feed(employee, NudgeSettings.current()),
        mimetype="text/calendar; charset=utf-8",
        headers={"Cache-Control": "private, max-age=300"},
    )


# ---------------------------------------------------------------- HR: delivery


@bp.get("/nudges/delivery")
@hr_only
def delivery():
    """HR's view of delivery: channels, scheduler jobs, problems to decide on, recent traffic."""
    status = request.args.get("status", "problems")
    page = max(1, request.args.get("page", 1, type=int) or 1)
    overview = delivery_overview(status=status, page=page, viewer_tz=current_user.employee.timezone)
    return render_template(
        "nudges/delivery.html", o=overview, status=status, form=ActionForm(), describe=describe_nudge
    )


def _nudge_or_404(nudge_id: int) -> Nudge:
    return db.session.get(Nudge, nudge_id) or abort(404)


def _back() -> str:
    return url_for("nudges.delivery", status=request.form.get("status") or "problems")


@bp.post("/nudges/<int:nudge_id>/retry")
@hr_only
def retry(nudge_id: int):
    """Send a problem nudge again."""
    form = ActionForm()
    if form.validate_on_submit():
        try:
            retry_nudge(_nudge_or_404(nudge_id), actor=current_user)
            flash("It goes out again on the next delivery run.", "success")
        except NudgeActionError as error:
            flash(str(error), "error")
    return redirect(_back())


@bp.post("/nudges/<int:nudge_id>/dismiss")
@hr_only
def dismiss(nudge_id: int):
    """Close a problem nudge without sending it (or say it did arrive)."""
    form = ActionForm()
    if form.validate_on_submit():
        try:
            dismiss_nudge(
                _nudge_or_404(nudge_id), actor=current_user, arrived=request.form.get("arrived") == "1"
            )
            flash("Marked as arrived." if request.form.get("arrived") == "1" else "Dismissed.", "success")
        except NudgeActionError as error:
            flash(str(error), "error")
    return redirect(_back())


@bp.post("/nudges/channels/<any(slack, teams, email):channel>/resume")
@hr_only
def resume(channel: str):
    """Resume a paused channel once its set-up is fixed."""
    form = ActionForm()
    if form.validate_on_submit():
        resume_channel(DeliveryChannel(channel), actor=current_user)
        flash(f"{DeliveryChannel(channel).label} sending is resumed.", "success")
    return redirect(url_for("nudges.delivery"))


@bp.post("/nudges/people/<int:employee_id>/reset")
@hr_only
def reset_person(employee_id: int):
    """Forget that Slack could not find a person or that their Teams workflow was broken."""
    form = ActionForm()
    if form.validate_on_submit():
        employee = db.session.get(Employee, employee_id) or abort(404)
        profile = profile_for(employee.id)
        profile.slack_not_found_at = None
        profile.slack_dm_channel = None
        profile.teams_webhook_broken_at, profile.teams_webhook_error = None, ""
        employee.slack_user_id = None
        db.session.commit()
        flash(f"{employee.full_name}'s channels will be tried again.", "success")
    return redirect(url_for("nudges.delivery"))


@bp.route("/nudges/teams/<int:team_id>", methods=["GET", "POST"])
@hr_only
def team_channels(team_id: int):
    """A team's Teams workflow (with or without the weekly digest) and Slack digest channel."""
    team = db.session.get(Team, team_id) or abort(404)
    channel = db.session.get(TeamChannel, team_id)
    form = TeamChannelForm(obj=channel)
    if form.validate_on_submit():
        if channel is None:
            channel = TeamChannel(team_id=team_id)
            db.session.add(channel)
        url = (form.teams_webhook_url.data or "").strip() or None
        if url != channel.teams_webhook_url:
            channel.teams_webhook_url = url
            channel.teams_webhook_broken_at, channel.teams_webhook_error = None, ""
        channel.slack_digest_channel = (form.slack_digest_channel.data or "").strip().upper()
        set_teams_digest(team_id, bool(form.teams_digest.data), actor_id=current_user.id)
        db.session.commit()
        flash(f"Channels of {team.name} saved.", "success")
        return redirect(url_for("nudges.delivery"))
    return render_template(
        "nudges/team_channels.html", team=team, form=form, channel=channel
    ), 400 if form.errors else 200
