"""Forms for survey pages: authoring, planning rounds, answering, and the results filters."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from touchpoints.people.models import LifecycleStatus
from touchpoints.surveys.models import (
    AGREEMENT_LABELS,
    MIN_GROUP_SIZE_RANGE,
    AudienceKind,
    QuestionAudience,
    QuestionKind,
    SurveyQuestion,
)
from touchpoints.surveys.services import MAX_OPEN_DAYS, MAX_TEXT_ANSWER


class MultiCheckboxField(SelectMultipleField):
    """Several choices as a list of checkboxes (easier than a multi-select on phones)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SurveyForm(FlaskForm):
    title = StringField("Title", validators=[InputRequired(), Length(max=200)])
    description = TextAreaField("What it is for", validators=[Length(max=2000)])
    alert_below = DecimalField("Plan a team conversation when connection is below", places=2,
                               validators=[InputRequired(), NumberRange(min=1, max=5)], default=3.5)
    alert_drop = DecimalField("…or when it drops since the team's last round by", places=2,
                              validators=[InputRequired(), NumberRange(min=0.1, max=4)], default=0.5)
    submit = SubmitField("Save survey")


class QuestionForm(FlaskForm):
    kind = SelectField("Type", choices=[SelectChoice(k.value, k.label) for k in QuestionKind])
    prompt = StringField("Question", validators=[InputRequired(), Length(max=300)])
    help_text = StringField("Help text", validators=[Length(max=300)])
    choices = TextAreaField("Options (single choice only, one per line)")
    audience = SelectField("Asked of", choices=[SelectChoice(a.value, a.label) for a in QuestionAudience])
    counts_toward_connection = BooleanField("Counts toward the connection score (agreement questions)")
    submit = SubmitField("Save question")


class RoundForm(FlaskForm):
    opens_on = DateField("Opens on", validators=[InputRequired(message="Choose the day the round opens.")])
    open_days = IntegerField("Open for (days)", default=7,
                             validators=[InputRequired(), NumberRange(min=1, max=MAX_OPEN_DAYS)])
    audience_kind = RadioField("Who is asked", choices=[SelectChoice(a.value, a.label) for a in AudienceKind],
                               default=AudienceKind.EVERYONE.value)
    team_ids = MultiCheckboxField("Teams", coerce=int, validate_choice=False)
    stages = MultiCheckboxField("Lifecycle stages", choices=[
        SelectChoice(s.value, s.label) for s in LifecycleStatus if s is not LifecycleStatus.ALUMNI])
    milestone_days = IntegerField("Day after the start date", validators=[Optional(), NumberRange(min=1)])
    milestone_window_days = IntegerField("Looking back over (days)",
                                         validators=[Optional(), NumberRange(min=1)])
    repeat_every_days = IntegerField("Repeat every (days)",
                                     validators=[Optional(), NumberRange(min=1, max=365)])
    send_reminder = BooleanField("Remind people who have not answered, two days before it closes",
                                 default=True)
    min_group_size = IntegerField(
        "Minimum respondents before a group's scores show", default=5,
        validators=[InputRequired(), NumberRange(*MIN_GROUP_SIZE_RANGE)])
    submit = SubmitField("Save round")

    def data_for_service(self) -> dict:
        return {
            "opens_on": self.opens_on.data, "open_days": self.open_days.data,
            "audience_kind": self.audience_kind.data, "team_ids": self.team_ids.data or [],
            "stages": self.stages.data or [], "milestone_days": self.milestone_days.data,
            "milestone_window_days": self.milestone_window_days.data,
            "repeat_every_days": self.repeat_every_days.data, "send_reminder": self.send_reminder.data,
            "min_group_size": self.min_group_size.data,
        }


class ConfirmForm(FlaskForm):
    """A bare form for POST buttons (open, close, cancel, move, remove): CSRF only."""

    submit = SubmitField("Confirm")


def field_name(question: SurveyQuestion) -> str:
    return f"q_{question.id}"


def answer_form_class(questions: list[SurveyQuestion]) -> type[FlaskForm]:
    """A form class with one field per question, named q_<id>, labelled by its prompt."""

    class AnswerForm(FlaskForm):
        submit = SubmitField("Send my answers")

    # Answers are checked by the service, which names each question, so radios skip WTForms' check.
    for question in questions:
        name = field_name(question)
        description = question.help_text
        if question.kind is QuestionKind.AGREEMENT:
            field = RadioField(question.prompt, choices=[SelectChoice(str(v), f"{v} · {label}")
                                                         for v, label in AGREEMENT_LABELS.items()],
                               description=description, validate_choice=False)
        elif question.kind is QuestionKind.ENPS:
            field = RadioField(question.prompt, choices=[SelectChoice(str(v)) for v in range(11)],
                               description=description or "0 means not at all likely, 10 extremely likely.",
                               validate_choice=False)
        elif question.kind is QuestionKind.SINGLE_CHOICE:
            field = RadioField(question.prompt,
                               choices=[SelectChoice(c["key"], c["label"]) for c in question.choices],
                               description=description, validate_choice=False)
        else:
            field = TextAreaField(question.prompt, validators=[Length(max=MAX_TEXT_ANSWER)],
                                  description=description or "Optional.")
        setattr(AnswerForm, name, field)
    return AnswerForm


class ResultsFilterForm(FlaskForm):
    """The results filters travel in the query string, so no CSRF token is needed."""

    class Meta:
        csrf = False

    round = SelectField("Round", validate_choice=False)
    by = SelectField("Break down by", validate_choice=False, choices=[
        SelectChoice("team", "Team"), SelectChoice("stage", "Lifecycle stage"),
        SelectChoice("tenure", "Tenure"), SelectChoice("none", "No breakdown")])
    team = SelectField("Team", validate_choice=False)
    stage = SelectField("Lifecycle stage", validate_choice=False)
    tenure = SelectField("Tenure", validate_choice=False)
