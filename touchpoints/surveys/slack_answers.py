"""Answering a short pulse survey in Slack: the dialog, reading it back, and what the person is told.

The answers go through `submit_response`, the page's own call, so one answer per person, the
validation and anonymity by construction are exactly the page's. Nothing here writes what was
answered anywhere else: no log line, no audit entry, no outbox row, and the dialog's private
metadata names only the round, never the person. Nothing here calls Slack either: the interactions
endpoint (`touchpoints.nudges.interactions`) opens the dialog and updates the message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.people.models import Employee
from touchpoints.surveys import services
from touchpoints.surveys.models import (
    AGREEMENT_LABELS,
    QuestionKind,
    RoundStatus,
    SurveyQuestion,
    SurveyRound,
)

# slack-sdk (2.5 MB) is imported by the functions that build a dialog, not here: the scheduler's
# reminders ask round_fits_a_dialog, and web workers import this module without calling Slack.
if TYPE_CHECKING:
    from slack_sdk.models.blocks import Option
    from slack_sdk.models.views import View

# The "Answer here" button (rendered by the nudges from compose.ANSWER_SURVEY) and its dialog.
ANSWER_ACTION = "tp_survey_answer"
ANSWER_CALLBACK = "tp_survey_answer"
# A pulse answered in two minutes fits one Slack dialog; a longer survey is better on the page,
# where a person can see the whole form, go back, and keep what they typed.
MAX_DIALOG_QUESTIONS = 8
BLOCK_PREFIX = "q_"
# Slack's limits: dialog titles 24 characters, option texts 75.
TITLE_LIMIT = 24
OPTION_LIMIT = 75


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def block_id(question: SurveyQuestion) -> str:
    """The dialog block that asks this question (errors are returned under it)."""
    return BLOCK_PREFIX + question.key


def fits_a_dialog(question_count: int) -> bool:
    """Whether a survey of this many questions is offered as a Slack dialog (otherwise a link)."""
    return 0 < question_count <= MAX_DIALOG_QUESTIONS


def round_fits_a_dialog(round_id: int) -> bool:
    """Whether every respondent's questions in this round fit one Slack dialog."""
    version_id = db.session.scalar(select(SurveyRound.version_id).where(SurveyRound.id == round_id))
    if version_id is None:
        return False
    count = db.session.scalar(
        select(func.count()).select_from(SurveyQuestion).where(SurveyQuestion.version_id == version_id)
    )
    return fits_a_dialog(count or 0)


def respondent_for_slack_user(slack_user_id: str) -> Employee | None:
    """The working employee whose cached Slack user id this is (learnt when Slack first reached them)."""
    if not slack_user_id:
        return None
    return db.session.scalar(
        select(Employee).where(Employee.slack_user_id == slack_user_id, Employee.deactivated_at.is_(None))
    )


def _closing_words(round_: SurveyRound, tz: str) -> str:
    day = services.local_day(round_.closes_at, tz)
    return f"{day:%a} {day.day} {day:%b}"


def thanks_text(round_: SurveyRound, tz: str) -> str:
    """What the invitation says once answered: that it counted and how it stays anonymous, no content."""
    return (
        "Thanks — your answer is in. It is anonymous: it was stored without your name or the time, "
        f"and it only counts in results for groups of at least {round_.min_group_size} people once "
        f"{round_.label} closes on {_closing_words(round_, tz)}."
    )


# ---------------------------------------------------------------------------------------------
# The "Answer here" button


@dataclass(frozen=True)
class DialogPlan:
    """What pressing "Answer here" leads to: a dialog to open, or a sentence for the message."""

    view: View | None = None
    notice: str = ""
    # The message's buttons have no use any more (answered, or the round closed).
    finished: bool = False


