"""The rule kinds of human-touch policies: one small class each, with validated parameters.

A policy is a rule kind, its parameters, a scope (touchpoint kinds, lifecycle stages, teams,
locations) and a severity. Everything here is pure: no database, no Flask. Parsing never raises
half-way: it collects every problem as {field path: reason} ("params.days": "must be a whole
number of days ≥ 1"), so a file, a form and the API can each name the field at fault.
"""
from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from touchpoints.journeys.models import HUMAN_MODES, Mode, TouchpointKind
from touchpoints.people.models import LifecycleStatus, WorkPattern
from touchpoints.rituals.models import RITUAL_KINDS

from .models import Severity

MAX_DAYS = 3660
MAX_NAME = 120
MAX_DESCRIPTION = 2000
DEFAULT_LOOKBACK_DAYS = 90

# How a mode reads in a sentence: "must happen in person or by video".
MODE_PHRASES = {
    Mode.IN_PERSON: "in person", Mode.VIDEO: "by video", Mode.PHONE: "by phone",
    Mode.CHAT: "over chat", Mode.EMAIL: "by email", Mode.SELF_SERVE: "as self-serve",
}
IRREGULAR_PLURALS = {
    TouchpointKind.COACHING: "Coaching sessions", TouchpointKind.MENTORING: "Mentoring sessions",
    TouchpointKind.OTHER: "Other touchpoints", TouchpointKind.RETURN_TO_WORK: "Return-to-work conversations",
}


