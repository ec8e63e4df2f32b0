"""What the journey services refuse, in words a person can act on."""
from __future__ import annotations


class JourneyError(Exception):
    """Base of every refusal by the journey services."""


class JourneyValidationError(JourneyError, ValueError):
    """Input that cannot be saved; `errors` maps each field name to its reason."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class TouchpointActionError(JourneyError):
    """An action on a touchpoint that cannot happen now (already logged, cancelled, in the future)."""

    status = 409


class NotAllowed(TouchpointActionError):
    """The person acting may not do this to this touchpoint or person."""

    status = 403


class HumanTouchRefusal(TouchpointActionError):
    """A human-touch policy forbids this; HR may override with a written justification.

    Raised by the checks registered with `register_log_check` (the policies engine).
    """

    status = 422

    def __init__(self, reason: str, *, overridable: bool = True, policy_id: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.overridable = overridable
        self.policy_id = policy_id
