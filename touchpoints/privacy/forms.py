"""Forms of the privacy pages."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, Length


class EraseForm(FlaskForm):
    """Erasure is confirmed by typing the person's full name."""

    confirm_name = StringField("Type their full name to confirm", validators=[
        InputRequired("Type their full name to confirm."), Length(max=200)])


class SearchForm(FlaskForm):
    """Finding a departed person by name or email (a GET form: no CSRF token needed)."""

    class Meta:
        csrf = False

    q = StringField("Name or email", validators=[Length(max=200)])
