"""Settings → API tokens: HR partners issue tokens (shown once) and revoke them."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from touchpoints.api import services
from touchpoints.api.forms import IssueTokenForm, RevokeTokenForm
from touchpoints.auth.access import hr_only
from touchpoints.extensions import db

bp = Blueprint("api_tokens", __name__, url_prefix="/settings/api-tokens")

TOKENS_PER_PAGE = 50


def local_time(moment: datetime | None) -> str:
    """A UTC moment shown in the viewer's own time zone, or a dash."""
    if moment is None:
        return "—"
    zone = ZoneInfo(current_user.employee.timezone)
    return moment.astimezone(zone).strftime("%-d %b %Y, %H:%M %Z")


def _issue(form: IssueTokenForm) -> services.IssuedToken | None:
    """Issue a token from a valid form, or attach the reason to the field at fault."""
    user = services.user_for_email(form.acts_as.data)
    if user is None:
        form.acts_as.errors.append(f"No one with a login has the email {form.acts_as.data.strip()}.")
        return None
    try:
        issued = services.issue_token(user, form.name.data,
                                      created_by=current_user._get_current_object())
    except services.TokenError as error:
        target = form.acts_as if error.field == "user" else form.name
        target.errors.append(error.message)
        return None
    db.session.commit()
    return issued


@bp.route("/", methods=["GET", "POST"])
@hr_only
def index():
    """The tokens, newest active first, and the form to issue one."""
    form = IssueTokenForm()
    issued = None
    if request.method == "GET":
        form.acts_as.data = current_user.employee.email
    elif form.validate_on_submit():
        issued = _issue(form)
        if issued is not None:
            # A blank form for the next token; the new secret shows above it, this once only.
            form = IssueTokenForm(formdata=None, acts_as=current_user.employee.email)
    page = db.paginate(services.tokens_query(), per_page=TOKENS_PER_PAGE, error_out=False)
    return render_template("api/tokens.html", form=form, issued=issued, page=page,
                           local_time=local_time)


@bp.route("/<int:token_id>/revoke", methods=["GET", "POST"])
@hr_only
def revoke(token_id: int):
    """Confirm, then revoke: integrations using the token stop working at once."""
    token = services.token_by_id(token_id) or abort(404)
    form = RevokeTokenForm()
    if token.is_revoked:
        flash(f"The token '{token.name}' was already revoked.", "info")
        return redirect(url_for("api_tokens.index"))
    if form.validate_on_submit():
        services.revoke_token(token, actor=current_user._get_current_object())
        db.session.commit()
        flash(f"The token '{token.name}' is revoked; calls using it are now refused.", "success")
        return redirect(url_for("api_tokens.index"))
    return render_template("api/revoke.html", token=token, form=form, local_time=local_time)
