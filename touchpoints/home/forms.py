"""The home page's one form: switching between the HR, manager and own views."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField

from touchpoints.home.today import HomeView


class ViewSwitchForm(FlaskForm):
    """Which home page to show; each choice is a button carrying its value."""

    view = SelectField("Show", choices=[SelectChoice(v.value, v.label) for v in HomeView])
