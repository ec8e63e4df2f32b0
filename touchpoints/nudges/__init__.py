"""Nudges: the outbox of messages to people (Slack, Teams, email, in the app), reminders and escalations.

Importing the package registers its hooks with the journeys services: every log of a touchpoint
(page, API, chat button, email link) asks the other person to confirm it, once; every plan,
reschedule or cancel of a one-on-one or check-in emails both people the calendar invitation, and so
does every one that journeys create in bulk (enrolment, the horizon extension) within reach. Every
answer to a survey round, however given, brings the Slack messages that invited the person up to date.
"""

from touchpoints.journeys.outcomes import (
    register_after_bulk_create,
    register_after_log,
    register_after_schedule_change,
)
from touchpoints.surveys.services import register_after_answer


def _ask_to_confirm(touchpoint, actor) -> None:
    # Imported when first used: the outbox's services import the models this package's import feeds.
    from touchpoints.nudges.confirmations import ask_to_confirm

    ask_to_confirm(touchpoint, actor)


def _queue_invitations(touchpoint, change: str) -> None:
    from touchpoints.nudges.invitations import queue_invitations

    queue_invitations(touchpoint, change)


def _invite_created(enrolment_ids, created_at) -> None:
    from touchpoints.nudges.invitations import queue_for_created

    queue_for_created(enrolment_ids, created_at)


register_after_log(_ask_to_confirm)
register_after_schedule_change(_queue_invitations)
register_after_bulk_create(_invite_created)


def _survey_answered(round_id: int, employee_id: int) -> None:
    from touchpoints.nudges.survey_messages import after_answer

    after_answer(round_id, employee_id)


register_after_answer(_survey_answered)
