"""Forms for people pages."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from touchpoints.auth.models import Role
from touchpoints.journeys.lifecycle import CADENCE_RANGE
from touchpoints.people.fields import known_timezones
from touchpoints.people.models import Channel, LifecycleStatus, WorkPattern


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as select options; values are always strings in a form."""
    return [SelectChoice(str(value), label) for value, label in pairs]


def timezone_choices() -> list[SelectChoice]:
    return choices((tz, tz.replace("_", " ")) for tz in sorted(known_timezones()))


class PreferencesForm(FlaskForm):
    timezone = SelectField("Time zone", validate_choice=False)
    quiet_hours_start = TimeField("Quiet hours start", validators=[Optional()])
    quiet_hours_end = TimeField("Quiet hours end", validators=[Optional()])
    preferred_channel = SelectField(
        "Preferred channel for reminders", choices=choices((c.value, c.label) for c in Channel)
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
    team = StringField("Team")
    status = SelectField("Lifecycle stage", validate_choice=False)
    deactivated = BooleanField("Show deactivated people")


WEEKDAYS = [("1", "Monday"), ("2", "Tuesday"), ("3", "Wednesday"), ("4", "Thursday"),
            ("5", "Friday"), ("6", "Saturday"), ("7", "Sunday")]


class PersonForm(FlaskForm):
    """Add or change a person; the people services check every value and name what is wrong."""

    full_name = StringField("Full name", validators=[InputRequired(), Length(max=200)])
    email = EmailField("Work email", validators=[InputRequired(), Length(max=254)])
    job_title = StringField("Job title", validators=[Length(max=200)])
    team_id = SelectField("Team", validate_choice=False)
    manager_email = EmailField("Manager's work email", validators=[Length(max=254)])
    status = SelectField("Lifecycle stage", choices=choices((s.value, s.label) for s in LifecycleStatus))
    location = StringField("Location", validators=[Length(max=120)])
    country_code = StringField("Country", validators=[InputRequired(), Length(max=2)])
    subdivision = StringField("Region or state", validators=[Length(max=10)])
    timezone = SelectField("Time zone", validate_choice=False)
    work_start = TimeField("Working day starts", validators=[InputRequired()])
    work_end = TimeField("Working day ends", validators=[InputRequired()])
    work_days = SelectMultipleField("Working days", choices=choices(WEEKDAYS),
                                    widget=ListWidget(prefix_label=False),
                                    option_widget=CheckboxInput())
    hire_date = DateField("Hire date", validators=[Optional()])
    start_date = DateField("Start date", validators=[Optional()])
    exit_date = DateField("Exit date", validators=[Optional()])
    one_on_one_cadence_days = IntegerField(
        "One-on-one every … days", validators=[Optional(), NumberRange(*CADENCE_RANGE)]
    )
    is_hr_partner = BooleanField("HR partner")
    is_manager = BooleanField("Manager")
    submit = SubmitField("Save")

    def __init__(self, *args, teams: list[tuple[int, str]] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = timezone_choices()
        self.team_id.choices = choices([("", "No team"), *teams])

    def service_data(self) -> dict[str, object]:
        """The values in the shape the people services take."""
        return {
            "full_name": self.full_name.data, "email": self.email.data,
            "job_title": self.job_title.data, "status": self.status.data,
            "team_id": int(self.team_id.data) if (self.team_id.data or "").isdigit() else None,
            "manager_email": self.manager_email.data or "",
            "location": self.location.data, "country_code": self.country_code.data,
            "subdivision": self.subdivision.data, "timezone": self.timezone.data,
            "work_start": self.work_start.data, "work_end": self.work_end.data,
            "work_days": "".join(self.work_days.data or []),
            "hire_date": self.hire_date.data, "start_date": self.start_date.data,
            "exit_date": self.exit_date.data,
        }

    def roles(self) -> set[Role]:
        """The roles ticked (everyone is an employee as well)."""
        return ({Role.HR_PARTNER} if self.is_hr_partner.data else set()) | (
            {Role.MANAGER} if self.is_manager.data else set())

    def show_errors(self, errors: dict[str, str]) -> None:
        """Place the services' errors on the fields they name."""
        for name, message in errors.items():
            target = self._fields.get("is_hr_partner" if name == "roles" else name)
            if target is None:
                self.form_errors.append(message)
            else:
                target.errors = [*target.errors, message]


class TeamForm(FlaskForm):
    """A team's name, what it does, and the HR partner who looks after it."""

    name = StringField("Team name", validators=[InputRequired(), Length(max=120)])
    description = TextAreaField("What the team does", validators=[Length(max=2000)])
    hr_partner_id = SelectField("HR partner", validate_choice=False)
    one_on_one_cadence_days = IntegerField(
        "One-on-one every … days", validators=[Optional(), NumberRange(*CADENCE_RANGE)]
    )
    work_pattern = SelectField("Where the team works", validate_choice=False, choices=choices(
        [("", "Not recorded"), *((p.value, p.label) for p in WorkPattern)]))
    parent_id = SelectField("Part of team", validate_choice=False)
    manager_email = EmailField("Team manager's work email", validators=[Length(max=254)])
    submit = SubmitField("Save team")

    def __init__(self, *args, hr_partners: list[tuple[int, str]] = (),
                 parents: list[tuple[int, str]] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.hr_partner_id.choices = choices([("", "No one yet"), *hr_partners])
        self.parent_id.choices = choices([("", "None (a top-level team)"), *parents])


class ImportUploadForm(FlaskForm):
    """The CSV file from the HR system."""

    csv_file = FileField("CSV file", validators=[FileRequired("Choose a CSV file to upload.")])
    submit = SubmitField("Check the file")


class ConfirmForm(FlaskForm):
    """A bare form for POST buttons: only the CSRF token."""
