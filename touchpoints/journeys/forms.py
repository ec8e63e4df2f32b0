"""Forms for the journeys pages: templates, enrolment, lifecycle events and touchpoint outcomes.

The journey services check every value and name the field that is wrong, so these forms carry
text through as typed (offsets, times and recurrence rules stay strings) and place the services'
errors back on the fields they name.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from touchpoints.journeys.models import (
    Anchor,
    EnrolTrigger,
    JourneyStage,
    Mode,
    OffsetUnit,
    OwnerRole,
    TouchpointKind,
)
from touchpoints.people.models import LifecycleStatus

SENSITIVE_CHOICES = [SelectChoice("", "As the kind says"), SelectChoice("yes", "Sensitive"),
                     SelectChoice("no", "Not sensitive")]
ROW_FIELD = re.compile(r"^touchpoints\[(\d+)\]\.(\w+)$")


def _choices(enum_cls, blank: str | None = None) -> list[SelectChoice]:
    options = [SelectChoice(m.value, m.label) for m in enum_cls]
    return [SelectChoice("", blank), *options] if blank is not None else options


class TouchpointRowForm(Form):
    """One touchpoint template inside the journey editor (a sub-form: the outer form has the CSRF token)."""

    key = StringField("Key", validators=[Length(max=64)])
    phase = StringField("Stage on the map", validators=[Length(max=80)])
    title = StringField("Title", validators=[Length(max=200)])
    kind = SelectField("Kind", choices=_choices(TouchpointKind, "Choose a kind"), validate_choice=False)
    planned_mode = SelectField("Planned mode", choices=_choices(Mode, "Choose a mode"),
                               validate_choice=False)
    owner_role = SelectField("Owner", choices=_choices(OwnerRole, "Choose who runs it"),
                             validate_choice=False)
    anchor = SelectField("Counted from", choices=_choices(Anchor, "Choose a date"), validate_choice=False)
    offset = StringField("Offset", default="0")
    offset_unit = SelectField("Unit", choices=_choices(OffsetUnit), validate_choice=False)
    time_of_day = StringField("Time of day", default="10:00")
    rrule = StringField("Repeats (RRULE)", validators=[Length(max=255)])
    follows_cadence = BooleanField("Repeats at the person's one-on-one cadence")
    series_length = StringField("Number of occurrences")
    until_anchor = SelectField("Series ends at", choices=_choices(Anchor, "No end date"),
                               validate_choice=False)
    duration_minutes = StringField("Duration (minutes)", default="30")
    description = TextAreaField("Description", validators=[Length(max=4000)])
    sensitive = SelectField("Sensitive", choices=SENSITIVE_CHOICES, validate_choice=False)
    remove = BooleanField("Remove this touchpoint")

    def is_blank(self) -> bool:
        """Nothing typed into the row that names a moment (a spare row left empty)."""
        return not any((self[name].data or "").strip() for name in ("key", "title", "kind", "anchor"))

    def service_data(self) -> dict[str, Any]:
        """The row as the journey services read it."""
        sensitive = {"yes": True, "no": False}.get(self.sensitive.data or "")
        return {
            "key": self.key.data, "phase": self.phase.data, "title": self.title.data,
            "kind": self.kind.data, "planned_mode": self.planned_mode.data,
            "owner_role": self.owner_role.data, "anchor": self.anchor.data, "offset": self.offset.data,
            "offset_unit": self.offset_unit.data, "time_of_day": self.time_of_day.data,
            "rrule": self.rrule.data, "follows_cadence": bool(self.follows_cadence.data),
            "series_length": self.series_length.data, "until_anchor": self.until_anchor.data,
            "duration_minutes": self.duration_minutes.data, "description": self.description.data,
            "sensitive": sensitive,
        }


def row_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """A touchpoint template's plain data (as `touchpoint_template_to_data` gives it) as form values."""
    sensitive = data.get("sensitive")
    kind = data.get("kind")
    kind_default = TouchpointKind(kind).is_sensitive if kind else None
    return {
        **{k: ("" if v is None else v) for k, v in data.items() if k != "sensitive"},
        "offset": str(data.get("offset", 0)),
        "series_length": "" if data.get("series_length") is None else str(data["series_length"]),
        "duration_minutes": str(data.get("duration_minutes", 30)),
        "follows_cadence": bool(data.get("follows_cadence")),
        "sensitive": "" if sensitive is None or sensitive == kind_default else ("yes" if sensitive else "no"),
    }


class JourneyForm(FlaskForm):
    """A journey and its touchpoint templates, edited together."""

    key = StringField("Key", validators=[Length(max=64)])
    name = StringField("Name", validators=[InputRequired(), Length(max=120)])
    stage = SelectField("Lifecycle stage", choices=_choices(JourneyStage), validate_choice=False)
    description = TextAreaField("What this journey is for", validators=[Length(max=4000)])
    enrols_on = SelectField("Enrol people automatically", validate_choice=False,
                            choices=[SelectChoice("", "No: HR enrols people"),
                                     *(SelectChoice(t.value, f"Yes: {t.label.lower()}")
                                       for t in EnrolTrigger)])
    touchpoints = FieldList(FormField(TouchpointRowForm), min_entries=1)
    add_row = SubmitField("Add a touchpoint")
    save = SubmitField("Save")

    def kept_rows(self) -> list[tuple[int, TouchpointRowForm]]:
        """The rows to save, with their index on the form: neither ticked for removal nor left blank."""
        return [(index, entry.form) for index, entry in enumerate(self.touchpoints.entries)
                if not entry.form.remove.data and not entry.form.is_blank()]

    def service_data(self) -> tuple[dict[str, Any], list[int]]:
        """The journey as the services read it, and the form row behind each saved touchpoint."""
        rows = self.kept_rows()
        data = {
            "key": self.key.data, "name": self.name.data, "stage": self.stage.data,
            "description": self.description.data, "enrols_on": self.enrols_on.data or None,
            "touchpoints": [row.service_data() for _, row in rows],
        }
        return data, [index for index, _ in rows]

    def show_errors(self, errors: Mapping[str, str], row_of: list[int]) -> None:
        """Place the services' errors on the fields they name, rows included."""
        for name, message in errors.items():
            match = ROW_FIELD.match(name)
            if match:
                position, field_name = int(match.group(1)), match.group(2)
                if position < len(row_of):
                    row = self.touchpoints.entries[row_of[position]].form
                    if field_name in row._fields:
                        row[field_name].errors = [*row[field_name].errors, message]
                        continue
            target = self._fields.get(name)
            if target is not None and name != "touchpoints":
                target.errors = [*target.errors, message]
            else:
                self.form_errors.append(message)

    @property
    def row_errors(self) -> list[tuple[int, str, str, str]]:
        """(row number, field id, field label, message) for the error summary."""
        out = []
        for number, entry in enumerate(self.touchpoints.entries, start=1):
            for field in entry.form:
                for message in field.errors:
                    out.append((number, field.id, field.label.text, message))
        return out


