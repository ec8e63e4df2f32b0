"""Sign in, sign out, change password, and password reset links issued by HR."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from touchpoints.auth import services
from touchpoints.auth.access import hr_only, public, signed_in
from touchpoints.auth.forms import (
    ChangePasswordForm,
    IssueResetLinkForm,
    ResetPasswordForm,
    SignInForm,
)
from touchpoints.auth.models import User
from touchpoints.extensions import db
from touchpoints.people.models import Employee

bp = Blueprint("auth", __name__)

RESET_PROBLEMS = {
    services.ResetLinkProblem.UNKNOWN: (
        404, "This link is not valid",
        "Check that you copied the whole link. If it still does not work, ask your HR partner "
        "for a new one.",
    ),
    services.ResetLinkProblem.EXPIRED: (
        410, "This link has expired",
        "Links work for a limited time, and a newer link replaces an older one. "
        "Ask your HR partner for a new link.",
    ),
    services.ResetLinkProblem.USED: (
        410, "This link has already been used",
        "Each link works once. If you did not set a new password with it yourself, "
        "tell your HR partner now.",
    ),
    services.ResetLinkProblem.DEACTIVATED: (
        403, "This account is not active",
        "Sign-in is switched off for this account. Ask your HR partner if that is a mistake.",
    ),
}


def _throttled(template: str, result: services.SignInResult, **context):
    """429 with Retry-After, and the wait in minutes on the page."""
    flash(result.error, "error")
    return render_template(template, **context), 429, {"Retry-After": str(result.retry_after)}


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    """Sign in with work email and password."""
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    form = SignInForm(next=request.args.get("next", ""))
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form), 400 if request.method == "POST" else 200
    result = services.sign_in(form.email.data, form.password.data, request.remote_addr)
    if result.retry_after:
        return _throttled("auth/login.html", result, form=form)
    if result.user is None:
        flash(result.error, "error")
        return render_template("auth/login.html", form=form), 401
    # A fresh session: nothing from before sign-in (a planted CSRF token, say) carries over.
    session.clear()
    login_user(result.user)
    if result.user.must_change_password:
        return redirect(url_for("auth.change_password"))
    target = form.next.data
    return redirect(target if services.is_safe_next(target) else url_for("web.home"))


@bp.post("/logout")
@signed_in
def logout():
    """Sign out everywhere this session was copied to (the session token rotates)."""
    current_user.rotate_session_token()
    db.session.commit()
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@signed_in
def change_password():
    """Change one's own password (required at first sign-in)."""
    user = current_user._get_current_object()
    form = ChangePasswordForm()
    context = {"form": form, "first_login": user.must_change_password}
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("auth/change_password.html", **context), status
    check = services.verify_current_password(user, form.current_password.data, request.remote_addr)
    if check.retry_after:
        return _throttled("auth/change_password.html", check, **context)
    if check.user is None:
        form.current_password.errors.append(check.error)
        return render_template("auth/change_password.html", **context), 400
    problems = services.password_problems(form.new_password.data, user.employee.email,
                                          current_hash=user.password_hash)
    if problems:
        form.new_password.errors.extend(problems)
        return render_template("auth/change_password.html", **context), 400
    services.change_own_password(user, form.new_password.data)
    db.session.commit()
    login_user(user)  # the rotated token keeps this session and ends the others
    flash("Your password is changed. Every other device you were signed in on is signed out.",
          "success")
    return redirect(url_for("web.home"))


@bp.post("/people/<int:employee_id>/reset-link")
@hr_only
def issue_reset_link(employee_id: int):
    """An HR partner makes a one-time link for someone to set a new password; shown once."""
    form = IssueResetLinkForm()
    if not form.validate_on_submit():
        abort(400)
    employee = db.session.get(Employee, employee_id) or abort(404)
    user = db.session.scalar(select(User).where(User.employee_id == employee_id))
    if user is None:
        flash(f"{employee.full_name} has no login, so there is no password to reset.", "error")
        return redirect(url_for("people.detail", employee_id=employee_id))
    try:
        issued = services.issue_password_reset(user, issued_by=current_user._get_current_object())
    except services.ResetLinkRefused as error:
        flash(str(error), "error")
        return redirect(url_for("people.detail", employee_id=employee_id))
    db.session.commit()
    zone = ZoneInfo(current_user.employee.timezone)
    response = make_response(render_template(
        "auth/reset_link_issued.html", employee=employee,
        link=url_for("auth.reset_password", token=issued.token, _external=True),
        expires_local=issued.expires_at.astimezone(zone), zone=zone,
        hours=current_app.config["PASSWORD_RESET_HOURS"],
    ))
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/reset/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str):
    """The person behind a reset link chooses a new password."""
    try:
        link = services.find_reset_link(token)
    except services.ResetLinkUnavailable as error:
        return _reset_page("auth/reset_unavailable.html", error.problem)
    person = link.user.employee
    someone_else = current_user.is_authenticated and current_user.id != link.user_id
    form = ResetPasswordForm()
    status = 200
    if not someone_else and form.validate_on_submit():
        try:
            problems = services.complete_password_reset(link, form.new_password.data)
        except services.ResetLinkUnavailable as error:
            return _reset_page("auth/reset_unavailable.html", error.problem)
        if not problems:
            db.session.commit()
            logout_user()
            session.clear()
            flash("Your new password is set. Sign in with it now.", "success")
            return redirect(url_for("auth.login"))
        form.new_password.errors.extend(problems)
        status = 400
    elif request.method == "POST":
        status = 400
    return _reset_page("auth/reset_password.html", None, status=status, form=form, person=person,
                       someone_else=someone_else)


def _reset_page(template: str, problem: services.ResetLinkProblem | None, status: int = 200,
                **context):
    if problem is not None:
        status, title, advice = RESET_PROBLEMS[problem]
        context.update(title=title, advice=advice)
    response = make_response(render_template(template, **context), status)
    # The token is in the address: keep it out of caches and out of Referer headers.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
