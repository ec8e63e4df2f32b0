"""Programme pages: HR's list, detail and settings; finding a buddy or mentor; own pairs; ending a pair."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from wtforms import SelectChoice

from touchpoints.auth.access import hr_only, managers, signed_in
from touchpoints.auth.services import is_safe_next
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.calendar import to_local
from touchpoints.journeys.models import SupportKind
from touchpoints.journeys.services import current_support
from touchpoints.people.access import report_ids_query
from touchpoints.people.models import Employee, LifecycleStatus
from touchpoints.programmes import services
from touchpoints.programmes.forms import EndMatchForm, FindPersonForm, MatchForm, ProgrammeForm
from touchpoints.programmes.models import MatchStatus, Programme, ProgrammeMatch

bp = Blueprint("programmes", __name__)
RECENTLY_ENDED = 20


def _programme_or_404(programme_id: int) -> Programme:
    return db.session.get(Programme, programme_id) or abort(404)


def _person_or_404(employee_id: int) -> Employee:
    return db.session.get(Employee, employee_id) or abort(404)


# ---------------------------------------------------------------- HR: programmes


@bp.get("/programmes/")
@hr_only
def index():
    """Every programme with its live pairs and the people at their cap."""
    programmes = services.list_programmes()
    live = dict(db.session.execute(
        select(ProgrammeMatch.programme_id, func.count()).where(ProgrammeMatch.status == MatchStatus.ACTIVE)
        .group_by(ProgrammeMatch.programme_id)).all())
    return render_template("programmes/index.html", programmes=programmes, live=live)


def _journey_choices(form: ProgrammeForm) -> None:
    form.journey_key.choices = [SelectChoice("", "Choose a journey"),
                                *(SelectChoice(key, label) for key, label in services.journey_choices())]


@bp.route("/programmes/new", methods=["GET", "POST"])
@hr_only
def new():
    """Create a programme."""
    form = ProgrammeForm()
    _journey_choices(form)
    if request.method == "GET":
        form.load_cap.data, form.min_tenure_months.data, form.active.data = "3", "6", True
    if form.validate_on_submit():
        try:
            programme = services.create_programme(form.values(with_key=True), actor_id=current_user.id)
        except services.ProgrammeValidationError as error:
            db.session.rollback()
            form.show_errors(error.errors)
        else:
            db.session.commit()
            flash(f"{programme.name} is ready for its first pairs.", "success")
            return redirect(url_for("programmes.detail", programme_id=programme.id))
    return render_template("programmes/form.html", form=form, programme=None), 400 if form.errors else 200


@bp.route("/programmes/<int:programme_id>/edit", methods=["GET", "POST"])
@hr_only
def edit(programme_id: int):
    """Change a programme's settings; live pairs carry on."""
    programme = _programme_or_404(programme_id)
    form = ProgrammeForm(obj=programme if request.method == "GET" else None)
    _journey_choices(form)
    if request.method == "GET":
        form.kind.data = programme.kind.value
        form.load_cap.data = str(programme.load_cap)
        form.min_tenure_months.data = str(programme.min_tenure_months)
    if form.validate_on_submit():
        try:
            services.update_programme(programme, form.values(with_key=False), actor_id=current_user.id)
        except services.ProgrammeValidationError as error:
            db.session.rollback()
            form.show_errors(error.errors)
        else:
            db.session.commit()
            flash(f"{programme.name} is saved.", "success")
            return redirect(url_for("programmes.detail", programme_id=programme.id))
    page = render_template("programmes/form.html", form=form, programme=programme)
    return page, 400 if form.errors else 200


