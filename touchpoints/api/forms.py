"""Forms for issuing and revoking API tokens."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from touchpoints.api.services import NAME_LIMIT


class IssueTokenForm(FlaskForm):
    name = StringField(
        "Name", validators=[DataRequired("Give the token a name that says which integration uses it."),
                            Length(max=NAME_LIMIT)],
    )
    # An email box rather than a list of everyone: the page stays small at any company size.
    acts_as = EmailField(
        "Acts as (work email)",
        validators=[DataRequired("Say whose permissions the token has."), Length(max=254)],
    )
    submit = SubmitField("Issue token")


class RevokeTokenForm(FlaskForm):
    """The confirmation button; FlaskForm for its CSRF token."""

    submit = SubmitField("Revoke token")
