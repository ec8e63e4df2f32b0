"""What a channel answered, in the outbox's terms: sent, retry, unknown, dead, or pause the channel."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Verdict(enum.StrEnum):
    SENT = "sent"
    RETRY = "retry"  # surely did not arrive (refused, 429, 5xx): try again later
    UNKNOWN = "unknown"  # may have arrived: a person decides, never resent blindly
    DEAD = "dead"  # permanent for this nudge
    PAUSE = "pause"  # the whole channel is unusable (revoked token): keep the queue, alert HR
    REROUTE = "reroute"  # this person cannot be reached here (no Slack user, broken webhook)


@dataclass(frozen=True)
class SendResult:
    """One channel's answer to one message."""

    verdict: Verdict
    reason: str = ""
    external_ref: str | None = None
    retry_after: float | None = None
    # What the channel learnt about the recipient (a Slack user id, a DM channel, a broken webhook).
    learnt: dict[str, str] | None = None

    @classmethod
    def sent(cls, ref: str | None = None, learnt: dict[str, str] | None = None) -> SendResult:
        return cls(Verdict.SENT, external_ref=ref, learnt=learnt)

    @classmethod
    def retry(
        cls, reason: str, retry_after: float | None = None, learnt: dict[str, str] | None = None
    ) -> SendResult:
        return cls(Verdict.RETRY, reason, retry_after=retry_after, learnt=learnt)
