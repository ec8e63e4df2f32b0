"""Forms for editing a policy: the common fields, the scope, and each rule kind's parameters.

One form serves every rule kind; the page shows the parameters of the kind being edited (its
`PARAMS`), and the services check the values, so a form, a file and the API agree on the rules.
"""
from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from touchpoints.journeys.models import Mode, TouchpointKind
from touchpoints.people.models import LifecycleStatus, WorkPattern
from touchpoints.policies.models import Severity
from touchpoints.policies.rules import RULE_KINDS, FirstDaysContact, PolicySpec, Rule


class CheckboxesField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _choices(members) -> list[SelectChoice]:
    return [SelectChoice(m.value, m.label) for m in members]


# Form field name for each parameter (the same names as in policy files).
PARAM_FIELDS = ("modes", "forbidden_modes", "days", "meet", "follow_up_kinds", "lookback_days",
                "max_in_a_row", "working_days_only", "respect_personal_quiet_hours", "every", "work_patterns",
                "min_in_person_share")
INTEGER_PARAMS = ("days", "lookback_days", "max_in_a_row", "min_in_person_share")
BOOLEAN_PARAMS = ("working_days_only", "respect_personal_quiet_hours")


class PolicyForm(FlaskForm):
    """Create or change a policy; saving writes a draft whose dry run HR reads before activating."""

    rule = HiddenField()
    key = StringField("Key", validators=[Length(max=64)])
    name = StringField("Name", validators=[InputRequired("Give the policy a name."), Length(max=120)])
    description = TextAreaField("Why this policy exists (optional)", validators=[Length(max=2000)])
    severity = RadioField("When it is broken", choices=[
        SelectChoice(Severity.BLOCK.value,
                     "Block: refuse it (an HR partner may override with a written justification)"),
        SelectChoice(Severity.WARN.value, "Warn: let it through and count it on the compliance dashboard"),
    ], default=Severity.BLOCK.value)

    kinds = CheckboxesField("Touchpoint kinds", choices=_choices(TouchpointKind))
    stages = CheckboxesField("Lifecycle stages (none ticked: every stage)", choices=_choices(LifecycleStatus))
    teams = CheckboxesField("Teams (none ticked: every team)", choices=[])
    locations = StringField("Locations (optional)", validators=[Length(max=500)])

    modes = CheckboxesField("Allowed modes", choices=_choices(Mode))
    forbidden_modes = CheckboxesField("Never in these modes", choices=_choices(Mode))
    days = IntegerField("Days", validators=[Optional(), NumberRange(min=1, max=3660)])
    meet = CheckboxesField("Who the new hire meets",
                           choices=[SelectChoice(p, p.capitalize()) for p in FirstDaysContact.PEOPLE])
    follow_up_kinds = CheckboxesField("Follow-ups that count (none ticked: any conversation)",
                                      choices=_choices(TouchpointKind))
    lookback_days = IntegerField("Look back (days)", validators=[Optional(), NumberRange(min=1, max=3660)])
    max_in_a_row = IntegerField("Most automated touchpoints in a row",
                                validators=[Optional(), NumberRange(min=1, max=100)])
    working_days_only = BooleanField("Only on the person's working days")
    respect_personal_quiet_hours = BooleanField("Also respect each person's own quiet hours")
    every = StringField("How often", validators=[Length(max=10)])
    work_patterns = CheckboxesField("Teams that work", choices=_choices(WorkPattern))
    min_in_person_share = IntegerField("At least this share in person (%, optional)",
                                       validators=[Optional(), NumberRange(min=1, max=100)])

    change_note = StringField("What changed (optional, for the history)", validators=[Length(max=300)])
    submit = SubmitField("Save and see the dry run")

    def set_team_choices(self, names: list[str]) -> None:
        self.teams.choices = [SelectChoice(n, n) for n in names]

    def rule_class(self) -> type[Rule] | None:
        return RULE_KINDS.get(self.rule.data or "")

    def to_definition(self) -> dict[str, Any]:
        """The typed values as a policy definition for the services."""
        cls = self.rule_class()
        params: dict[str, Any] = {}
        for name in cls.PARAMS if cls else ():
            value = getattr(self, name).data
            if name in INTEGER_PARAMS and value is None:
                continue
            params[name] = value
        locations = [part.strip() for part in (self.locations.data or "").split(",") if part.strip()]
        return {
            "key": (self.key.data or "").strip(), "name": self.name.data, "rule": self.rule.data,
            "severity": self.severity.data, "description": self.description.data or "",
            "scope": {"kinds": self.kinds.data or [], "stages": self.stages.data or [],
                      "teams": self.teams.data or [], "locations": locations},
            "params": params,
        }

    def fill(self, spec: PolicySpec) -> None:
        """Show a stored definition in the form."""
        data = spec.as_data()
        self.rule.data, self.key.data, self.name.data = data["rule"], data["key"], data["name"]
        self.description.data, self.severity.data = data["description"], data["severity"]
        scope = data["scope"]
        self.kinds.data, self.stages.data, self.teams.data = scope["kinds"], scope["stages"], scope["teams"]
        self.locations.data = ", ".join(scope["locations"])
        for name, value in data["params"].items():
            getattr(self, name).data = str(value) if name == "every" else value

    def fill_defaults(self, cls: type[Rule]) -> None:
        """A new policy of this kind starts from the kind's defaults."""
        self.rule.data = cls.kind
        for name, value in cls().to_params().items():
            getattr(self, name).data = str(value) if name == "every" else value

    def place_errors(self, errors: dict[str, str]) -> None:
        """Put the services' errors (keyed like params.days or scope.kinds[0]) on the fields."""
        for path, message in errors.items():
            name = path.split(".", 1)[-1] if path.startswith(("params.", "scope.")) else path
            name = name.split("[", 1)[0]
            text = message[:1].upper() + message[1:]
            target = self._fields.get(name)
            if target is None or name in ("rule", "csrf_token", "submit"):
                self.form_errors.append(f"{path}: {text}")
            else:
                target.errors = [*target.errors, text]


class ConfirmForm(FlaskForm):
    """A bare form for buttons that change something (CSRF only)."""

    submit = SubmitField("Confirm")


class ActivateForm(FlaskForm):
    """Activating a draft after reading its dry run."""

    version = HiddenField(validators=[InputRequired()])
    submit = SubmitField("Activate this version")
