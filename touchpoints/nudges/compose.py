"""What a nudge says, independent of the channel: a headline, facts, links and buttons.

Slack (Block Kit), Teams (Adaptive Card), email and the in-app list each render the same
`Message`. Sensitive moments (reviews, grievances, exits, channel-guideline kinds) say who and
when, with a link: their substance stays in the app.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from touchpoints.journeys.calendar import to_local
from touchpoints.journeys.models import Mode, TouchpointKind

# Button actions: Slack handles the first three in the interactions endpoint; Teams and email
# carry them as signed links into the app.
DONE_IN_PERSON = "done_in_person"
DONE_OTHER = "done_other"
RESCHEDULE = "reschedule"
OPEN = "open"
# Slack only: opens the survey's answer dialog in Slack (other channels carry only the link).
ANSWER_SURVEY = "survey_answer"
TOUCHPOINT_ACTIONS = (DONE_IN_PERSON, DONE_OTHER, RESCHEDULE)
ACTION_LABELS = {
    DONE_IN_PERSON: "Done — in person",
    DONE_OTHER: "Done — another way…",
    RESCHEDULE: "Reschedule",
    OPEN: "Open",
}


@dataclass(frozen=True)
class Action:
    """A button: what it does, its label, and where it leads in the app."""

    name: str
    label: str
    url: str
    touchpoint_id: int | None = None
    primary: bool = False
    # What a Slack button sends back when it is not about a touchpoint (a survey round's id).
    value: str = ""


@dataclass(frozen=True)
class Item:
    """One thing a person is told about: a headline, facts (label, value) and actions."""

    headline: str
    facts: tuple[tuple[str, str], ...] = ()
    actions: tuple[Action, ...] = ()
    touchpoint_id: int | None = None
    nudge_id: int | None = None


@dataclass(frozen=True)
class Message:
    """What one delivery carries: a subject, plain fallback text, and one item or a digest of several."""

    subject: str
    items: tuple[Item, ...]
    intro: str = ""

    @property
    def is_digest(self) -> bool:
        return len(self.items) > 1

    @property
    def text(self) -> str:
        """The plain-text version (Slack's fallback, the email's text part, notifications)."""
        lines = [self.intro] if self.intro else []
        for item in self.items:
            lines.append(("• " if self.is_digest else "") + item.headline)
            lines.extend(
                f"   {label}: {value}" if self.is_digest else f"{label}: {value}"
                for label, value in item.facts
            )
        return "\n".join(lines)


@dataclass(frozen=True)
class TouchpointFacts:
    """What a nudge may know about a touchpoint (read once per batch, never private notes)."""

    id: int
    title: str
    kind: TouchpointKind
    planned_mode: Mode
    due_at: datetime
    duration_minutes: int
    employee_id: int
    employee_name: str
    owner_id: int | None
    owner_name: str | None
    sensitive: bool
    is_open: bool


@dataclass(frozen=True)
class NudgeFacts:
    """A nudge as the composer sees it."""

    id: int
    kind: str
    payload: dict[str, Any]
    touchpoint: TouchpointFacts | None
    recipient_id: int | None
    recipient_timezone: str
    links: dict[str, str] = field(default_factory=dict)


def when(moment: datetime, timezone: str) -> str:
    """'Tue 4 Mar 2025, 10:00 (London time)' in the recipient's own zone."""
    local = to_local(moment, timezone)
    city = timezone.rsplit("/", 1)[-1].replace("_", " ")
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} ({city} time)"


LEAD_WORDS = {
    "morning": "today",
    "2wd": "in two working days",
    "5wd": "in a week",
    "24h": "tomorrow",
    "2h": "in two hours",
}


def _lead_words(lead: str) -> str:
    if lead in LEAD_WORDS:
        return LEAD_WORDS[lead]
    if lead.endswith("wd"):
        return f"in {lead[:-2]} working days"
    if lead.endswith("h"):
        return f"in {lead[:-1]} hours"
    return "soon"


def keeps_content_private(touchpoint: TouchpointFacts, content_allowed: bool) -> bool:
    """Whether the message may only say who and when (sensitive kinds, channel guidelines)."""
    return touchpoint.sensitive or touchpoint.kind.is_sensitive or not content_allowed


def _with_whom(tp: TouchpointFacts, recipient_id: int | None) -> str:
    if recipient_id == tp.employee_id:
        return tp.owner_name or "your HR partner"
    return tp.employee_name


