"""Forms for team rituals: planning one, logging an occurrence with attendance, marking one's own."""
from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from touchpoints.journeys.models import Mode
from touchpoints.rituals.models import RITUAL_KINDS, Audience, Presence

# Common series in plain words; "custom" reads the RRULE field.
REPEATS = [
    SelectChoice("", "Once (for example a retreat)"),
    SelectChoice("FREQ=WEEKLY", "Every week"),
    SelectChoice("FREQ=WEEKLY;INTERVAL=2", "Every two weeks"),
    SelectChoice("FREQ=MONTHLY", "Every month, on the start date's day"),
    SelectChoice("FREQ=MONTHLY;INTERVAL=3", "Every quarter, on the start date's day"),
    SelectChoice("FREQ=YEARLY", "Every year"),
    SelectChoice("custom", "Custom (RRULE below)"),
]
PRESETS = {option.value for option in REPEATS if option.value and option.value != "custom"}


class RitualForm(FlaskForm):
    """Plan or change a ritual."""

    title = StringField("Title", validators=[InputRequired("Give the ritual a title."), Length(max=200)])
    kind = SelectField("Kind", choices=[SelectChoice(k.value, k.label) for k in RITUAL_KINDS])
    team_id = SelectField("Team", validate_choice=False)
    audience = SelectField("Who it is for", choices=[SelectChoice(a.value, a.label) for a in Audience])
    planned_mode = SelectField("Planned mode", choices=[SelectChoice(m.value, m.label) for m in Mode],
                               default=Mode.IN_PERSON.value)
    repeats = SelectField("Repeats", choices=REPEATS, default="FREQ=MONTHLY")
    rrule = StringField("Custom RRULE", validators=[Length(max=255)])
    starts_on = DateField("First date", validators=[InputRequired("Say on which day the series starts.")])
    ends_on = DateField("Last date (optional)", validators=[Optional()])
    time_of_day = TimeField("Time", validators=[InputRequired("Say at what time it starts.")])
    timezone = StringField("Time zone", validators=[Length(max=64)])
    duration_minutes = IntegerField("Length (minutes)", default=60,
                                    validators=[InputRequired("Say how long it lasts."),
                                                NumberRange(min=5, max=7 * 24 * 60)])
    location = StringField("Place (optional)", validators=[Length(max=200)])
    organiser_email = StringField("Organiser's work email", validators=[Length(max=254)])
    description = TextAreaField("What it is for (optional)", validators=[Length(max=2000)])
    active = BooleanField("Running (untick to pause: no new dates, no reminders)", default=True)

    def __init__(self, *args, teams: list[tuple[int, str]] = (), hr: bool = False,
                 company_wide: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        # Only HR plans for everyone; the organiser of a company-wide ritual keeps it company-wide.
        everyone = hr or company_wide
        self.team_id.choices = ([SelectChoice("", "No team (everyone)")] * everyone
                                + [SelectChoice(str(i), n) for i, n in teams])
        if not everyone:
            self.audience.choices = [SelectChoice(a.value, a.label) for a in Audience
                                     if a is not Audience.EVERYONE]

    def fill(self, ritual) -> None:
        """Show a stored ritual."""
        self.title.data, self.kind.data = ritual.title, ritual.kind.value
        self.team_id.data = str(ritual.team_id or "")
        self.audience.data, self.planned_mode.data = ritual.audience.value, ritual.planned_mode.value
        rule = ritual.rrule or ""
        self.repeats.data = rule if rule in PRESETS or not rule else "custom"
        self.rrule.data = rule if self.repeats.data == "custom" else ""
        self.starts_on.data, self.ends_on.data = ritual.starts_on, ritual.ends_on
        self.time_of_day.data, self.timezone.data = ritual.time_of_day, ritual.timezone
        self.duration_minutes.data, self.location.data = ritual.duration_minutes, ritual.location
        self.organiser_email.data = ritual.organiser.email if ritual.organiser else ""
        self.description.data, self.active.data = ritual.description, ritual.active

    def service_data(self) -> dict[str, Any]:
        """The typed values in the shape the services take."""
        rule = self.rrule.data if self.repeats.data == "custom" else self.repeats.data
        return {
            "title": self.title.data, "kind": self.kind.data, "team_id": self.team_id.data,
            "audience": self.audience.data, "planned_mode": self.planned_mode.data,
            "rrule": rule or "", "starts_on": self.starts_on.data, "ends_on": self.ends_on.data,
            "time_of_day": self.time_of_day.data, "timezone": self.timezone.data or None,
            "duration_minutes": self.duration_minutes.data, "location": self.location.data,
            "organiser_email": self.organiser_email.data or "", "description": self.description.data,
            "active": bool(self.active.data),
        }

    def show_errors(self, errors: dict[str, str]) -> None:
        """Place the services' errors on the fields they name."""
        aliases = {"organiser_id": "organiser_email"}
        for name, message in errors.items():
            name = aliases.get(name, name)
            if name == "rrule" and self.repeats.data != "custom":
                name = "repeats"
            target = self._fields.get(name)
            if target is None:
                self.form_errors.append(message)
            else:
                target.errors = [*target.errors, message]


class LogForm(FlaskForm):
    """Log an occurrence as held; each member's presence comes as presence-<employee id> radios."""

    actual_mode = SelectField("How it happened", choices=[SelectChoice(m.value, m.label) for m in Mode])
    location = StringField("Where (optional)", validators=[Length(max=200)])
    note = TextAreaField("Note for the team's record (optional)", validators=[Length(max=2000)])


class MarkForm(FlaskForm):
    """A member's own attendance."""

    presence = RadioField("Were you there?", choices=[SelectChoice(p.value, p.label) for p in Presence],
                          validators=[InputRequired("Choose in person, remote or absent.")])


class CancelForm(FlaskForm):
    """Calling one occurrence off."""

    reason = StringField("Why (optional, people see it)", validators=[Length(max=500)])
