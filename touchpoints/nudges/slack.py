"""Slack: slack-sdk's WebClient (no retries of its own: the outbox owns them) and Block Kit messages.

A person is found by email (users.lookupByEmail, cached on the employee), a direct-message channel
is opened once (conversations.open, cached), and chat.postMessage carries fallback text plus
blocks built with `slack_sdk.models`.
"""

from __future__ import annotations

import http.client
import socket
import urllib.error
from typing import TYPE_CHECKING, Any

from touchpoints.nudges.compose import OPEN, Item, Message
from touchpoints.nudges.outcomes import SendResult, Verdict

# slack-sdk (2.5 MB once imported) is imported where a message is built or sent, not here: every
# web worker imports this module through the outbox, and most never talk to Slack.
if TYPE_CHECKING:
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError
    from slack_sdk.models.blocks import Block, ButtonElement

# Errors about the app's token or workspace: nothing can be sent until HR fixes the set-up.
PAUSING_ERRORS = frozenset(
    {
        "invalid_auth",
        "token_revoked",
        "account_inactive",
        "not_authed",
        "token_expired",
        "team_access_not_granted",
        "missing_scope",
    }
)
# Errors about this one message or person: retrying cannot help.
DEAD_ERRORS = frozenset(
    {
        "channel_not_found",
        "is_archived",
        "msg_too_long",
        "no_text",
        "invalid_blocks",
        "restricted_action",
        "cannot_dm_bot",
        "user_disabled",
        "not_in_channel",
        "invalid_arguments",
    }
)
MAX_BLOCKS = 50


def make_client(token: str, base_url: str, timeout: float = 10.0) -> WebClient:
    """A WebClient pointed at base_url with slack-sdk's own retries turned off."""
    from slack_sdk import WebClient

    if not base_url.endswith("/"):
        base_url += "/"
    return WebClient(token=token, base_url=base_url, timeout=int(max(1, timeout)), retry_handlers=[])


def _retry_after(error: SlackApiError) -> float | None:
    headers = getattr(error.response, "headers", None) or {}
    for name in ("Retry-After", "retry-after"):
        value = headers.get(name)
        if isinstance(value, list):
            value = value[0] if value else None
        if value is not None:
            try:
                return max(0.0, float(value))
            except ValueError:
                return None
    return None


def classify_api_error(error: SlackApiError) -> SendResult:
    """Slack's `ok: false` (or HTTP error) answer as an outbox verdict."""
    status = getattr(error.response, "status_code", 0) or 0
    data = getattr(error.response, "data", None)
    code = data.get("error", "") if isinstance(data, dict) else ""
    if status == 429 or code == "ratelimited":
        return SendResult.retry("Slack rate limit (429)", retry_after=_retry_after(error) or 30.0)
    if status >= 500:
        return SendResult.retry(f"Slack answered HTTP {status}")
    if code in PAUSING_ERRORS:
        return SendResult(Verdict.PAUSE, f"Slack refused the token: {code}")
    if code == "users_not_found":
        return SendResult(
            Verdict.REROUTE,
            "users_not_found: no Slack account has this person's email",
            learnt={"slack_not_found": "1"},
        )
    if code in DEAD_ERRORS:
        return SendResult(Verdict.DEAD, f"Slack: {code}")
    if code in ("internal_error", "fatal_error", "service_unavailable", "request_timeout"):
        return SendResult.retry(f"Slack: {code}")
    return SendResult(Verdict.DEAD, f"Slack: {code or f'HTTP {status}'}")


def classify_transport_error(error: BaseException) -> SendResult:
    """A network failure: before the request was sent it is retried; after, the answer was lost."""
    if isinstance(error, urllib.error.URLError):
        # urllib raises URLError only while connecting and sending: Slack never saw the request.
        return SendResult.retry(f"Slack unreachable: {error.reason}")
    if isinstance(error, (TimeoutError, socket.timeout, http.client.HTTPException, ConnectionError)):
        return SendResult(
            Verdict.UNKNOWN,
            f"No answer from Slack after sending ({type(error).__name__}): it may have arrived",
        )
    return SendResult(Verdict.UNKNOWN, f"Slack call failed after sending: {error}")


# ---------------------------------------------------------------- Block Kit


def _button(action, *, interactive: bool) -> ButtonElement:
    from slack_sdk.models.blocks import ButtonElement, PlainTextObject

    label = PlainTextObject(text=action.label, emoji=True)
    if action.name == OPEN or not interactive:
        # Slack still posts an interaction for a link button; it is acknowledged and ignored.
        return ButtonElement(
            text=label,
            url=action.url or None,
            action_id=f"tp_{action.name}",
            style="primary" if action.primary else None,
        )
    return ButtonElement(
        text=label,
        action_id=f"tp_{action.name}",
        value=action.value or str(action.touchpoint_id),
        style="primary" if action.primary else None,
    )


