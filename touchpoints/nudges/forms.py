"""Forms of the nudges pages: notification settings, team channels, and the confirm-from-a-link page."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, SubmitField, URLField
from wtforms.validators import Length, Optional, ValidationError

SLACK_CHANNEL = re.compile(r"^[CG][A-Z0-9]{6,30}$")


def _https_webhook(form, field) -> None:
    value = (field.data or "").strip()
    if value and not value.lower().startswith(("https://", "http://")):
        raise ValidationError("Paste the whole address the Teams workflow gave you, starting with https://.")


class NotificationSettingsForm(FlaskForm):
    """A person's own delivery settings (channel and quiet hours live in My preferences)."""

    daily_digest = BooleanField("Bundle my nudges into one message at the start of my working day")
    # On unless the person turned them off: a person with no delivery profile yet gets them.
    calendar_invites = BooleanField("Email me calendar invitations for my one-on-ones and check-ins",
                                    default=True)
    teams_webhook_url = URLField(
        "My Teams workflow address", validators=[Optional(), Length(max=1000), _https_webhook]
    )
    submit = SubmitField("Save settings")


class TeamChannelForm(FlaskForm):
    """Where a team's nudges may go."""

    teams_webhook_url = URLField(
        "Teams workflow address for the team", validators=[Optional(), Length(max=1000), _https_webhook]
    )
    teams_digest = BooleanField("Post the team's weekly digest to this Teams workflow")
    slack_digest_channel = StringField(
        "Slack channel id for the weekly digest", validators=[Optional(), Length(max=32)]
    )
    submit = SubmitField("Save team channels")

    def validate_teams_digest(self, field) -> None:
        if field.data and not (self.teams_webhook_url.data or "").strip():
            raise ValidationError("Add the team's Teams workflow address above, or untick the digest.")

    def validate_slack_digest_channel(self, field) -> None:
        value = (field.data or "").strip().upper()
        if value and not SLACK_CHANNEL.match(value):
            raise ValidationError("Use the channel id (it starts with C, e.g. C0123ABCD), not its name.")


class ConfirmActionForm(FlaskForm):
    """The button on the page a Teams or email link opens."""

    submit = SubmitField("Log it as in person, now")


class ActionForm(FlaskForm):
    """An empty form: CSRF for the HR page's buttons."""
