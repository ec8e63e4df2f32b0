"""Sign in, sign out, change password."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.security import check_password_hash

from touchpoints.auth import services
from touchpoints.auth.access import public, signed_in
from touchpoints.auth.forms import ChangePasswordForm, SignInForm
from touchpoints.extensions import db

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    """Sign in with work email and password."""
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    form = SignInForm(next=request.args.get("next", ""))
    status = 200
    if form.validate_on_submit():
        result = services.sign_in(form.email.data, form.password.data, request.remote_addr or "")
        if result.user:
            login_user(result.user)
            if result.user.must_change_password:
                return redirect(url_for("auth.change_password"))
            target = form.next.data
            return redirect(target if services.is_safe_next(target) else url_for("web.home"))
        flash(result.error, "error")
        status = 429 if result.retry_after else 401
        response = render_template("auth/login.html", form=form), status
        if result.retry_after:
            return *response, {"Retry-After": str(result.retry_after)}
        return response
    if request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@signed_in
def logout():
    """Sign out everywhere this session was copied to (the session token rotates)."""
    current_user.rotate_session_token()
    db.session.commit()
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@signed_in
def change_password():
    """Change one's own password (required at first sign-in)."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        if not check_password_hash(user.password_hash or "", form.current_password.data):
            form.current_password.errors.append("That is not your current password.")
        else:
            problems = services.password_problems(form.new_password.data, user.employee.email)
            if problems:
                form.new_password.errors.extend(problems)
            else:
                services.set_password(user, form.new_password.data)
                db.session.commit()
                login_user(user)  # the rotated token keeps this session and ends the others
                flash("Your password is changed.", "success")
                return redirect(url_for("web.home"))
    return render_template("auth/change_password.html", form=form,
                           first_login=current_user.must_change_password)
