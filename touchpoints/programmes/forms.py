"""Forms for the programme pages: a programme's settings, choosing a person, making and ending a pair.

Numbers stay text on the form so what was typed comes back as typed; the services check every
value and name the field at fault, and `show_errors` puts each reason next to its field.
"""
from __future__ import annotations

from collections.abc import Mapping

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional

from touchpoints.journeys.models import SupportKind
from touchpoints.programmes.models import EndReason
from touchpoints.programmes.services import NOTE_LIMIT


class _ShowsErrors:
    def show_errors(self, errors: Mapping[str, str]) -> None:
        """Place the services' errors on the fields they name; others go to the form's own list."""
        for name, message in errors.items():
            target = self._fields.get(name)  # type: ignore[attr-defined]
            if target is None:
                self.form_errors.append(message)  # type: ignore[attr-defined]
            else:
                target.errors = [*target.errors, message]


class ProgrammeForm(_ShowsErrors, FlaskForm):
    """A programme's settings (the key only when it is created)."""

    name = StringField("Name", validators=[Length(max=120)])
    key = StringField("Key", validators=[Length(max=64)])
    kind = SelectField("Kind", choices=[SelectChoice(k.value, k.label) for k in SupportKind])
    description = TextAreaField("Description", validators=[Length(max=2000)])
    journey_key = SelectField("Journey for the pair's meetings", choices=[])
    load_cap = StringField("Most people one person supports at once")
    min_tenure_months = StringField("Tenure a buddy or mentor needs, in months")
    active = BooleanField("Open for new pairs")

    def values(self, *, with_key: bool) -> dict:
        """The typed values, as the services take them."""
        data = {"name": self.name.data, "kind": self.kind.data, "description": self.description.data or "",
                "journey_key": self.journey_key.data, "load_cap": (self.load_cap.data or "").strip(),
                "min_tenure_months": (self.min_tenure_months.data or "").strip(), "active": self.active.data}
        if with_key:
            data["key"] = self.key.data
        return data


class FindPersonForm(FlaskForm):
    """Whom a buddy or mentor is for: a work email (HR) or one of one's reports (managers)."""

    class Meta:
        csrf = False  # a GET form that only reads

    email = EmailField("Work email of the person", validators=[Optional(), Length(max=254)])
    employee_id = SelectField("Person", choices=[], validators=[Optional()])


class MatchForm(_ShowsErrors, FlaskForm):
    """Pick one of the suggested people (or anyone else by email) as the buddy or mentor."""

    partner_id = HiddenField("Buddy or mentor")
    partner_email = EmailField("Someone else: their work email", validators=[Optional(), Length(max=254)])
    # The page to return to once the pair is made (a person's journeys or people page).
    next = HiddenField()


class EndMatchForm(_ShowsErrors, FlaskForm):
    """Ending a pair: the reason that fits best and an optional kind note for the other side."""

    reason = RadioField("What fits best?", choices=[SelectChoice(r.value, r.label) for r in EndReason],
                        validators=[InputRequired(message="Choose the reason that fits best.")])
    note = TextAreaField("A short note for them (optional)", validators=[Length(
        max=NOTE_LIMIT, message=f"Keep the note under {NOTE_LIMIT} characters.")])
    # The page to return to once the pair has ended (a person's journeys or people page).
    next = HiddenField()