class CloneForm(FlaskForm):
    """A new journey copied from another."""

    key = StringField("Key of the new journey", validators=[InputRequired(), Length(max=64)])
    name = StringField("Name of the new journey", validators=[InputRequired(), Length(max=120)])
    submit = SubmitField("Make the copy")


class PublishForm(FlaskForm):
    """Publishing a draft: what happens to people on the version it replaces."""

    open_touchpoints = RadioField(
        "People already on the journey", default="keep",
        choices=[SelectChoice("move", "Apply the new version to them"),
                 SelectChoice("keep", "Keep them on the version they started")])
    submit = SubmitField("Publish")


class ConfirmForm(FlaskForm):
    """A bare form for POST buttons: only the CSRF token."""


class ReasonForm(FlaskForm):
    """A POST button with an optional reason."""

    reason = StringField("Reason (optional)", validators=[Length(max=200)])


class EnrolForm(FlaskForm):
    """Enrol one person in an active journey."""

    journey_id = SelectField("Journey", validate_choice=False, validators=[InputRequired()])
    submit = SubmitField("Enrol")


class BulkEnrolForm(FlaskForm):
    """Choose a journey and who it is for; preview the count before enrolling."""

    journey_id = SelectField("Journey", validate_choice=False)
    team_id = SelectField("Team", validate_choice=False)
    statuses = SelectMultipleField("Lifecycle stages", choices=_choices(LifecycleStatus),
                                   widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
                                   validate_choice=False)
    manager_email = EmailField("Reporting to (manager's work email)", validators=[Length(max=254)])
    location = StringField("Location", validators=[Length(max=120)])
    expected = HiddenField()
    preview = SubmitField("Preview")
    enrol = SubmitField("Enrol them")


class LifecycleEventForm(FlaskForm):
    """One lifecycle event; the page shows the fields its kind needs."""

    effective_on = DateField("Effective date", validators=[Optional()])
    start_date = DateField("New start date", validators=[Optional()])
    hire_date = DateField("Hire date", validators=[Optional()])
    exit_date = DateField("Exit date", validators=[Optional()])
    expected_return = DateField("Expected return", validators=[Optional()])
    manager_email = EmailField("New manager's work email", validators=[Length(max=254)])
    submit = SubmitField("Record")

    def show_errors(self, errors: Mapping[str, str]) -> None:
        """Place the services' errors on the fields they name."""
        for name, message in errors.items():
            target = self._fields.get("manager_email" if name == "manager_id" else name)
            if target is None:
                self.form_errors.append(message)
            else:
                target.errors = [*target.errors, message]


class LogForm(FlaskForm):
    """Logging a touchpoint: how it happened, when, and an optional private note."""

    actual_mode = RadioField("How did it happen?", choices=_choices(Mode))
    happened_at = DateTimeLocalField("When", format="%Y-%m-%dT%H:%M", validators=[InputRequired()])
    note = TextAreaField("Private note (optional)", validators=[Length(max=10_000)])
    justification = TextAreaField("Justification for overriding the policy",
                                  validators=[Length(max=2000)])
    submit = SubmitField("Save")


class RescheduleForm(FlaskForm):
    """Move a touchpoint to another date and time, typed in the reader's own zone."""

    day = DateField("New date", validators=[InputRequired()])
    time_of_day = TimeField("New time", validators=[InputRequired()])
    reason = StringField("Reason (optional)", validators=[Length(max=200)])
    submit = SubmitField("Reschedule")


class MissedForm(FlaskForm):
    """Mark a touchpoint missed."""

    reason = StringField("What happened? (optional)", validators=[Length(max=200)])
    submit = SubmitField("Mark missed")


class ConfirmationForm(FlaskForm):
    """The person concerned says whether a logged touchpoint took place."""

    took_place = RadioField("Did this take place?",
                            choices=[SelectChoice("yes", "Yes, it took place"),
                                     SelectChoice("no", "No, it did not")],
                            validators=[InputRequired(message="Choose yes or no.")])
    comment = TextAreaField("Comment (optional; say what happened if it did not)",
                            validators=[Length(max=2000)])
    submit = SubmitField("Send")


class AgendaItemForm(FlaskForm):
    """A talking point for an upcoming meeting."""

    text = StringField("Add a talking point", validators=[InputRequired(), Length(max=500)])
    submit = SubmitField("Add")


class PrivateNoteForm(FlaskForm):
    """One's own private note on a touchpoint."""

    body = TextAreaField("Your private note", validators=[Length(max=10_000)])
    submit = SubmitField("Save note")
