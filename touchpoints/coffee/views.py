"""Coffee pairing pages: one's own coffee page, HR's programme page and rounds, the connections overview."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from touchpoints.auth.access import hr_only, signed_in
from touchpoints.coffee import connections, services
from touchpoints.coffee.forms import ParticipationForm, ProgrammeForm, RunRoundForm, frequency_label
from touchpoints.coffee.models import CoffeeRound
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.errors import JourneyError

bp = Blueprint("coffee", __name__)
PREVIEW_GROUPS_SHOWN = 50


def _place_errors(form, errors: dict[str, str]) -> None:
    for name, message in errors.items():
        if name in form:
            form[name].errors = [*form[name].errors, message]


@bp.app_template_global()
def coffee_status(employee_id: int) -> str:
    """A one-line summary of someone's coffee pairing, for their preferences page."""
    participant = services.participant_for(employee_id)
    if participant is None or not participant.active:
        return "You are not taking part."
    text = f"You are taking part: {frequency_label(participant.frequency_weeks).lower()}"
    if participant.paused_until and participant.paused_until > utcnow().date():
        text += f", paused until {participant.paused_until:%-d %b %Y}"
    return text + "."


@bp.route("/coffee", methods=["GET", "POST"])
@signed_in
def mine():
    """One's own coffee pairing: take part or not, how often, a pause; one's pairs and their history."""
    me = current_user.employee
    settings = services.programme()
    participant = services.participant_for(me.id)
    form = ParticipationForm()
    form.offer(settings.frequency_options)
    if request.method == "GET":
        form.taking_part.data = "yes" if participant and participant.active else "no"
        form.frequency_weeks.data = participant.frequency_weeks if participant else \
            (2 if 2 in settings.frequency_options else settings.frequency_options[0])
        form.paused_until.data = participant.paused_until if participant else None
    if form.validate_on_submit():
        try:
            services.save_participation(me, taking_part=form.taking_part.data == "yes",
                                        frequency_weeks=form.frequency_weeks.data,
                                        paused_until=form.paused_until.data, actor=current_user)
        except services.CoffeeValidationError as error:
            db.session.rollback()
            _place_errors(form, error.errors)
        else:
            db.session.commit()
            flash("You are taking part in coffee pairing." if form.taking_part.data == "yes"
                  else "You are not taking part in coffee pairing.", "success")
            return redirect(url_for("coffee.mine"))
    pairs = services.my_pairs(me)
    return render_template("coffee/mine.html", form=form, participant=participant, settings=settings,
                           current=[p for p in pairs if p.is_open],
                           history=[p for p in pairs if not p.is_open],
                           next_round=services.upcoming_round_date(settings, utcnow().date()))


@bp.post("/coffee/chats/<int:touchpoint_id>/skip")
@signed_in
def skip(touchpoint_id: int):
    """Skip one's own coffee chat this time: no reason asked, nothing counted against anyone."""
    touchpoint = services.coffee_touchpoint_of(current_user.employee_id, touchpoint_id)
    if touchpoint is None:
        abort(404)
    try:
        services.skip_chat(touchpoint, actor=current_user)
    except JourneyError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash("Skipped. No problem — there will be another coffee next round.", "success")
    return redirect(url_for("coffee.mine"))


@bp.route("/coffee/programme", methods=["GET", "POST"])
@hr_only
def programme():
    """HR's page: the programme's settings, running a round (with a preview), and the rounds so far."""
    settings = services.programme()
    today = utcnow().date()
    # Two forms on one page: each reads the request only when it was the one sent, so a refused
    # round shows the saved settings (not empty boxes a careless "Save" would store).
    saving, running = "programme-submit" in request.form, "run-submit" in request.form
    form = ProgrammeForm(prefix="programme", obj=settings, **({} if saving else {"formdata": None}))
    run_form = RunRoundForm(prefix="run", **({} if running else {"formdata": None}))
    if not saving:
        form.frequencies.data = list(settings.frequency_options)
    if not running:
        run_form.round_on.data = today
    if saving and form.validate_on_submit():
        try:
            services.update_programme(enabled=form.enabled.data, round_weekday=form.round_weekday.data,
                                      repeat_window_days=form.repeat_window_days.data,
                                      min_overlap_minutes=form.min_overlap_minutes.data,
                                      frequencies=form.frequencies.data or [], actor=current_user)
        except services.CoffeeValidationError as error:
            db.session.rollback()
            _place_errors(form, error.errors)
        else:
            db.session.commit()
            flash("The coffee pairing settings are saved.", "success")
            return redirect(url_for("coffee.programme"))
    preview = None
    if running and run_form.validate_on_submit():
        round_on = run_form.round_on.data
        if not today - timedelta(days=7) <= round_on <= today + timedelta(days=28):
            run_form.round_on.errors = [*run_form.round_on.errors,
                                        "Choose a date from a week ago to four weeks ahead."]
        elif services.round_for(round_on) is not None:
            run_form.round_on.errors = [*run_form.round_on.errors,
                                        f"A round for {round_on:%-d %b %Y} already ran; each date runs once."]
        elif request.form.get("run-submit") != "run":
            preview = services.plan_round(round_on, seed=run_form.seed.data)
            db.session.rollback()
        else:
            made = services.run_round(round_on, seed=run_form.seed.data, actor=current_user)
            if made is None:
                db.session.rollback()
                flash(f"A round for {round_on:%-d %b %Y} already ran.", "error")
                return redirect(url_for("coffee.programme"))
            db.session.commit()
            flash(f"Round of {round_on:%-d %b %Y}: {made.pairs} pairs, {made.trios} group(s) of three, "
                  f"{made.unpaired} unpaired. Introductions are on their way.", "success")
            return redirect(url_for("coffee.round_detail", coffee_round_id=made.id))
    rounds = services.rounds()
    return render_template("coffee/programme.html", form=form, run_form=run_form, settings=settings,
                           rounds=rounds, outcomes=services.outcome_counts([r.id for r in rounds]),
                           counts=services.participation_counts(today), preview=preview,
                           shown=PREVIEW_GROUPS_SHOWN,
                           next_round=services.upcoming_round_date(settings, today))


@bp.get("/coffee/rounds/<int:coffee_round_id>")
@hr_only
def round_detail(coffee_round_id: int):
    """One round's figures and who it left unpaired, with the reason (no list of who met whom)."""
    made = db.session.get(CoffeeRound, coffee_round_id)
    if made is None:
        abort(404)
    return render_template("coffee/round.html", round=made, unpaired=services.unpaired_of(made.id),
                           outcome=services.outcome_counts([made.id])[made.id])


@bp.get("/connections")
@hr_only
def overview():
    """Connection programmes at a glance, aggregated: cross-team connections, recent human touch, pulse."""
    return render_template("coffee/connections.html", data=connections.connections_overview(),
                           recent=connections.RECENT_DAYS)
