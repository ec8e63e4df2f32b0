"""Forms for coffee pairing: one's own participation, HR's programme settings, running a round."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
)
from wtforms.validators import InputRequired, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from touchpoints.coffee.services import MAX_OVERLAP, MAX_WINDOW_DAYS, MIN_OVERLAP, MIN_WINDOW_DAYS

WEEKDAYS = [SelectChoice(str(number), day) for number, day in enumerate(
    ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"), start=1)]


def frequency_label(weeks: int) -> str:
    """'Every week', 'Every 2 weeks'."""
    return "Every week" if weeks == 1 else f"Every {weeks} weeks"


class ParticipationForm(FlaskForm):
    """Taking part, how often, and an optional pause."""

    taking_part = RadioField("Coffee pairing", choices=[SelectChoice("yes", "Yes, pair me with someone"),
                                                        SelectChoice("no", "No, not at the moment")],
                             validators=[InputRequired(message="Choose whether to take part.")])
    frequency_weeks = RadioField("How often", coerce=int, validators=[Optional()])
    paused_until = DateField("Pause until (optional)", validators=[Optional()])

    def offer(self, weeks: tuple[int, ...]) -> None:
        """The frequencies HR offers."""
        self.frequency_weeks.choices = [SelectChoice(str(w), frequency_label(w)) for w in weeks]


class ProgrammeForm(FlaskForm):
    """HR's settings for the programme."""

    enabled = BooleanField("Run pairing rounds")
    round_weekday = SelectField("Round day", choices=WEEKDAYS, coerce=int)
    repeat_window_days = IntegerField(
        "Never pair the same two people again within (days)",
        validators=[InputRequired(message="Give a number of days."),
                    NumberRange(MIN_WINDOW_DAYS, MAX_WINDOW_DAYS,
                                message=f"Give between {MIN_WINDOW_DAYS} and {MAX_WINDOW_DAYS} days.")])
    min_overlap_minutes = IntegerField(
        "Shared working hours a pair needs (minutes)",
        validators=[InputRequired(message="Give a number of minutes."),
                    NumberRange(MIN_OVERLAP, MAX_OVERLAP,
                                message=f"Give between {MIN_OVERLAP} and {MAX_OVERLAP} minutes.")])
    frequencies = SelectMultipleField("Frequencies people may choose", coerce=int,
                                      choices=[SelectChoice(str(w), frequency_label(w)) for w in (1, 2, 4)],
                                      option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False))


class RunRoundForm(FlaskForm):
    """Run (or preview) a round for a date, optionally with a given seed."""

    round_on = DateField("Round date", validators=[InputRequired(message="Give the round's date.")])
    seed = IntegerField("Seed (optional)", validators=[Optional(), NumberRange(0, 2**31 - 1,
                                                       message="Give a whole number from 0 to 2147483647.")])