class RuleError(ValueError):
    """A policy that cannot be used; `errors` maps each field path (e.g. params.days) to its reason."""

    def __init__(self, errors: Mapping[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


def kind_plural(kind: TouchpointKind) -> str:
    """'Performance reviews', 'One-on-ones': a kind as the subject of a sentence."""
    return IRREGULAR_PLURALS.get(kind, kind.label + "s")


def join_words(words: Iterable[str], conjunction: str = "or") -> str:
    """'a', 'a or b', 'a, b or c'."""
    items = list(words)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {conjunction} " + items[-1]


def modes_phrase(modes: Iterable[Mode], conjunction: str = "or") -> str:
    """'in person or by video'."""
    return join_words((MODE_PHRASES[m] for m in sorted(modes, key=list(Mode).index)), conjunction)


# ---------------------------------------------------------------- parameter readers


def _name(value: Any) -> str:
    return str(value).strip().lower().replace("-", "_").replace(" ", "_")


def _whole_number(data: Mapping[str, Any], name: str, errors: dict[str, str], *, unit: str,
                  minimum: int = 1, maximum: int = MAX_DAYS, default: int | None = None) -> int:
    """A whole number parameter within bounds; the message names the unit ('of days ≥ 1')."""
    raw = data.get(name)
    words = f"must be a whole number{' of ' + unit if unit else ''} ≥ {minimum}"
    if raw is None:
        if default is None:
            errors[f"params.{name}"] = f"is required; it {words}."
            return minimum
        return default
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        errors[f"params.{name}"] = words + "."
        return default or minimum
    try:
        value = int(str(raw).strip())
    except ValueError:
        errors[f"params.{name}"] = words + "."
        return default or minimum
    if value < minimum:
        errors[f"params.{name}"] = words + "."
    elif value > maximum:
        errors[f"params.{name}"] = f"must be at most {maximum:,}{' ' + unit if unit else ''}."
    return value


def _boolean(data: Mapping[str, Any], name: str, errors: dict[str, str], *, default: bool) -> bool:
    raw = data.get(name)
    if raw is None:
        return default
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("true", "yes", "on", "1", "false", "no", "off", "0"):
        return raw.strip().lower() in ("true", "yes", "on", "1")
    errors[f"params.{name}"] = "must be true or false."
    return default


def _list(raw: Any) -> list[Any] | None:
    """A list from YAML/JSON (a single value counts as a list of one); None when it is not a list."""
    if raw is None:
        return []
    if isinstance(raw, str):
        return [raw] if raw.strip() else []
    if isinstance(raw, list | tuple | set | frozenset):
        return list(raw)
    return None


def _members(raw: Any, enum_cls, path: str, errors: dict[str, str], what: str,
             *, required: bool = False) -> frozenset:
    """A set of enum members from a list of names; names the first unknown one and the choices."""
    items = _list(raw)
    allowed = ", ".join(m.value for m in enum_cls)
    if items is None:
        errors[path] = f"must be a list of {what}s ({allowed})."
        return frozenset()
    found = set()
    for index, item in enumerate(items):
        try:
            found.add(item if isinstance(item, enum_cls) else enum_cls(_name(item)))
        except ValueError:
            errors[f"{path}[{index}]"] = f"'{item}' is not a {what} ({allowed})."
    if required and not items and path not in errors:
        errors[path] = f"name at least one {what} ({allowed})."
    return frozenset(found)


def _texts(raw: Any, path: str, errors: dict[str, str], what: str, limit: int = 120) -> tuple[str, ...]:
    items = _list(raw)
    if items is None:
        errors[path] = f"must be a list of {what} names."
        return ()
    out: list[str] = []
    for index, item in enumerate(items):
        if not isinstance(item, str | int | float) or isinstance(item, bool) or not str(item).strip():
            errors[f"{path}[{index}]"] = f"must be a {what} name."
        elif len(str(item).strip()) > limit:
            errors[f"{path}[{index}]"] = f"keep a {what} name under {limit} characters."
        elif str(item).strip().lower() not in (o.lower() for o in out):
            out.append(str(item).strip())
    return tuple(out)


def _unknown(data: Mapping[str, Any], known: Iterable[str], prefix: str, errors: dict[str, str]) -> None:
    known = tuple(known)
    for name in data:
        if name not in known:
            expected = ", ".join(known) if known else "nothing"
            errors[f"{prefix}{name}"] = f"is not a field here (expected: {expected})."


# ---------------------------------------------------------------- scope


@dataclass(frozen=True)
class Scope:
    """Who and what a policy covers. An empty list means 'all'."""

    kinds: frozenset[TouchpointKind] = frozenset()
    stages: frozenset[LifecycleStatus] = frozenset()
    teams: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()

    FIELDS: ClassVar[tuple[str, ...]] = ("kinds", "stages", "teams", "locations")

    @classmethod
    def parse(cls, data: Any, errors: dict[str, str]) -> Scope:
        """A scope from a mapping of lists, adding problems to errors under 'scope.<field>'."""
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            errors["scope"] = "must be a set of fields: kinds, stages, teams, locations."
            return cls()
        _unknown(data, cls.FIELDS, "scope.", errors)
        return cls(
            kinds=_members(data.get("kinds"), TouchpointKind, "scope.kinds", errors, "touchpoint kind"),
            stages=_members(data.get("stages"), LifecycleStatus, "scope.stages", errors, "lifecycle stage"),
            teams=_texts(data.get("teams"), "scope.teams", errors, "team"),
            locations=_texts(data.get("locations"), "scope.locations", errors, "location"),
        )

    def to_data(self) -> dict[str, list[str]]:
        """Plain lists, in a stable order, for JSON columns and files."""
        return {
            "kinds": [k.value for k in TouchpointKind if k in self.kinds],
            "stages": [s.value for s in LifecycleStatus if s in self.stages],
            "teams": list(self.teams),
            "locations": list(self.locations),
        }

    def covers_kind(self, kind: TouchpointKind) -> bool:
        return not self.kinds or kind in self.kinds

    def covers_employee(self, *, status: LifecycleStatus, team_name: str | None, location: str) -> bool:
        """Whether a person with this stage, team and location is in scope."""
        return self.employee_test()(status, team_name, location)

    def employee_test(self) -> Callable[[LifecycleStatus, str | None, str], bool]:
        """covers_employee as a function with its sets built once (evaluation asks for every person)."""
        stages = self.stages
        teams = {t.lower() for t in self.teams}
        locations = {loc.lower() for loc in self.locations}

        def test(status: LifecycleStatus, team_name: str | None, location: str) -> bool:
            if stages and status not in stages:
                return False
            if teams and (team_name or "").lower() not in teams:
                return False
            return not (locations and (location or "").strip().lower() not in locations)

        return test

    @property
    def hr_only(self) -> bool:
        """A scope made only of HR-only kinds (grievances): its findings stay with HR."""
        return bool(self.kinds) and all(k.hr_only for k in self.kinds)

    def describe(self) -> str:
        """The scope in words: 'performance reviews; Engineering, Sales; in Berlin'."""
        parts = []
        parts.append(join_words([kind_plural(k).lower() for k in TouchpointKind if k in self.kinds], "and")
                     if self.kinds else "all touchpoints")
        parts.append("people " + join_words([s.label.lower() for s in LifecycleStatus if s in self.stages])
                     if self.stages else "everyone")
        if self.teams:
            parts.append("in " + join_words(self.teams))
        if self.locations:
            parts.append("at " + join_words(self.locations))
        return "; ".join(parts)


# ---------------------------------------------------------------- the rule kinds


@dataclass(frozen=True)
class Rule(ABC):
    """Base of every rule kind: parameters parsed and checked, described in plain words."""

    kind: ClassVar[str] = ""
    label: ClassVar[str] = ""
    explanation: ClassVar[str] = ""
    # The parameters this kind reads, in form order; the forms and files use the same names.
    PARAMS: ClassVar[tuple[str, ...]] = ()
    # Whether this kind judges each touchpoint as it is logged or planned (refusing when it blocks).
    checks_entries: ClassVar[bool] = False
    # Whether the rule judges teams rather than people (its findings name a team, not a person).
    judges_teams: ClassVar[bool] = False
    # Whether the scope must name touchpoint kinds, and what they mean for this rule.
    kinds_required: ClassVar[bool] = False
    kinds_meaning: ClassVar[str] = "Touchpoints counted (empty: every kind)."

    @classmethod
    @abstractmethod
    def parse_params(cls, data: Mapping[str, Any], errors: dict[str, str]) -> Rule:
        """The rule from its parameters, adding each problem to errors under 'params.<name>'."""

    @abstractmethod
    def to_params(self) -> dict[str, Any]:
        """The parameters as plain JSON values."""

    @abstractmethod
    def describe(self, scope: Scope) -> str:
        """What the rule asks, in one sentence."""


@dataclass(frozen=True)
class RequiredModes(Rule):
    """Touchpoints of these kinds must happen in one of these modes."""

    kind: ClassVar[str] = "required_modes"
    label: ClassVar[str] = "Required modes"
    explanation: ClassVar[str] = "Some moments must happen in a certain way (reviews in person)."
    PARAMS: ClassVar[tuple[str, ...]] = ("modes", "lookback_days")
    checks_entries: ClassVar[bool] = True
    kinds_required: ClassVar[bool] = True
    kinds_meaning: ClassVar[str] = "The touchpoints that must happen in these modes."

    modes: frozenset[Mode] = frozenset({Mode.IN_PERSON})
    lookback_days: int = DEFAULT_LOOKBACK_DAYS

    @classmethod
    def parse_params(cls, data, errors):
        return cls(modes=_members(data.get("modes"), Mode, "params.modes", errors, "mode", required=True),
                   lookback_days=_whole_number(data, "lookback_days", errors, unit="days",
                                               default=DEFAULT_LOOKBACK_DAYS))

    def to_params(self):
        return {"modes": [m.value for m in Mode if m in self.modes], "lookback_days": self.lookback_days}

    def allows(self, mode: Mode) -> bool:
        return mode in self.modes

    def predicate(self) -> str:
        """'must happen in person'."""
        return f"must happen {modes_phrase(self.modes)}"

    def requirement(self, kind: TouchpointKind) -> str:
        """'Performance reviews must happen in person'."""
        return f"{kind_plural(kind)} {self.predicate()}"

    def describe(self, scope):
        kinds = join_words([kind_plural(k) for k in TouchpointKind if k in scope.kinds], "and")
        return f"{kinds or 'Touchpoints'} must happen {modes_phrase(self.modes)}."


@dataclass(frozen=True)
class ChannelGuidelines(Rule):
    """Sensitive moments are never handled, or announced, in these channels."""

    kind: ClassVar[str] = "channel_guidelines"
    label: ClassVar[str] = "Channel guidelines"
    explanation: ClassVar[str] = ("Sensitive moments are never handled or announced over chat or "
                                  "email; reminders about them carry no content.")
    PARAMS: ClassVar[tuple[str, ...]] = ("forbidden_modes", "lookback_days")
    checks_entries: ClassVar[bool] = True
    kinds_required: ClassVar[bool] = True
    kinds_meaning: ClassVar[str] = "The sensitive touchpoints these channels must never carry."

    forbidden_modes: frozenset[Mode] = frozenset({Mode.CHAT, Mode.EMAIL})
    lookback_days: int = DEFAULT_LOOKBACK_DAYS

    @classmethod
    def parse_params(cls, data, errors):
        forbidden = _members(data.get("forbidden_modes"), Mode, "params.forbidden_modes", errors, "mode",
                             required=True)
        if forbidden and forbidden >= set(Mode):
            errors["params.forbidden_modes"] = "must leave at least one mode allowed."
        return cls(forbidden_modes=forbidden,
                   lookback_days=_whole_number(data, "lookback_days", errors, unit="days",
                                               default=DEFAULT_LOOKBACK_DAYS))

    def to_params(self):
        return {"forbidden_modes": [m.value for m in Mode if m in self.forbidden_modes],
                "lookback_days": self.lookback_days}

    def allows(self, mode: Mode) -> bool:
        return mode not in self.forbidden_modes

    def predicate(self) -> str:
        """'must never happen over chat or by email'."""
        return f"must never happen {modes_phrase(self.forbidden_modes)}"

    def requirement(self, kind: TouchpointKind) -> str:
        """'Grievance meetings must never happen over chat or by email'."""
        return f"{kind_plural(kind)} {self.predicate()}"

    def describe(self, scope):
        kinds = join_words([kind_plural(k) for k in TouchpointKind if k in scope.kinds], "and")
        return (f"{kinds or 'Sensitive touchpoints'} are never handled {modes_phrase(self.forbidden_modes)}, "
                "and reminders about them carry no content.")


@dataclass(frozen=True)
class MaximumGap(Rule):
    """Everyone in scope has a human touchpoint at least every N days."""

    kind: ClassVar[str] = "maximum_gap"
    label: ClassVar[str] = "Maximum gap between human touchpoints"
    explanation: ClassVar[str] = "Nobody goes longer than N days without a real conversation."
    PARAMS: ClassVar[tuple[str, ...]] = ("days",)
    kinds_meaning: ClassVar[str] = "The touchpoints that count as contact (empty: any kind)."

    days: int = 30

    @classmethod
    def parse_params(cls, data, errors):
        return cls(days=_whole_number(data, "days", errors, unit="days"))

    def to_params(self):
        return {"days": self.days}

    def describe(self, scope):
        what = join_words([k.label.lower() for k in TouchpointKind if k in scope.kinds])
        return (f"Everyone in scope has a {what or 'human touchpoint'} in person or live at least every "
                f"{self.days} days.")


@dataclass(frozen=True)
class FirstDaysContact(Rule):
    """A new hire meets their manager and a buddy within N working days of starting."""

    kind: ClassVar[str] = "first_days_contact"
    label: ClassVar[str] = "First-days contact"
    explanation: ClassVar[str] = "New hires meet their manager and a buddy in their first working days."
    PARAMS: ClassVar[tuple[str, ...]] = ("days", "meet", "lookback_days")
    kinds_meaning: ClassVar[str] = "The touchpoints that count as meeting (empty: any kind)."
    PEOPLE: ClassVar[tuple[str, ...]] = ("manager", "buddy")

    days: int = 5
    meet: tuple[str, ...] = ("manager", "buddy")
    lookback_days: int = DEFAULT_LOOKBACK_DAYS

    @classmethod
    def parse_params(cls, data, errors):
        items = _list(data.get("meet", list(cls.PEOPLE)))
        meet: list[str] = []
        if items is None:
            errors["params.meet"] = "must be a list: manager, buddy."
        else:
            for index, item in enumerate(items):
                if _name(item) not in cls.PEOPLE:
                    errors[f"params.meet[{index}]"] = f"'{item}' is not someone to meet (manager, buddy)."
                elif _name(item) not in meet:
                    meet.append(_name(item))
            if not items:
                errors["params.meet"] = "name at least one of manager, buddy."
        return cls(days=_whole_number(data, "days", errors, unit="working days", maximum=60),
                   meet=tuple(p for p in cls.PEOPLE if p in meet),
                   lookback_days=_whole_number(data, "lookback_days", errors, unit="days",
                                               default=DEFAULT_LOOKBACK_DAYS))

    def to_params(self):
        return {"days": self.days, "meet": list(self.meet), "lookback_days": self.lookback_days}

    def describe(self, scope):
        who = join_words([f"their {p}" if p == "manager" else f"a {p}" for p in self.meet], "and")
        return f"New hires meet {who} in person or live within {self.days} working days of starting."


@dataclass(frozen=True)
class FollowUpPairing(Rule):
    """A digital or automated touchpoint of a kind is followed by a human one within N days."""

    kind: ClassVar[str] = "follow_up_pairing"
    label: ClassVar[str] = "Follow-up pairing"
    explanation: ClassVar[str] = "A digital moment (a training module) is followed by a live conversation."
    PARAMS: ClassVar[tuple[str, ...]] = ("days", "follow_up_kinds", "lookback_days")
    kinds_required: ClassVar[bool] = True
    kinds_meaning: ClassVar[str] = "The digital or automated touchpoints that need a live follow-up."

    days: int = 7
    follow_up_kinds: frozenset[TouchpointKind] = frozenset()
    lookback_days: int = DEFAULT_LOOKBACK_DAYS

    @classmethod
    def parse_params(cls, data, errors):
        return cls(days=_whole_number(data, "days", errors, unit="days"),
                   follow_up_kinds=_members(data.get("follow_up_kinds"), TouchpointKind,
                                            "params.follow_up_kinds", errors, "touchpoint kind"),
                   lookback_days=_whole_number(data, "lookback_days", errors, unit="days",
                                               default=DEFAULT_LOOKBACK_DAYS))

    def to_params(self):
        return {"days": self.days,
                "follow_up_kinds": [k.value for k in TouchpointKind if k in self.follow_up_kinds],
                "lookback_days": self.lookback_days}

    def counts_as_follow_up(self, kind: TouchpointKind) -> bool:
        return not self.follow_up_kinds or kind in self.follow_up_kinds

    def describe(self, scope):
        triggers = join_words([k.label.lower() for k in TouchpointKind if k in scope.kinds])
        follow = join_words([k.label.lower() for k in TouchpointKind if k in self.follow_up_kinds])
        return (f"A {triggers or 'digital touchpoint'} done digitally is followed by a "
                f"{follow or 'human touchpoint'} in person or live within {self.days} days.")


@dataclass(frozen=True)
class AutomationStreak(Rule):
    """No more than N automated or digital touchpoints in a row without a human one."""

    kind: ClassVar[str] = "automation_streak"
    label: ClassVar[str] = "Automation streak"
    explanation: ClassVar[str] = "Technology supplements, never substitutes: cap automated moments in a row."
    PARAMS: ClassVar[tuple[str, ...]] = ("max_in_a_row",)

    max_in_a_row: int = 3

    @classmethod
    def parse_params(cls, data, errors):
        return cls(max_in_a_row=_whole_number(data, "max_in_a_row", errors, unit="touchpoints", maximum=100))

    def to_params(self):
        return {"max_in_a_row": self.max_in_a_row}

    def describe(self, scope):
        return (f"No more than {self.max_in_a_row} automated or digital touchpoints in a row without one "
                "in person or live.")


@dataclass(frozen=True)
class QuietHours(Rule):
    """No nudges outside the recipient's working hours, in their own time zone."""

    kind: ClassVar[str] = "quiet_hours"
    label: ClassVar[str] = "Quiet hours"
    explanation: ClassVar[str] = ("Nudges wait for the recipient's working hours, in their own time zone; "
                                  "used by the nudges when they deliver.")
    PARAMS: ClassVar[tuple[str, ...]] = ("working_days_only", "respect_personal_quiet_hours")
    kinds_meaning: ClassVar[str] = "Nudges about these touchpoints (empty: every nudge)."

    working_days_only: bool = True
    respect_personal_quiet_hours: bool = True

    @classmethod
    def parse_params(cls, data, errors):
        return cls(working_days_only=_boolean(data, "working_days_only", errors, default=True),
                   respect_personal_quiet_hours=_boolean(data, "respect_personal_quiet_hours", errors,
                                                         default=True))

    def to_params(self):
        return {"working_days_only": self.working_days_only,
                "respect_personal_quiet_hours": self.respect_personal_quiet_hours}

    def describe(self, scope):
        days = " on their working days" if self.working_days_only else ""
        quiet = ", never in their own quiet hours" if self.respect_personal_quiet_hours else ""
        return f"Nudges reach people only within their working hours{days}, in their time zone{quiet}."


PERIODS = {"month": "month", "quarter": "quarter", "year": "year"}


@dataclass(frozen=True)
class TeamMeetsInPerson(Rule):
    """Every team of these work patterns meets in person at least once a period (or every N days)."""

    kind: ClassVar[str] = "team_meets_in_person"
    label: ClassVar[str] = "Teams meet in person"
    explanation: ClassVar[str] = ("Hybrid teams get together in person regularly: a team ritual held in "
                                  "person at least once a quarter (or every N days).")
    PARAMS: ClassVar[tuple[str, ...]] = ("every", "work_patterns", "min_in_person_share")
    judges_teams: ClassVar[bool] = True
    kinds_meaning: ClassVar[str] = ("The team rituals that count (team meeting, town hall, team retreat; "
                                    "empty: any of the team's own rituals).")

    every: str = "quarter"  # month, quarter, year, or a whole number of days as text
    work_patterns: frozenset[WorkPattern] = frozenset({WorkPattern.HYBRID})
    min_in_person_share: int | None = None  # percent of those marked who were there in person

    @classmethod
    def parse_params(cls, data, errors):
        raw = data.get("every", "quarter")
        every = "quarter"
        words = "must be month, quarter, year or a whole number of days ≥ 1 (like 90)."
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            errors["params.every"] = words
        elif str(raw).strip().lower() in PERIODS:
            every = str(raw).strip().lower()
        elif str(raw).strip().isdigit() and 1 <= int(str(raw).strip()) <= MAX_DAYS:
            every = str(int(str(raw).strip()))
        else:
            errors["params.every"] = words
        patterns = _members(data.get("work_patterns", [WorkPattern.HYBRID.value]), WorkPattern,
                            "params.work_patterns", errors, "work pattern", required=True)
        share = None
        if data.get("min_in_person_share") not in (None, ""):
            share = _whole_number(data, "min_in_person_share", errors, unit="percent", maximum=100)
        return cls(every=every, work_patterns=patterns, min_in_person_share=share)

    def to_params(self):
        params: dict[str, Any] = {"every": int(self.every) if self.every.isdigit() else self.every,
                                  "work_patterns": [p.value for p in WorkPattern if p in self.work_patterns]}
        if self.min_in_person_share is not None:
            params["min_in_person_share"] = self.min_in_person_share
        return params

    @property
    def days(self) -> int | None:
        """The most days between in-person meetings, or None for a calendar period."""
        return int(self.every) if self.every.isdigit() else None

    def period_words(self) -> str:
        """'every quarter', 'every 60 days'."""
        return f"every {self.every} days" if self.days else f"every {self.every}"

    def describe(self, scope):
        patterns = join_words([p.label.lower() for p in WorkPattern if p in self.work_patterns])
        what = join_words([k.label.lower() for k in TouchpointKind if k in scope.kinds]) or "team ritual"
        share = (f", with at least {self.min_in_person_share}% of those there in person"
                 if self.min_in_person_share else "")
        teams = f" ({join_words(scope.teams)})" if scope.teams else ""
        return f"Every {patterns} team{teams} holds a {what} in person {self.period_words()}{share}."


RULE_KINDS: dict[str, type[Rule]] = {cls.kind: cls for cls in (
    RequiredModes, MaximumGap, FirstDaysContact, FollowUpPairing, AutomationStreak, ChannelGuidelines,
    QuietHours, TeamMeetsInPerson,
)}
ENTRY_RULE_KINDS = tuple(k for k, cls in RULE_KINDS.items() if cls.checks_entries)
POLICY_FIELDS = ("key", "name", "rule", "severity", "description", "scope", "params")


def rule_class(kind: str) -> type[Rule] | None:
    """The class of a rule kind by its name, or None."""
    return RULE_KINDS.get(_name(kind)) if kind else None


@dataclass(frozen=True)
class PolicySpec:
    """A checked policy definition: what a file, a form or the API asks for, before it is saved."""

    key: str
    name: str
    rule: Rule
    scope: Scope
    severity: Severity
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def rule_kind(self) -> str:
        return self.rule.kind

    def as_data(self) -> dict[str, Any]:
        """The definition as plain values, in file order."""
        return {"key": self.key, "name": self.name, "rule": self.rule.kind, "severity": self.severity.value,
                "description": self.description, "scope": self.scope.to_data(),
                "params": self.rule.to_params()}

    def content(self) -> dict[str, Any]:
        """What makes two versions the same policy (everything but the key)."""
        data = self.as_data()
        data.pop("key")
        return data


def parse_key(raw: Any, errors: dict[str, str]) -> str:
    """A policy key: lower-case letters, digits, - and _."""
    key = str(raw or "").strip().lower()
    if not key:
        errors["key"] = "is required: a short name for files and links, like reviews-in-person."
    elif not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", key):
        errors["key"] = "use lower-case letters, digits, - and _ (at most 64), like reviews-in-person."
    return key


def parse_policy(data: Any, *, key_required: bool = True) -> PolicySpec:
    """A checked PolicySpec from plain data; RuleError names every field at fault."""
    errors: dict[str, str] = {}
    if not isinstance(data, Mapping):
        raise RuleError({"policy": "must be a set of fields: " + ", ".join(POLICY_FIELDS) + "."})
    _unknown(data, POLICY_FIELDS, "", errors)
    key = parse_key(data.get("key"), errors) if key_required or data.get("key") else ""
    name = str(data.get("name") or "").strip()
    if not name:
        errors["name"] = "is required: the name people read in refusals, like Reviews in person."
    elif len(name) > MAX_NAME:
        errors["name"] = f"keep it under {MAX_NAME} characters."
    description = str(data.get("description") or "").strip()
    if len(description) > MAX_DESCRIPTION:
        errors["description"] = f"keep it under {MAX_DESCRIPTION:,} characters."
    severity_raw = data.get("severity", "block")
    try:
        severity = Severity(_name(severity_raw))
    except ValueError:
        errors["severity"] = f"'{severity_raw}' is not a severity (block, warn)."
        severity = Severity.BLOCK
    scope = Scope.parse(data.get("scope"), errors)
    kind = data.get("rule")
    cls = rule_class(str(kind)) if kind else None
    rule: Rule | None = None
    if cls is None:
        errors["rule"] = (f"'{kind}' is not a rule kind" if kind else "is required") + \
            f" ({', '.join(RULE_KINDS)})."
    else:
        params = data.get("params") or {}
        if not isinstance(params, Mapping):
            errors["params"] = f"must be a set of fields: {', '.join(cls.PARAMS)}."
            params = {}
        _unknown(params, cls.PARAMS, "params.", errors)
        rule = cls.parse_params(params, errors)
        if cls.kinds_required and not scope.kinds and "scope.kinds" not in errors and \
                not any(k.startswith("scope.kinds") for k in errors):
            errors["scope.kinds"] = f"name at least one touchpoint kind: {cls.kinds_meaning.lower()}"
        if cls is FollowUpPairing and scope.kinds and rule.follow_up_kinds & scope.kinds:
            errors["params.follow_up_kinds"] = "a follow-up must be another kind than what it follows."
        if cls.judges_teams:
            for narrowing in ("stages", "locations"):  # not `name`: that is the policy's name
                if getattr(scope, narrowing):
                    errors[f"scope.{narrowing}"] = (f"does not apply: {cls.kind} judges teams, not people "
                                                    "(narrow it with scope.teams).")
            others = [k.value for k in scope.kinds if k not in RITUAL_KINDS]
            if others:
                errors["scope.kinds"] = (f"{', '.join(sorted(others))}: only team rituals count here "
                                         f"({', '.join(k.value for k in RITUAL_KINDS)}).")
    if errors:
        raise RuleError(errors)
    return PolicySpec(key=key, name=name, rule=rule, scope=scope, severity=severity, description=description)


def rule_from_version(rule_kind: str, params: Mapping[str, Any]) -> Rule:
    """The rule of a stored version (already checked when saved)."""
    cls = RULE_KINDS[rule_kind]
    errors: dict[str, str] = {}
    rule = cls.parse_params(params or {}, errors)
    if errors:
        raise RuleError(errors)
    return rule


def scope_from_data(data: Mapping[str, Any] | None) -> Scope:
    """The scope of a stored version (already checked when saved)."""
    errors: dict[str, str] = {}
    scope = Scope.parse(data or {}, errors)
    if errors:
        raise RuleError(errors)
    return scope


def is_human(mode: Mode | None) -> bool:
    return mode in HUMAN_MODES
