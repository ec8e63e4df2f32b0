"""Enforcing human-touch policies where data enters: every touchpoint logged or planned.

The journeys services call the checks registered here (`register_log_check`,
`register_plan_check`) from `log_touchpoint` and `plan_touchpoint`, which every page, API call,
chat button and job goes through: one service, one rule. A blocking policy refuses in plain words;
an HR partner may override it with a written justification, which is recorded (a PolicyOverride
row and an audit entry) in the same transaction as the touchpoint.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from touchpoints.audit.services import record
from touchpoints.extensions import db
from touchpoints.journeys.errors import HumanTouchRefusal
from touchpoints.journeys.models import Mode, Touchpoint
from touchpoints.journeys.outcomes import LogAttempt, PlanAttempt
from touchpoints.people.models import Employee
from touchpoints.policies.engine.evaluation import ActivePolicy, active_policies
from touchpoints.policies.models import PolicyOverride, Severity
from touchpoints.policies.rules import ENTRY_RULE_KINDS, ChannelGuidelines, RequiredModes

MIN_JUSTIFICATION = 20


@dataclass(frozen=True)
class Breach:
    """One policy that the mode of one touchpoint breaks, with the sentence that says so."""

    policy: ActivePolicy
    reason: str

    @property
    def blocks(self) -> bool:
        return self.policy.severity is Severity.BLOCK


def breaches(touchpoint: Touchpoint, mode: Mode, *, action: str = "log", employee: Employee | None = None,
             entry_policies: list[ActivePolicy] | None = None) -> list[Breach]:
    """The active entry policies (required modes, channel guidelines) this mode would break.

    `action` is "log" (what happened) or "plan" (how it is planned); it only changes the wording.
    `entry_policies` spares the query when the caller asks about several modes.
    """
    if entry_policies is None:
        entry_policies = active_policies(ENTRY_RULE_KINDS)
    # Required modes explain best ("must happen in person"), so they come first.
    policies = sorted((p for p in entry_policies if p.scope.covers_kind(touchpoint.kind)),
                      key=lambda p: (p.rule_kind != RequiredModes.kind, p.name))
    if not policies:
        return []
    employee = employee or touchpoint.employee or db.session.get(Employee, touchpoint.employee_id)
    team_name = employee.team.name if employee.team is not None else None
    verb = "Logged" if action == "log" else "Planned"
    found = []
    for policy in policies:
        rule = policy.rule
        assert isinstance(rule, RequiredModes | ChannelGuidelines)
        if rule.allows(mode) or not policy.scope.covers_employee(
                status=employee.status, team_name=team_name, location=employee.location):
            continue
        reason = (f"{rule.requirement(touchpoint.kind)} (policy: {policy.name}). "
                  f"{verb} mode: {mode.label.lower()}.")
        found.append(Breach(policy, reason))
    return found


def _already_overridden(touchpoint: Touchpoint, mode: Mode) -> set[int]:
    """Policies HR already overrode for this touchpoint in this mode (say, when it was planned)."""
    if touchpoint.id is None:
        return set()
    return set(db.session.scalars(select(PolicyOverride.policy_id).where(
        PolicyOverride.touchpoint_id == touchpoint.id, PolicyOverride.mode == mode.value)))


def enforce(touchpoint: Touchpoint, mode: Mode, *, actor, justification: str | None, action: str) -> None:
    """Refuse a mode a blocking policy forbids, unless an HR partner justifies an override.

    Warnings never stop anyone: the evaluation counts them on the compliance dashboard.
    """
    excused = _already_overridden(touchpoint, mode)
    blocking = [b for b in breaches(touchpoint, mode, action=action)
                if b.blocks and b.policy.policy_id not in excused]
    if not blocking:
        return
    # The first policy explains; any other one broken at the same time is named after it.
    reason = blocking[0].reason
    if len(blocking) > 1:
        reason += " It also breaks: " + "; ".join(b.policy.name for b in blocking[1:]) + "."
    justification = (justification or "").strip()
    if not getattr(actor, "is_hr", False):
        extra = " Only an HR partner can override it." if justification else ""
        raise HumanTouchRefusal(reason + extra, overridable=True, policy_id=blocking[0].policy.policy_id)
    if len(justification) < MIN_JUSTIFICATION:
        extra = (f" To override, write a justification of at least {MIN_JUSTIFICATION} characters."
                 if justification else "")
        raise HumanTouchRefusal(reason + extra, overridable=True, policy_id=blocking[0].policy.policy_id)
    for breach in blocking:
        override = PolicyOverride(
            touchpoint=touchpoint, policy_id=breach.policy.policy_id,
            policy_version_id=breach.policy.version_id, employee_id=touchpoint.employee_id,
            actor_id=actor.id, action=action, mode=mode.value, reason=breach.reason,
            justification=justification)
        db.session.add(override)
        db.session.flush()
        record("policy.overridden", "policy", breach.policy.policy_id, actor_id=actor.id,
               summary=f"Overrode {breach.policy.name} for {touchpoint.title} "
                       f"({'logged' if action == 'log' else 'planned'} {mode.label.lower()})",
               after={"touchpoint_id": touchpoint.id, "employee_id": touchpoint.employee_id,
                      "mode": mode.value, "action": action, "version": breach.policy.number},
               justification=justification)


def advise_modes(touchpoint: Touchpoint) -> dict[Mode, str]:
    """For each mode an active policy refuses or warns against for this touchpoint, a sentence saying so.

    Shown beside the modes before anyone logs, so a warning is seen when it can still change the
    choice, not only later on the compliance dashboard.
    """
    employee = touchpoint.employee or db.session.get(Employee, touchpoint.employee_id)
    entry_policies = active_policies(ENTRY_RULE_KINDS)
    advice: dict[Mode, str] = {}
    for mode in Mode:
        found = breaches(touchpoint, mode, employee=employee, entry_policies=entry_policies)
        refusing = " and ".join(f"“{b.policy.name}”" for b in found if b.blocks)
        warning = " and ".join(f"“{b.policy.name}”" for b in found if not b.blocks)
        sentences = ([f"Refused by {refusing}."] if refusing else []) + (
            [f"Against {warning}: allowed, but it counts on the compliance dashboard."] if warning else [])
        if sentences:
            advice[mode] = " ".join(sentences)
    return advice


def check_log(attempt: LogAttempt) -> None:
    """The log check registered with the journeys services."""
    enforce(attempt.touchpoint, attempt.actual_mode, actor=attempt.actor,
            justification=attempt.justification, action="log")


def check_plan(attempt: PlanAttempt) -> None:
    """The plan check registered with the journeys services."""
    enforce(attempt.touchpoint, attempt.touchpoint.planned_mode, actor=attempt.actor,
            justification=attempt.justification, action="plan")