def _refusal(round_: SurveyRound | None, employee: Employee, now: datetime) -> DialogPlan | None:
    """Why this person cannot answer this round now, or None when they can."""
    if round_ is None:
        return DialogPlan(notice="This survey round no longer exists.", finished=True)
    if round_.status is not RoundStatus.OPEN or round_.closes_at <= now:
        when = _closing_words(round_, employee.timezone)
        return DialogPlan(
            notice=f"This survey round closed on {when}; answers are no longer taken. "
            "Thank you all the same.",
            finished=True,
        )
    if services.invitation_for(round_.id, employee.id) is None:
        return DialogPlan(notice="This survey round was not sent to you.", finished=True)
    if services.has_answered(round_.id, employee.id):
        return DialogPlan(
            notice="You have already answered this round; your first answers stand. Thank you.",
            finished=True,
        )
    return None


def _round(value: Any) -> SurveyRound | None:
    try:
        return db.session.get(SurveyRound, int(value))
    except (TypeError, ValueError):
        return None


def answer_dialog_for(slack_user_id: str, round_value: Any, *, now: datetime | None = None) -> DialogPlan:
    """The dialog for this Slack user and round, or why there is none."""
    now = now or utcnow()
    employee = respondent_for_slack_user(slack_user_id)
    if employee is None:
        return DialogPlan(
            notice="Touchpoints does not know your Slack account yet: answer in Touchpoints instead."
        )
    round_ = _round(round_value)
    refusal = _refusal(round_, employee, now)
    if refusal is not None:
        return refusal
    invitation = services.invitation_for(round_.id, employee.id)
    questions = services.questions_for(round_, new_hire=invitation.new_hire)
    if not fits_a_dialog(len(questions)):
        return DialogPlan(notice="This survey is too long for Slack: please answer it in Touchpoints.")
    return DialogPlan(view=answer_view(round_, questions))


def _options(pairs: list[tuple[str, str]]) -> list[Option]:
    from slack_sdk.models.blocks import Option, PlainTextObject

    return [
        Option(value=value, text=PlainTextObject(text=_clip(label, OPTION_LIMIT))) for value, label in pairs
    ]


def _element(question: SurveyQuestion):
    from slack_sdk.models.blocks import (
        PlainTextInputElement,
        PlainTextObject,
        RadioButtonsElement,
        StaticSelectElement,
    )

    if question.kind is QuestionKind.AGREEMENT:
        pairs = [(str(v), f"{v} · {label}") for v, label in AGREEMENT_LABELS.items()]
        return RadioButtonsElement(action_id="value", options=_options(pairs))
    if question.kind is QuestionKind.ENPS:
        # Eleven choices are too many radio buttons for a phone: a menu, in order 0 to 10.
        return StaticSelectElement(
            action_id="value",
            placeholder=PlainTextObject(text="Choose 0 to 10"),
            options=_options([(str(v), str(v)) for v in range(11)]),
        )
    if question.kind is QuestionKind.SINGLE_CHOICE:
        return RadioButtonsElement(
            action_id="value", options=_options([(c["key"], c["label"]) for c in question.choices])
        )
    return PlainTextInputElement(
        action_id="value", multiline=True, max_length=services.MAX_TEXT_ANSWER
    )


def answer_view(round_: SurveyRound, questions: list[SurveyQuestion]) -> View:
    """The Slack dialog asking a round's questions in order; its metadata names only the round."""
    from slack_sdk.models.blocks import (
        Block,
        ContextBlock,
        InputBlock,
        MarkdownTextObject,
        PlainTextObject,
        SectionBlock,
    )
    from slack_sdk.models.views import View

    from touchpoints.nudges.slack import escape

    survey = round_.survey
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*{escape(survey.title)}* · {round_.label}\n"
                "Anonymous: your answers are stored without your name or the time, and results "
                f"show only for groups of at least {round_.min_group_size} people."
            )
        )
    ]
    for question in questions:
        text_question = question.kind is QuestionKind.SHORT_TEXT
        hint = question.help_text or ("Optional." if text_question else "")
        blocks.append(
            InputBlock(
                block_id=block_id(question),
                label=PlainTextObject(text=question.prompt),
                element=_element(question),
                hint=PlainTextObject(text=hint) if hint else None,
                optional=text_question,
            )
        )
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="Please leave out names and details that could identify you or others."
                )
            ]
        )
    )
    return View(
        type="modal",
        callback_id=ANSWER_CALLBACK,
        private_metadata=json.dumps({"round": round_.id}),
        title=PlainTextObject(text=_clip(survey.title, TITLE_LIMIT)),
        submit=PlainTextObject(text="Send answers"),
        close=PlainTextObject(text="Cancel"),
        blocks=blocks,
    )


