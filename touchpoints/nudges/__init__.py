"""Nudges: the outbox of messages to people (Slack, Teams, email, in the app), reminders and escalations.

Importing the package registers its hooks with the journeys services: every log of a touchpoint
(page, API, chat button, email link) asks the other person to confirm it, once; every plan,
reschedule or cancel of a one-on-one or check-in emails both people the calendar invitation.
"""

from touchpoints.journeys.outcomes import register_after_log, register_after_schedule_change


def _ask_to_confirm(touchpoint, actor) -> None:
    # Imported when first used: the outbox's services import the models this package's import feeds.
    from touchpoints.nudges.confirmations import ask_to_confirm

    ask_to_confirm(touchpoint, actor)


def _queue_invitations(touchpoint, change: str) -> None:
    from touchpoints.nudges.invitations import queue_invitations

    queue_invitations(touchpoint, change)


register_after_log(_ask_to_confirm)
register_after_schedule_change(_queue_invitations)
