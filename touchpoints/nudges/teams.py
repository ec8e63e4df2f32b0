"""Microsoft Teams through Workflows webhooks: an Adaptive Card 1.4 in the `attachments` envelope.

Office 365 connectors are retired; a Teams workflow ("Post to a chat when a webhook request is
received") gives a URL that accepts this envelope. Its buttons are signed links into the app
(Action.OpenUrl): the person signs in and confirms there, so a link never changes anything alone.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from typing import Any

from touchpoints.nudges.compose import Message
from touchpoints.nudges.outcomes import SendResult, Verdict

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"


def adaptive_card(message: Message) -> dict[str, Any]:
    """The Adaptive Card 1.4 for a message: headline, fact set, link buttons per item."""
    body: list[dict[str, Any]] = []
    if message.is_digest:
        body.append(
            {"type": "TextBlock", "text": message.subject, "weight": "Bolder", "size": "Medium", "wrap": True}
        )
    for index, item in enumerate(message.items):
        container: list[dict[str, Any]] = [
            {
                "type": "TextBlock",
                "text": item.headline,
                "weight": "Bolder",
                "wrap": True,
                "size": "Default" if message.is_digest else "Medium",
            },
        ]
        if item.facts:
            container.append(
                {
                    "type": "FactSet",
                    "facts": [{"title": label or "•", "value": value} for label, value in item.facts],
                }
            )
        if item.actions:
            container.append(
                {
                    "type": "ActionSet",
                    "actions": [
                        {
                            "type": "Action.OpenUrl",
                            "title": action.label,
                            "url": action.url,
                            **({"style": "positive"} if action.primary else {}),
                        }
                        for action in item.actions
                        if action.url
                    ],
                }
            )
        body.append(
            {
                "type": "Container",
                "items": container,
                "separator": bool(index),
                "spacing": "Medium" if index else "None",
            }
        )
    body.append({"type": "TextBlock", "text": "Touchpoints", "isSubtle": True, "size": "Small", "wrap": True})
    return {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
        "msteams": {"width": "Full"},
    }


def envelope(message: Message) -> dict[str, Any]:
    """The JSON a Workflows webhook accepts: a message with the card as its one attachment."""
    return {
        "type": "message",
        "attachments": [
            {"contentType": CARD_CONTENT_TYPE, "contentUrl": None, "content": adaptive_card(message)}
        ],
    }


def _retry_after(headers) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


class TeamsSender:
    """Posts cards to Workflows webhook URLs."""

    def __init__(self, timeout: float = 10.0):
        self.timeout = timeout

    def send(self, message: Message, *, webhook_url: str) -> SendResult:
        """POST the envelope; 2xx is sent, 404/410 a broken webhook, 429/5xx retried."""
        data = json.dumps(envelope(message)).encode("utf-8")
        request = urllib.request.Request(  # noqa: S310 - http(s) only, checked above
            webhook_url, data=data, method="POST", headers={"Content-Type": "application/json"}
        )
        if not webhook_url.lower().startswith(("http://", "https://")):  # checked before any request
            return SendResult(
                Verdict.REROUTE,
                "The Teams webhook address is not an http(s) URL",
                learnt={"teams_broken": "invalid address"},
            )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - http(s) only
                response.read()
                return SendResult.sent(response.headers.get("x-ms-request-id") or f"http-{response.status}")
        except urllib.error.HTTPError as error:
            error.read()
            status = error.code
            if status in (404, 410):
                return SendResult(
                    Verdict.REROUTE,
                    f"The Teams workflow is gone (HTTP {status})",
                    learnt={"teams_broken": f"HTTP {status}"},
                )
            if status == 429:
                return SendResult.retry(
                    "Teams rate limit (429)", retry_after=_retry_after(error.headers) or 60.0
                )
            if status >= 500:
                return SendResult.retry(
                    f"Teams answered HTTP {status}", retry_after=_retry_after(error.headers)
                )
            if status in (401, 403):
                return SendResult(
                    Verdict.REROUTE,
                    f"The Teams workflow refused the request (HTTP {status})",
                    learnt={"teams_broken": f"HTTP {status}"},
                )
            return SendResult(Verdict.DEAD, f"Teams refused the card (HTTP {status})")
        except urllib.error.URLError as error:
            return SendResult.retry(f"Teams unreachable: {error.reason}")
        except (TimeoutError, http.client.HTTPException, ConnectionError) as error:
            return SendResult(
                Verdict.UNKNOWN,
                f"No answer from Teams after sending ({type(error).__name__}): it may have arrived",
            )
