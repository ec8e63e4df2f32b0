"""Forms for people pages."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField, TimeField
from wtforms.validators import Optional

from touchpoints.people.fields import known_timezones
from touchpoints.people.models import Channel


def timezone_choices() -> list[tuple[str, str]]:
    return [(tz, tz.replace("_", " ")) for tz in sorted(known_timezones())]


class PreferencesForm(FlaskForm):
    timezone = SelectField("Time zone", validate_choice=False)
    quiet_hours_start = TimeField("Quiet hours start", validators=[Optional()])
    quiet_hours_end = TimeField("Quiet hours end", validators=[Optional()])
    preferred_channel = SelectField(
        "Preferred channel for reminders", choices=[(c.value, c.label) for c in Channel]
    )
    submit = SubmitField("Save preferences")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = timezone_choices()


class PeopleFilterForm(FlaskForm):
    """The list filters travel in the query string, so no CSRF token is needed."""

    class Meta:
        csrf = False

    q = StringField("Search name or email")
    team = SelectField("Team", validate_choice=False)
    status = SelectField("Lifecycle stage", validate_choice=False)