def touchpoint_item(
    nudge: NudgeFacts, *, content_allowed: bool, policy_text: str | None, buttons: bool = True
) -> Item:
    """The item for a reminder, an escalation or a confirmation about one touchpoint."""
    tp = nudge.touchpoint
    assert tp is not None
    private = keeps_content_private(tp, content_allowed)
    moment = when(tp.due_at, nudge.recipient_timezone)
    whom = _with_whom(tp, nudge.recipient_id)
    open_action = Action(OPEN, ACTION_LABELS[OPEN], nudge.links.get(OPEN, ""), tp.id)
    if nudge.kind == "escalation":
        days = nudge.payload.get("overdue_days")
        what = "A conversation" if private else tp.title
        owner = tp.owner_name or "no one"
        headline = (
            f"Overdue{f' for {days} days' if days else ''}: {what} with {tp.employee_name}, owned by {owner}"
        )
        facts = [("Was due", moment)]
        return Item(headline, tuple(facts), (open_action,), tp.id, nudge.id)
    if nudge.kind == "confirmation":
        logged_by = nudge.payload.get("logged_by", tp.owner_name or "Someone")
        what = "a conversation" if private else tp.title
        headline = f"{logged_by} logged {what} with you: did it take place?"
        return Item(headline, (("When", moment),), (open_action,), tp.id, nudge.id)
    lead = _lead_words(str(nudge.payload.get("lead", "")))
    if private:
        headline = f"A conversation with {whom} is due {lead}"
        return Item(headline, (("When", moment),), (open_action,), tp.id, nudge.id)
    headline = f"{tp.title} with {whom} is due {lead}"
    facts = [("When", moment), ("How", tp.planned_mode.label), ("With", whom)]
    if policy_text:
        facts.append(("Policy", policy_text))
    actions: list[Action] = []
    if buttons and tp.is_open:
        for name in TOUCHPOINT_ACTIONS:
            actions.append(
                Action(
                    name,
                    ACTION_LABELS[name],
                    nudge.links.get(name, ""),
                    tp.id,
                    primary=name == DONE_IN_PERSON,
                )
            )
    actions.append(open_action)
    return Item(headline, tuple(facts), tuple(actions), tp.id, nudge.id)


def other_item(nudge: NudgeFacts, *, dialogs: bool = False) -> Item:
    """The item for a nudge that is not about one touchpoint (surveys, policy findings, notices).

    `dialogs`: the channel can open a dialog (Slack), so a short survey is answered right there.
    """
    payload = nudge.payload
    link = nudge.links.get(OPEN, "")
    if nudge.kind in ("survey_invitation", "survey_reminder"):
        title = payload.get("survey_title", "A pulse survey")
        closes = payload.get("closes_at")
        verb = (
            "is waiting for your answers"
            if nudge.kind == "survey_invitation"
            else "closes soon and you have not answered yet"
        )
        facts = (
            (("Closes", when(datetime.fromisoformat(closes), nudge.recipient_timezone)),) if closes else ()
        )
        actions: tuple[Action, ...] = (Action(OPEN, "Answer in Touchpoints", link, primary=True),)
        if dialogs and payload.get("answer_in_chat") and payload.get("round_id"):
            actions = (
                Action(ANSWER_SURVEY, "Answer here", "", primary=True, value=str(payload["round_id"])),
                Action(OPEN, "Answer in Touchpoints", link),
            )
        return Item(f"{title} {verb} (anonymous, a few minutes)", facts, actions, nudge_id=nudge.id)
    if nudge.kind == "policy_escalation":
        headline = (
            f"{payload.get('employee_name', 'Someone')} is out of the policy "
            f"“{payload.get('policy_name', '')}”"
        )
        facts = (
            (("Finding", payload.get("detail", "")),)
            if payload.get("detail") and not payload.get("hr_only")
            else ()
        )
        return Item(headline, facts, (Action(OPEN, "Open", link),), nudge_id=nudge.id)
    if nudge.kind == "team_digest":
        lines = payload.get("lines", [])
        return Item(
            payload.get("headline", "This week's touchpoints"),
            tuple(("", line) for line in lines),
            (Action(OPEN, "Open", link),),
            nudge_id=nudge.id,
        )
    return Item(
        payload.get("headline", "A notice from Touchpoints"),
        (("Details", payload["detail"]),) if payload.get("detail") else (),
        (Action(OPEN, "Open", link),) if link else (),
        nudge_id=nudge.id,
    )


def compose(items: list[Item], *, digest_title: str = "Your touchpoints today") -> Message:
    """One message from one item, or a digest of several."""
    if len(items) == 1:
        return Message(subject=items[0].headline, items=tuple(items))
    return Message(
        subject=f"{digest_title}: {len(items)} things",
        items=tuple(items),
        intro=f"{digest_title} ({len(items)}):",
    )