def item_blocks(item: Item, *, digest: bool) -> list[Block]:
    """The blocks of one item: headline, facts, buttons."""
    from slack_sdk.models.blocks import (
        ActionsBlock,
        HeaderBlock,
        MarkdownTextObject,
        PlainTextObject,
        SectionBlock,
    )

    blocks: list[Block] = []
    headline = escape(item.headline)
    if digest:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"*{headline}*")))
    else:
        blocks.append(HeaderBlock(text=PlainTextObject(text=item.headline[:150])))
    if item.facts:
        fields = [
            MarkdownTextObject(text=f"*{escape(label)}*\n{escape(value)}" if label else escape(value))
            for label, value in item.facts[:10]
        ]
        blocks.append(SectionBlock(fields=fields))
    if item.actions:
        blocks.append(
            ActionsBlock(
                block_id=f"tp:{item.touchpoint_id or 0}:{item.nudge_id or 0}",
                elements=[_button(a, interactive=True) for a in item.actions],
            )
        )
    return blocks


def message_blocks(message: Message) -> list[dict[str, Any]]:
    """The whole message as Block Kit JSON (at most Slack's 50 blocks)."""
    from slack_sdk.models.blocks import (
        ContextBlock,
        DividerBlock,
        HeaderBlock,
        MarkdownTextObject,
        PlainTextObject,
    )

    blocks: list[Block] = []
    if message.is_digest:
        blocks.append(HeaderBlock(text=PlainTextObject(text=message.subject[:150])))
    for index, item in enumerate(message.items):
        if message.is_digest and index:
            blocks.append(DividerBlock())
        blocks.extend(item_blocks(item, digest=message.is_digest))
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="Touchpoints · you get this because you own these moments; "
                    "change how you are reached "
                    "in your notification settings."
                )
            ]
        )
    )
    if len(blocks) > MAX_BLOCKS:
        blocks = [*blocks[: MAX_BLOCKS - 1], blocks[-1]]
    return [block.to_dict() for block in blocks]


def outcome_blocks(item_text: str, outcome: str) -> list[dict[str, Any]]:
    """What an updated message shows once a button was used: the item and what happened."""
    from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock

    return [
        SectionBlock(text=MarkdownTextObject(text=escape(item_text))).to_dict(),
        ContextBlock(elements=[MarkdownTextObject(text=escape(outcome))]).to_dict(),
    ]


def escape(text: str) -> str:
    """Text made safe for Slack's mrkdwn (its three control characters)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ---------------------------------------------------------------- sending


class SlackSender:
    """Sends messages to people's Slack DMs through one WebClient for a whole delivery run."""

    def __init__(self, client: WebClient):
        self.client = client

    def lookup_user(self, email: str) -> str:
        """The Slack user id of an email (raises SlackApiError with users_not_found)."""
        response = self.client.users_lookupByEmail(email=email)
        return response["user"]["id"]

    def open_dm(self, user_id: str) -> str:
        response = self.client.conversations_open(users=user_id)
        return response["channel"]["id"]

    def send(
        self, message: Message, *, email: str, user_id: str | None, dm_channel: str | None
    ) -> SendResult:
        """Look up, open and post as needed; what was learnt (ids) comes back for caching."""
        from slack_sdk.errors import SlackApiError

        learnt: dict[str, str] = {}
        try:
            if not dm_channel:
                if not user_id:
                    user_id = self.lookup_user(email)
                    learnt["slack_user_id"] = user_id
                dm_channel = self.open_dm(user_id)
                learnt["slack_dm_channel"] = dm_channel
        except SlackApiError as error:
            result = classify_api_error(error)
            # Nothing was posted yet, so even a lost answer here is safe to retry.
            return SendResult(
                result.verdict if result.verdict is not Verdict.UNKNOWN else Verdict.RETRY,
                result.reason,
                retry_after=result.retry_after,
                learnt={**learnt, **(result.learnt or {})},
            )
        except Exception as error:
            return SendResult.retry(f"Slack unreachable before posting: {error}", learnt=learnt)
        return self.post(message, channel=dm_channel, learnt=learnt)

    def post(self, message: Message, *, channel: str, learnt: dict[str, str] | None = None) -> SendResult:
        """chat.postMessage to a channel (a DM or a team's channel)."""
        from slack_sdk.errors import SlackApiError

        try:
            response = self.client.chat_postMessage(
                channel=channel, text=message.text[:3000], blocks=message_blocks(message), unfurl_links=False
            )
        except SlackApiError as error:
            result = classify_api_error(error)
            if result.reason.endswith("channel_not_found") and learnt is not None:
                learnt = {**learnt, "slack_dm_channel": ""}  # forget a cached DM that is gone
            return SendResult(
                result.verdict,
                result.reason,
                retry_after=result.retry_after,
                learnt={**(learnt or {}), **(result.learnt or {})},
            )
        except Exception as error:
            result = classify_transport_error(error)
            return SendResult(result.verdict, result.reason, learnt=learnt)
        return SendResult.sent(f"{response['channel']}:{response['ts']}", learnt=learnt)