@bp.get("/programmes/<int:programme_id>")
@hr_only
def detail(programme_id: int):
    """A programme's figures, its live pairs and the pairs that ended lately."""
    programme = _programme_or_404(programme_id)
    figures = services.programme_figures(programme, timezone=current_user.employee.timezone)
    pairs = services.active_pairs(programme)
    ended = list(db.session.scalars(
        services.match_query().where(ProgrammeMatch.programme_id == programme.id,
                                      ProgrammeMatch.status == MatchStatus.ENDED)
        .order_by(ProgrammeMatch.ended_at.desc(), ProgrammeMatch.id.desc()).limit(RECENTLY_ENDED)))
    held = services.meetings_held_by_match([m.id for m in pairs + ended])
    # Only a running buddy programme shows who is still waiting for a buddy.
    shows_waiting = programme.kind is SupportKind.BUDDY and programme.active
    waiting, waiting_total = services.waiting_for_a_buddy() if shows_waiting else ([], 0)
    return render_template("programmes/detail.html", programme=programme, figures=figures, pairs=pairs,
                           ended=ended, held=held, find_form=FindPersonForm(), waiting=waiting,
                           waiting_total=waiting_total, shows_waiting=shows_waiting,
                           now_month=to_local(utcnow(), current_user.employee.timezone).strftime("%B"))


# ---------------------------------------------------------------- finding a buddy or mentor


def _report_choices(programme: Programme) -> list[SelectChoice]:
    if current_user.is_hr or programme.kind is not SupportKind.BUDDY:
        return []
    rows = db.session.execute(
        select(Employee.id, Employee.full_name)
        .where(Employee.id.in_(report_ids_query(current_user.employee_id)), Employee.deactivated_at.is_(None),
               Employee.status != LifecycleStatus.ALUMNI)
        .order_by(Employee.full_name))
    return [SelectChoice(str(i), name) for i, name in rows]


@bp.get("/programmes/<int:programme_id>/find")
@managers
def find(programme_id: int):
    """Choose whom to find a buddy or mentor for: anyone by email (HR), one's reports (managers)."""
    programme = _programme_or_404(programme_id)
    if not current_user.is_hr and programme.kind is not SupportKind.BUDDY:
        abort(403)
    form = FindPersonForm(request.args)
    form.employee_id.choices = [SelectChoice("", "Choose a person"), *_report_choices(programme)]
    if request.args:
        person_id = None
        email = (form.email.data or "").strip().lower()
        if current_user.is_hr and email:
            person_id = db.session.scalar(select(Employee.id).where(func.lower(Employee.email) == email))
            if person_id is None:
                form.email.errors = ["No one has this work email."]
        elif form.employee_id.data and form.employee_id.data in {c.value for c in form.employee_id.choices}:
            person_id = int(form.employee_id.data)
        else:
            target = form.email if current_user.is_hr else form.employee_id
            target.errors = ["Say whom the " + programme.partner_word + " is for."]
        if person_id is not None:
            return redirect(url_for("programmes.suggest", programme_id=programme.id, employee_id=person_id))
    page = render_template("programmes/find.html", programme=programme, form=form)
    return page, 400 if form.errors else 200


def _same_site(target: str | None) -> str:
    """The page to return to, or "" when it would leave the site."""
    return target if is_safe_next(target) else ""


def _suggestions_page(programme: Programme, person: Employee, form: MatchForm, status: int = 200):
    refusal = services.match_refusal(current_user, programme, person.id,
                                     manager_of=services.manages(current_user, person.id))
    if refusal:
        abort(403)
    current = [m for m in services.matches_of(person.id, active_only=True)
               if m.employee_id == person.id and m.programme.kind is programme.kind]
    # A buddy or mentor given by hand (on the person's journeys page) counts as one too.
    by_hand = None if current else current_support(person.id).get(programme.kind)
    suggestions = [] if current or by_hand else services.suggestions_for(programme, person)
    return render_template("programmes/suggest.html", programme=programme, person=person, form=form,
                           suggestions=suggestions, current=current[0] if current else None,
                           by_hand=by_hand), status


@bp.get("/programmes/<int:programme_id>/people/<int:employee_id>")
@managers
def suggest(programme_id: int, employee_id: int):
    """Suggested buddies or mentors for one person, best first, each with its reasons."""
    form = MatchForm()
    form.next.data = _same_site(request.args.get("next"))
    return _suggestions_page(_programme_or_404(programme_id), _person_or_404(employee_id), form)