def notice_view(title: str, text: str) -> View:
    """A dialog that only says something (a refusal), with a button to close it."""
    from slack_sdk.models.blocks import MarkdownTextObject, PlainTextObject, SectionBlock
    from slack_sdk.models.views import View

    from touchpoints.nudges.slack import escape

    return View(
        type="modal",
        callback_id=ANSWER_CALLBACK + "_notice",
        title=PlainTextObject(text=_clip(title, TITLE_LIMIT)),
        close=PlainTextObject(text="Close"),
        blocks=[SectionBlock(text=MarkdownTextObject(text=escape(text)))],
    )


# ---------------------------------------------------------------------------------------------
# The dialog's submission


def answers_from_dialog(questions: list[SurveyQuestion], values: dict[str, Any]) -> dict[str, Any]:
    """The answers keyed by question key, read from Slack's `view.state.values`."""
    answers: dict[str, Any] = {}
    for question in questions:
        state = (values.get(block_id(question)) or {}).get("value") or {}
        if state.get("type") == "plain_text_input" or question.kind is QuestionKind.SHORT_TEXT:
            answers[question.key] = state.get("value")
        else:
            answers[question.key] = (state.get("selected_option") or {}).get("value")
    return answers


@dataclass
class Submission:
    """What a dialog submission came to, for the endpoint to tell Slack."""

    # Validation problems by block id: the dialog stays open and shows them under each question.
    errors: dict[str, str] | None = None
    # A polite refusal (answered already, closed): the dialog turns into this notice.
    notice: View | None = None
    notice_text: str = ""
    round_id: int | None = None
    # Held in memory only, to find the invitation messages to update; never stored with the answer.
    respondent_id: int | None = None
    finished: bool = False


def _round_from_metadata(raw: str | None) -> SurveyRound | None:
    try:
        meta = json.loads(raw or "{}")
    except ValueError:
        return None
    return _round(meta.get("round")) if isinstance(meta, dict) else None


def take_dialog_answers(
    slack_user_id: str, private_metadata: str | None, values: dict[str, Any], *, now: datetime | None = None
) -> Submission:
    """Record the dialog's answers through `submit_response`, or say what stops them."""
    now = now or utcnow()
    round_ = _round_from_metadata(private_metadata)
    title = round_.survey.title if round_ is not None else "Pulse survey"
    employee = respondent_for_slack_user(slack_user_id)
    if employee is None:
        text = "Touchpoints does not know your Slack account yet: please answer in Touchpoints instead."
        return Submission(notice=notice_view(title, text), notice_text=text)
    refusal = _refusal(round_, employee, now)
    if refusal is not None:
        return Submission(
            notice=notice_view(title, refusal.notice),
            notice_text=refusal.notice,
            round_id=round_.id if round_ is not None else None,
            respondent_id=employee.id,
            finished=refusal.finished,
        )
    invitation = services.invitation_for(round_.id, employee.id)
    questions = services.questions_for(round_, new_hire=invitation.new_hire)
    answers = answers_from_dialog(questions, values)
    try:
        services.submit_response(round_.id, employee.id, answers, now=now)
    except services.AnswerValidationError as error:
        db.session.rollback()
        known = {q.key: block_id(q) for q in questions}
        first = block_id(questions[0]) if questions else "answers"
        errors: dict[str, str] = {}
        for key, message in error.errors.items():
            errors.setdefault(known.get(key, first), message)
        return Submission(errors=errors, round_id=round_.id)
    except services.SubmissionError as error:
        # Lost a race with another submission or the round's closing: refused like the page does.
        db.session.rollback()
        refusal = _refusal(db.session.get(SurveyRound, round_.id), employee, now)
        text = refusal.notice if refusal is not None else str(error)
        return Submission(
            notice=notice_view(title, text),
            notice_text=text,
            round_id=round_.id,
            respondent_id=employee.id,
            finished=True,
        )
    return Submission(
        round_id=round_.id,
        respondent_id=employee.id,
        finished=True,
    )
