"""Slack messages that invited someone to a survey round, brought up to date once they answered.

Whatever the way a person answers (the page, the API, the Slack dialog), each Slack message that
invited or reminded them is updated with chat.update: a message of its own becomes the thanks; a
daily digest that bundled the invitation with other nudges is composed again from its rows in the
outbox, with the survey's entry marked answered (no buttons) and the other entries as they stand.

Anonymity: this reads the outbox (who was invited to which round, which it holds anyway) and the
participation (whether the person answered, kept for reminders); it never reads or sends what was
answered, and writes and logs nothing, so no stored row gains the moment of an answer. The Slack
calls leave once the answer's own response has gone (a dialog must be acknowledged within three
seconds, and a page should not wait on Slack).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import after_this_request, has_request_context
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.models import Touchpoint
from touchpoints.nudges import compose
from touchpoints.nudges.models import DeliveryChannel, Nudge, NudgeKind, NudgeStatus
from touchpoints.nudges.settings import NudgeSettings
from touchpoints.people.models import Employee

SURVEY_KINDS = (NudgeKind.SURVEY_INVITATION, NudgeKind.SURVEY_REMINDER)
SURVEY_PREFIXES = ("survey-invite", "survey-remind")
ANSWERED_FACT = ("Your answer", "recorded anonymously, without your name or the time")


@dataclass(frozen=True)
class MessageUpdate:
    """One chat.update: which message, its new fallback text and blocks."""

    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]


def _split(ref: str | None) -> tuple[str, str]:
    channel, _, ts = (ref or "").partition(":")
    return channel, ts


def answered_rounds(employee_id: int, round_ids: set[int]) -> set[int]:
    """Which of these rounds the person has answered (participation only; one query)."""
    from touchpoints.surveys.models import SurveyParticipation

    if not round_ids:
        return set()
    return set(db.session.scalars(select(SurveyParticipation.round_id).where(
        SurveyParticipation.employee_id == employee_id, SurveyParticipation.round_id.in_(sorted(round_ids)))))


def _round_of(nudge: Nudge) -> int | None:
    try:
        return int((nudge.payload or {}).get("round_id"))
    except (TypeError, ValueError):
        return None


def answered_item(nudge: Nudge) -> compose.Item:
    """A survey's entry in a digest once answered: what it was and that it is done, nothing more."""
    title = (nudge.payload or {}).get("survey_title") or "Pulse survey"
    return compose.Item(f"✅ {title}: answered — thank you", (ANSWERED_FACT,), (), nudge_id=nudge.id)


def digest_update(ref: str, employee: Employee, settings: NudgeSettings) -> MessageUpdate | None:
    """A person's digest composed again from its outbox rows, answered surveys marked as such."""
    from touchpoints.nudges.services import _Run, facts_for
    from touchpoints.nudges.slack import message_blocks

    channel, ts = _split(ref)
    rows = list(db.session.scalars(
        select(Nudge)
        .options(joinedload(Nudge.touchpoint).joinedload(Touchpoint.employee).joinedload(Employee.team),
                 joinedload(Nudge.touchpoint).joinedload(Touchpoint.owner))
        .where(Nudge.recipient_id == employee.id, Nudge.external_ref == ref,
               Nudge.channel == DeliveryChannel.SLACK, Nudge.status == NudgeStatus.SENT)
        .order_by(Nudge.id)
    ).unique())
    if not channel or not ts or not rows:
        return None
    answered = answered_rounds(employee.id, {r for n in rows if n.kind in SURVEY_KINDS
                                              if (r := _round_of(n)) is not None})
    run = None
    items: list[compose.Item] = []
    for nudge in rows:
        tp = nudge.touchpoint
        if nudge.kind in SURVEY_KINDS and _round_of(nudge) in answered:
            items.append(answered_item(nudge))
            continue
        facts = facts_for(nudge, tp, employee.timezone, settings, DeliveryChannel.SLACK)
        if tp is None:
            items.append(compose.other_item(facts, dialogs=True))
            continue
        # The channel guidelines and policy line, read as a delivery run reads them.
        run = run or _Run(settings, utcnow)
        items.append(compose.touchpoint_item(
            facts, content_allowed=run.content_allowed(tp.kind, DeliveryChannel.SLACK, employee),
            policy_text=run.policy_text(tp) if nudge.kind is NudgeKind.REMINDER else None))
    message = compose.compose(items)
    return MessageUpdate(channel, ts, message.text[:3000], message_blocks(message))


def survey_message_updates(round_id: int, employee_id: int, text: str, *,
                           settings: NudgeSettings | None = None) -> list[MessageUpdate]:
    """The chat.updates that bring this person's Slack messages for this round up to date.

    A survey message of its own says `text`; a digest holding the survey is composed again, and
    changes only once the person has answered (a refusal such as "closed" leaves it as it was).
    """
    from touchpoints.nudges.slack import outcome_blocks

    settings = settings or NudgeSettings.current()
    keys = [f"{prefix}:{round_id}:{employee_id}" for prefix in SURVEY_PREFIXES]
    sent = db.session.execute(
        select(Nudge.external_ref, Nudge.bundled, Nudge.payload).where(
            Nudge.dedup_key.in_(keys), Nudge.channel == DeliveryChannel.SLACK,
            Nudge.status == NudgeStatus.SENT, Nudge.external_ref.is_not(None))
        .order_by(Nudge.id)
    ).all()
    updates: list[MessageUpdate] = []
    digests: list[str] = []
    for ref, bundled, payload in sent:
        if bundled:
            if ref not in digests:
                digests.append(ref)
            continue
        channel, ts = _split(ref)
        if channel and ts:
            title = (payload or {}).get("survey_title") or "Pulse survey"
            updates.append(MessageUpdate(channel, ts, text, outcome_blocks(f"*{title}*", text)))
    if digests and answered_rounds(employee_id, {round_id}):
        employee = db.session.get(Employee, employee_id)
        for ref in digests:
            update = digest_update(ref, employee, settings)
            if update is not None:
                updates.append(update)
    return updates


def sender(updates: list[MessageUpdate], settings: NudgeSettings) -> Callable[[], None]:
    """A call that makes the updates (no database), each failure left alone: the answer stands."""
    from slack_sdk.errors import SlackApiError

    from touchpoints.nudges.slack import make_client

    client = make_client(settings.slack_token or "", settings.slack_api_url, timeout=2)

    def send() -> None:
        for update in updates:
            try:
                client.chat_update(channel=update.channel, ts=update.ts, text=update.text,
                                   blocks=update.blocks)
            except (SlackApiError, OSError):
                # An old button left behind says "already answered" if pressed.
                continue

    return send


def after_answer(round_id: int, employee_id: int) -> None:
    """The surveys' after-answer hook: thank the person in Slack once the response has left."""
    from touchpoints.surveys.models import SurveyRound
    from touchpoints.surveys.slack_answers import thanks_text

    settings = NudgeSettings.current()
    if not settings.slack_enabled:
        return
    round_ = db.session.get(SurveyRound, round_id)
    employee = db.session.get(Employee, employee_id)
    if round_ is None or employee is None:
        return
    updates = survey_message_updates(round_id, employee_id, "✅ " + thanks_text(round_, employee.timezone),
                                     settings=settings)
    if not updates:
        return
    send = sender(updates, settings)
    if not has_request_context():
        send()
        return

    @after_this_request
    def _later(response):
        response.call_on_close(send)
        return response
