"""Buttons pressed outside the app: Slack interactions (signed by Slack) and Teams/email links.

Both end in the same journeys services the pages use (`log_touchpoint`, `reschedule`), so the
human-touch policies judge a Slack button exactly as they judge the log page. Nothing here imports
Flask's request: the views pass the parsed payload in and send back what these functions return.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.calendar import to_local, zone
from touchpoints.journeys.errors import (
    HumanTouchRefusal,
    JourneyError,
    JourneyValidationError,
    NotAllowed,
)
from touchpoints.journeys.models import Mode, Touchpoint
from touchpoints.journeys.outcomes import log_touchpoint, reschedule
from touchpoints.nudges.settings import NudgeSettings
from touchpoints.nudges.slack import make_client
from touchpoints.surveys import slack_answers

# slack-sdk (2.5 MB) is imported by the methods that build or send Block Kit, not here: the web
# worker imports this module for the page Teams and email links open, which never talks to Slack.
if TYPE_CHECKING:
    from slack_sdk.models.views import View

LOG_CALLBACK = "tp_log"
RESCHEDULE_CALLBACK = "tp_reschedule"


@dataclass
class InteractionAnswer:
    """What the endpoint sends back to Slack (within its three seconds): a status and a JSON body."""

    status: int = 200
    body: dict[str, Any] | None = None
    # For tests and logs: what happened, in words.
    outcome: str = ""
    updates: list[dict[str, Any]] = field(default_factory=list)
    # Slack calls made after the answer has left (the endpoint runs them once the response closes),
    # so a slow chat.update never makes Slack wait beyond its three seconds.
    after: list[Callable[[], None]] = field(default_factory=list)


def _user_for_slack_id(slack_user_id: str):
    from touchpoints.auth.models import User
    from touchpoints.people.models import Employee

    return db.session.scalar(
        select(User)
        .join(Employee, Employee.id == User.employee_id)
        .where(Employee.slack_user_id == slack_user_id, Employee.deactivated_at.is_(None))
    )


def _touchpoint(value: Any) -> Touchpoint | None:
    try:
        return db.session.get(Touchpoint, int(value))
    except (TypeError, ValueError):
        return None


def log_from_chat(
    touchpoint: Touchpoint, *, actor, mode: Mode | str, happened_at: datetime | None = None
) -> str:
    """Log through the same service (and policies) as the page; commits; returns the outcome text.

    Raises the journeys errors (HumanTouchRefusal, NotAllowed, TouchpointActionError) unchanged.
    """
    # The confirmation request to the other person is queued by log_touchpoint's after-log hook.
    log_touchpoint(touchpoint, actual_mode=mode, happened_at=happened_at or utcnow(), actor=actor)
    db.session.commit()
    local = to_local(touchpoint.happened_at, actor.employee.timezone)
    return (
        f"Logged as {touchpoint.actual_mode.label.lower()} by {actor.employee.full_name} "
        f"at {local:%H:%M} on {local:%a} {local.day} {local:%b}."
    )


def _refusal_text(error: JourneyError) -> str:
    if isinstance(error, HumanTouchRefusal):
        return f"Not logged: {error.reason} Open it in Touchpoints to log it another way" + (
            " or ask an HR partner to override." if error.overridable else "."
        )
    if isinstance(error, JourneyValidationError):
        return "Not saved: " + " ".join(error.errors.values())
    return f"Not done: {error}"


class SlackInteractions:
    """Handles one verified interaction payload from Slack."""

    def __init__(self, settings: NudgeSettings):
        self.settings = settings
        self._client = None

    @property
    def client(self):
        if self._client is None:
            # Short timeout: Slack waits three seconds for our answer.
            self._client = make_client(
                self.settings.slack_token or "", self.settings.slack_api_url, timeout=2
            )
        return self._client

    def handle(self, payload: dict[str, Any]) -> InteractionAnswer:
        kind = payload.get("type")
        if kind == "block_actions":
            return self._block_action(payload)
        if kind == "view_submission":
            return self._view_submission(payload)
        return InteractionAnswer(outcome=f"ignored {kind}")

    # -------------------------------------------------- buttons

    def _block_action(self, payload: dict[str, Any]) -> InteractionAnswer:
        actions = payload.get("actions") or [{}]
        action = actions[0]
        action_id = action.get("action_id", "")
        slack_user = (payload.get("user") or {}).get("id", "")
        container = payload.get("container") or {}
        channel = container.get("channel_id") or (payload.get("channel") or {}).get("id")
        ts = container.get("message_ts") or (payload.get("message") or {}).get("ts")
        blocks = (payload.get("message") or {}).get("blocks") or []
        if action_id == "tp_open" or not action_id.startswith("tp_"):
            return InteractionAnswer(outcome="link opened")
        if action_id == slack_answers.ANSWER_ACTION:
            plan = slack_answers.answer_dialog_for(slack_user, action.get("value"))
            if plan.view is not None:
                return self._open_modal(payload, plan.view)
            return self._update(channel, ts, blocks, action, plan.notice, keep_buttons=not plan.finished)
        user = _user_for_slack_id(slack_user)
        tp = _touchpoint(action.get("value"))
        if user is None:
            return self._update(
                channel,
                ts,
                blocks,
                action,
                "Touchpoints does not know your Slack account yet: open the touchpoint in the app instead.",
                keep_buttons=True,
            )
        if tp is None:
            return self._update(
                channel, ts, blocks, action, "This touchpoint no longer exists.", keep_buttons=False
            )
        if action_id == "tp_done_in_person":
            try:
                outcome = log_from_chat(tp, actor=user, mode=Mode.IN_PERSON)
            except JourneyError as error:
                db.session.rollback()
                return self._update(
                    channel,
                    ts,
                    blocks,
                    action,
                    _refusal_text(error),
                    keep_buttons=not isinstance(error, NotAllowed),
                )
            return self._update(channel, ts, blocks, action, "✅ " + outcome, keep_buttons=False)
        if action_id == "tp_done_other":
            return self._open_modal(payload, self._log_modal(tp, user, channel, ts))
        if action_id == "tp_reschedule":
            return self._open_modal(payload, self._reschedule_modal(tp, user, channel, ts))
        return InteractionAnswer(outcome=f"unknown action {action_id}")

    def _update(
        self,
        channel: str | None,
        ts: str | None,
        blocks: list[dict],
        action: dict[str, Any],
        outcome: str,
        *,
        keep_buttons: bool,
    ) -> InteractionAnswer:
        """Update the original message: the outcome under the item, its buttons gone once it is done."""
        from slack_sdk.errors import SlackApiError
        from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject

        block_id = action.get("block_id")
        updated = []
        for block in blocks:
            if block.get("block_id") == block_id:
                if keep_buttons:
                    updated.append(block)
                updated.append(ContextBlock(elements=[MarkdownTextObject(text=outcome)]).to_dict())
            else:
                updated.append(block)
        if not any(b.get("block_id") == block_id for b in blocks):
            updated.append(ContextBlock(elements=[MarkdownTextObject(text=outcome)]).to_dict())
        answer = InteractionAnswer(outcome=outcome)
        if channel and ts:
            try:
                self.client.chat_update(channel=channel, ts=ts, text=outcome, blocks=updated)
                answer.updates.append({"channel": channel, "ts": ts})
            except (SlackApiError, OSError) as error:
                answer.outcome += f" (the message could not be updated: {error})"
        return answer

    def _open_modal(self, payload: dict[str, Any], view: View) -> InteractionAnswer:
        from slack_sdk.errors import SlackApiError

        try:
            self.client.views_open(trigger_id=payload.get("trigger_id", ""), view=view)
        except (SlackApiError, OSError) as error:
            return InteractionAnswer(outcome=f"could not open the dialog: {error}")
        return InteractionAnswer(outcome="dialog opened")

    # -------------------------------------------------- dialogs

    @staticmethod
    def _metadata(tp: Touchpoint, channel: str | None, ts: str | None) -> str:
        return json.dumps({"tp": tp.id, "channel": channel, "ts": ts})

    def _log_modal(self, tp: Touchpoint, user, channel: str | None, ts: str | None) -> View:
        from slack_sdk.models.blocks import (
            InputBlock,
            MarkdownTextObject,
            Option,
            PlainTextObject,
            SectionBlock,
            StaticSelectElement,
        )
        from slack_sdk.models.views import View

        options = [Option(text=PlainTextObject(text=m.label), value=m.value) for m in Mode]
        initial = next(o for o in options if o.value == tp.planned_mode.value)
        return View(
            type="modal",
            callback_id=LOG_CALLBACK,
            private_metadata=self._metadata(tp, channel, ts),
            title=PlainTextObject(text="Log touchpoint"),
            submit=PlainTextObject(text="Log"),
            close=PlainTextObject(text="Cancel"),
            blocks=[
                SectionBlock(text=MarkdownTextObject(text=f"*{tp.title}* with {tp.employee.full_name}")),
                InputBlock(
                    block_id="mode",
                    label=PlainTextObject(text="How did it happen?"),
                    element=StaticSelectElement(action_id="value", options=options, initial_option=initial),
                ),
            ],
        )

    def _reschedule_modal(self, tp: Touchpoint, user, channel: str | None, ts: str | None) -> View:
        from slack_sdk.models.blocks import (
            DatePickerElement,
            InputBlock,
            MarkdownTextObject,
            PlainTextInputElement,
            PlainTextObject,
            SectionBlock,
            TimePickerElement,
        )
        from slack_sdk.models.views import View

        tz = user.employee.timezone
        local = to_local(tp.due_at, tz)
        return View(
            type="modal",
            callback_id=RESCHEDULE_CALLBACK,
            private_metadata=self._metadata(tp, channel, ts),
            title=PlainTextObject(text="Reschedule"),
            submit=PlainTextObject(text="Move it"),
            close=PlainTextObject(text="Cancel"),
            blocks=[
                SectionBlock(
                    text=MarkdownTextObject(
                        text=f"*{tp.title}* with {tp.employee.full_name}. Times are in {tz}."
                    )
                ),
                InputBlock(
                    block_id="date",
                    label=PlainTextObject(text="New date"),
                    element=DatePickerElement(action_id="value", initial_date=local.date().isoformat()),
                ),
                InputBlock(
                    block_id="time",
                    label=PlainTextObject(text="New time"),
                    element=TimePickerElement(action_id="value", initial_time=local.strftime("%H:%M")),
                ),
                InputBlock(
                    block_id="reason",
                    optional=True,
                    label=PlainTextObject(text="Why (optional)"),
                    element=PlainTextInputElement(action_id="value", max_length=200),
                ),
            ],
        )

    def _view_submission(self, payload: dict[str, Any]) -> InteractionAnswer:
        view = payload.get("view") or {}
        callback = view.get("callback_id")
        if callback == slack_answers.ANSWER_CALLBACK:
            return self._survey_submission(payload, view)
        try:
            meta = json.loads(view.get("private_metadata") or "{}")
        except ValueError:
            meta = {}
        values = (view.get("state") or {}).get("values") or {}
        user = _user_for_slack_id((payload.get("user") or {}).get("id", ""))
        tp = _touchpoint(meta.get("tp"))
        first_block = "mode" if callback == LOG_CALLBACK else "date"
        if user is None or tp is None:
            return InteractionAnswer(
                body={
                    "response_action": "errors",
                    "errors": {
                        first_block: "Touchpoints does not know your Slack account or this touchpoint."
                    },
                }
            )
        channel, ts = meta.get("channel"), meta.get("ts")
        if callback == LOG_CALLBACK:
            mode = ((values.get("mode") or {}).get("value") or {}).get("selected_option", {}).get("value", "")
            try:
                outcome = log_from_chat(tp, actor=user, mode=mode)
            except JourneyError as error:
                db.session.rollback()
                return InteractionAnswer(
                    body={"response_action": "errors", "errors": {"mode": _refusal_text(error)}},
                    outcome=_refusal_text(error),
                )
            return self._after_dialog(channel, ts, tp, "✅ " + outcome)
        if callback == RESCHEDULE_CALLBACK:
            raw_date = ((values.get("date") or {}).get("value") or {}).get("selected_date")
            raw_time = ((values.get("time") or {}).get("value") or {}).get("selected_time")
            reason = ((values.get("reason") or {}).get("value") or {}).get("value") or ""
            try:
                moment = datetime.combine(
                    date.fromisoformat(raw_date),
                    time.fromisoformat(raw_time),
                    tzinfo=zone(user.employee.timezone),
                )
            except (TypeError, ValueError):
                return InteractionAnswer(
                    body={"response_action": "errors", "errors": {"date": "Choose a date and a time."}}
                )
            try:
                reschedule(tp, due_at=moment, actor=user, reason=reason)
                db.session.commit()
            except JourneyError as error:
                db.session.rollback()
                return InteractionAnswer(
                    body={"response_action": "errors", "errors": {"date": _refusal_text(error)}},
                    outcome=_refusal_text(error),
                )
            theirs = to_local(moment, tp.employee.timezone)
            return self._after_dialog(
                channel,
                ts,
                tp,
                f"📅 Moved to {theirs:%a} {theirs.day} {theirs:%b, %H:%M} "
                f"({tp.employee.timezone}) by {user.employee.full_name}.",
            )
        return InteractionAnswer(outcome=f"ignored view {callback}")

    def _after_dialog(
        self, channel: str | None, ts: str | None, tp: Touchpoint, outcome: str
    ) -> InteractionAnswer:
        from slack_sdk.errors import SlackApiError
        from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock

        answer = InteractionAnswer(outcome=outcome)
        if channel and ts:
            try:
                self.client.chat_update(
                    channel=channel,
                    ts=ts,
                    text=outcome,
                    blocks=[
                        SectionBlock(
                            text=MarkdownTextObject(text=f"*{tp.title}* with {tp.employee.full_name}")
                        ).to_dict(),
                        ContextBlock(elements=[MarkdownTextObject(text=outcome)]).to_dict(),
                    ],
                )
                answer.updates.append({"channel": channel, "ts": ts})
            except (SlackApiError, OSError) as error:
                answer.outcome += f" (the message could not be updated: {error})"
        return answer

    # -------------------------------------------------- pulse surveys

    def _survey_submission(self, payload: dict[str, Any], view: dict[str, Any]) -> InteractionAnswer:
        """Answers from the survey dialog; what was answered is never logged, audited or queued."""
        submission = slack_answers.take_dialog_answers(
            (payload.get("user") or {}).get("id", ""),
            view.get("private_metadata"),
            (view.get("state") or {}).get("values") or {},
        )
        if submission.errors:
            return InteractionAnswer(
                body={"response_action": "errors", "errors": submission.errors},
                outcome="survey answers need attention",
            )
        if submission.notice is not None:
            answer = InteractionAnswer(
                body={"response_action": "update", "view": submission.notice.to_dict()},
                outcome=submission.notice_text,
            )
            if submission.finished:
                self._update_invitations(answer, submission, submission.notice_text)
            return answer
        # The surveys' after-answer hook (survey_messages) thanks the person in every Slack message
        # that invited them, digests included, once this answer has left.
        return InteractionAnswer(outcome="survey answered")

    def _update_invitations(
        self, answer: InteractionAnswer, submission: slack_answers.Submission, text: str
    ) -> None:
        """Replace the person's invitation and reminder messages for the round with one sentence.

        Found through the outbox (read only), so the dialog needs to carry nothing but the round;
        a digest holding the survey is composed again with it marked answered (survey_messages).
        """
        from touchpoints.nudges.survey_messages import sender, survey_message_updates

        if submission.round_id is None or submission.respondent_id is None:
            return
        updates = survey_message_updates(submission.round_id, submission.respondent_id, text,
                                         settings=self.settings)
        if updates:
            answer.updates.extend({"channel": u.channel, "ts": u.ts} for u in updates)
            answer.after.append(sender(updates, self.settings))