@bp.post("/programmes/<int:programme_id>/people/<int:employee_id>/match")
@managers
def match(programme_id: int, employee_id: int):
    """Make the pair: all or nothing, refused with a reason when the partner is at the cap."""
    programme, person = _programme_or_404(programme_id), _person_or_404(employee_id)
    form = MatchForm()
    form.next.data = _same_site(form.next.data)
    if not form.validate_on_submit():
        return _suggestions_page(programme, person, form, 400)
    partner = None
    email = (form.partner_email.data or "").strip().lower()
    if email:
        partner = db.session.scalar(select(Employee).where(func.lower(Employee.email) == email))
        if partner is None:
            form.partner_email.errors = ["No one has this work email."]
    elif (form.partner_id.data or "").isdigit():
        partner = db.session.get(Employee, int(form.partner_id.data))
    if partner is None:
        if not form.partner_email.errors:
            form.partner_email.errors = [f"Choose a {programme.partner_word} from the list, or give a work "
                                         "email."]
        return _suggestions_page(programme, person, form, 400)
    try:
        made = services.create_match(programme, person, partner, actor=current_user)
    except services.NotAllowed:
        db.session.rollback()
        abort(403)
    except services.ProgrammeValidationError as error:
        db.session.rollback()
        form.show_errors({"partner_email" if k == "partner_id" else k: v for k, v in error.errors.items()})
        return _suggestions_page(programme, person, form, 422)
    except services.ProgrammeError as error:
        db.session.rollback()
        form.form_errors.append(str(error))
        return _suggestions_page(programme, person, form, 409)
    db.session.commit()
    flash(f"{partner.full_name} is now {person.full_name}'s {programme.partner_word}; their meetings are "
          "planned and both have a note.", "success")
    if form.next.data:
        return redirect(form.next.data)
    if current_user.is_hr:
        return redirect(url_for("programmes.detail", programme_id=programme.id, _anchor=f"pair-{made.id}"))
    return redirect(url_for("people.detail", employee_id=person.id))


# ---------------------------------------------------------------- one's own pairs, and ending one


@bp.get("/me/programmes")
@signed_in
def mine():
    """One's own pairs, as the person supported and as buddy or mentor, live and past."""
    pairs = services.matches_of(current_user.employee_id)
    held = services.meetings_held_by_match([m.id for m in pairs])
    return render_template("programmes/mine.html", pairs=pairs, held=held, me=current_user.employee_id)


@bp.route("/programmes/pairs/<int:programme_match_id>/end", methods=["GET", "POST"])
@signed_in
def end(programme_match_id: int):
    """End a pair politely, with a reason and an optional note for the other side."""
    pair = services.get_match(programme_match_id) or abort(404)
    side = services.end_side(current_user, pair)
    if side is None:
        abort(404)  # not theirs to see: the same answer as a pair that does not exist
    if not pair.is_active:
        flash("This pair has already ended.", "warning")
        return redirect(url_for("programmes.mine"))
    form = EndMatchForm()
    form.next.data = _same_site(form.next.data if request.method == "POST" else request.args.get("next"))
    if form.validate_on_submit():
        try:
            services.end_match(pair, actor=current_user, reason=form.reason.data, note=form.note.data or "")
        except services.ProgrammeValidationError as error:
            db.session.rollback()
            form.show_errors(error.errors)
        except services.ProgrammeError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            told = "Both have a note." if side.value == "hr" else "They have a kind note from you."
            flash(f"The pair has ended and its coming meetings are cancelled. {told}", "success")
            if form.next.data:
                return redirect(form.next.data)
            if side.value == "hr":
                return redirect(url_for("programmes.detail", programme_id=pair.programme_id))
            return redirect(url_for("programmes.mine"))
    page = render_template("programmes/end.html", pair=pair, form=form, side=side)
    return page, 400 if form.errors else 200
