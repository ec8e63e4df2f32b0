"""Rule kinds: each parses and checks its parameters, and says what it asks in plain words."""
from __future__ import annotations

import pytest

from touchpoints.journeys.models import Mode, TouchpointKind
from touchpoints.people.models import LifecycleStatus
from touchpoints.policies.rules import (
    RULE_KINDS,
    AutomationStreak,
    ChannelGuidelines,
    FirstDaysContact,
    FollowUpPairing,
    MaximumGap,
    QuietHours,
    RequiredModes,
    RuleError,
    Scope,
    parse_policy,
)


def definition(rule: str, params: dict, **extra) -> dict:
    return {"key": "a-policy", "name": "A policy", "rule": rule, "params": params, **extra}


def errors_of(data: dict) -> dict[str, str]:
    with pytest.raises(RuleError) as caught:
        parse_policy(data)
    return caught.value.errors


def test_every_rule_kind_of_the_issue_exists():
    assert set(RULE_KINDS) == {"required_modes", "maximum_gap", "first_days_contact", "follow_up_pairing",
                               "automation_streak", "channel_guidelines", "quiet_hours",
                               "team_meets_in_person"}


def test_required_modes_reads_modes_and_describes_itself():
    spec = parse_policy(definition("required_modes", {"modes": ["in_person", "Video"]},
                                   scope={"kinds": ["termination_meeting"]}))
    assert isinstance(spec.rule, RequiredModes)
    assert spec.rule.modes == {Mode.IN_PERSON, Mode.VIDEO}
    assert spec.rule.requirement(TouchpointKind.TERMINATION_MEETING) == \
        "Termination meetings must happen in person or by video"
    assert spec.rule.allows(Mode.VIDEO) and not spec.rule.allows(Mode.CHAT)


@pytest.mark.parametrize(("params", "field", "words"), [
    ({"modes": []}, "params.modes", "name at least one mode"),
    ({"modes": ["carrier pigeon"]}, "params.modes[0]", "'carrier pigeon' is not a mode"),
    ({"modes": "in_person", "lookback_days": 0}, "params.lookback_days", "≥ 1"),
    ({"modes": {"a": 1}}, "params.modes", "must be a list of modes"),
])
def test_required_modes_names_the_bad_parameter(params, field, words):
    problems = errors_of(definition("required_modes", params, scope={"kinds": ["performance_review"]}))
    assert words in problems[field]


def test_required_modes_and_channel_guidelines_need_touchpoint_kinds():
    assert "name at least one touchpoint kind" in \
        errors_of(definition("required_modes", {"modes": ["in_person"]}))["scope.kinds"]
    assert "scope.kinds" in errors_of(definition("channel_guidelines", {"forbidden_modes": ["chat"]}))


@pytest.mark.parametrize("bad", [0, -3, "ten", 2.5, True, None])
def test_maximum_gap_days_must_be_a_whole_number_of_days(bad):
    problems = errors_of(definition("maximum_gap", {"days": bad}))
    assert problems["params.days"].startswith("must be a whole number of days ≥ 1") or \
        problems["params.days"].startswith("is required")


def test_maximum_gap_bounds_and_an_empty_scope_means_everyone():
    assert parse_policy(definition("maximum_gap", {"days": 1})).rule == MaximumGap(days=1)
    assert "at most 3,660" in errors_of(definition("maximum_gap", {"days": 3661}))["params.days"]
    spec = parse_policy(definition("maximum_gap", {"days": "14"}, scope={}))
    assert spec.rule.days == 14 and spec.scope == Scope()
    assert spec.scope.covers_kind(TouchpointKind.COFFEE_CHAT)
    assert spec.scope.covers_employee(status=LifecycleStatus.ON_LEAVE, team_name=None, location="")


def test_first_days_contact_people_to_meet():
    spec = parse_policy(definition("first_days_contact", {"days": 5, "meet": ["buddy", "manager", "buddy"]}))
    assert spec.rule == FirstDaysContact(days=5, meet=("manager", "buddy"))
    assert "'mentor' is not someone to meet" in \
        errors_of(definition("first_days_contact", {"days": 5, "meet": ["mentor"]}))["params.meet[0]"]
    none = errors_of(definition("first_days_contact", {"days": 5, "meet": []}))
    assert "name at least one" in none["params.meet"]
    too_many = errors_of(definition("first_days_contact", {"days": 61}))
    assert "at most 60 working days" in too_many["params.days"]


def test_follow_up_pairing_needs_triggers_and_other_follow_ups():
    spec = parse_policy(definition("follow_up_pairing", {"days": 7, "follow_up_kinds": ["live_discussion"]},
                                   scope={"kinds": ["training_module"]}))
    assert spec.rule == FollowUpPairing(days=7, follow_up_kinds=frozenset({TouchpointKind.LIVE_DISCUSSION}))
    assert spec.rule.counts_as_follow_up(TouchpointKind.LIVE_DISCUSSION)
    assert not spec.rule.counts_as_follow_up(TouchpointKind.COFFEE_CHAT)
    problems = errors_of(definition("follow_up_pairing", {"days": 7, "follow_up_kinds": ["training_module"]},
                                    scope={"kinds": ["training_module"]}))
    assert "another kind" in problems["params.follow_up_kinds"]


def test_automation_streak_and_quiet_hours_and_channel_guidelines():
    assert parse_policy(definition("automation_streak", {"max_in_a_row": 3})).rule == AutomationStreak(3)
    assert "params.max_in_a_row" in errors_of(definition("automation_streak", {"max_in_a_row": 0}))
    quiet = parse_policy(definition("quiet_hours", {"working_days_only": "no"})).rule
    assert quiet == QuietHours(working_days_only=False, respect_personal_quiet_hours=True)
    assert errors_of(definition("quiet_hours", {"working_days_only": "sometimes"})) == \
        {"params.working_days_only": "must be true or false."}
    channel = parse_policy(definition("channel_guidelines", {"forbidden_modes": ["chat", "email"]},
                                      scope={"kinds": ["grievance_meeting"]}))
    assert channel.rule == ChannelGuidelines(forbidden_modes=frozenset({Mode.CHAT, Mode.EMAIL}))
    assert channel.scope.hr_only
    everything = errors_of(definition("channel_guidelines", {"forbidden_modes": [m.value for m in Mode]},
                                      scope={"kinds": ["grievance_meeting"]}))
    assert "at least one mode allowed" in everything["params.forbidden_modes"]


def test_unknown_fields_severity_and_rule_are_named():
    problems = errors_of({"key": "Bad Key!", "name": "", "rule": "be_nice", "severity": "shout",
                          "colour": "red", "scope": {"kinds": ["nap"], "galaxy": []}})
    assert set(problems) == {"key", "name", "rule", "severity", "colour", "scope.kinds[0]", "scope.galaxy"}
    assert "'be_nice' is not a rule kind" in problems["rule"]
    assert problems["severity"] == "'shout' is not a severity (block, warn)."
    params = errors_of(definition("maximum_gap", {"days": 3, "weeks": 2}))
    assert params == {"params.weeks": "is not a field here (expected: days)."}


def test_scope_matches_stages_teams_and_locations_whatever_their_case():
    scope = parse_policy(definition("maximum_gap", {"days": 3}, scope={
        "stages": ["active"], "teams": ["Platform"], "locations": ["berlin"]})).scope
    assert scope.covers_employee(status=LifecycleStatus.ACTIVE, team_name="platform", location="Berlin ")
    assert not scope.covers_employee(status=LifecycleStatus.ON_LEAVE, team_name="Platform", location="Berlin")
    assert not scope.covers_employee(status=LifecycleStatus.ACTIVE, team_name=None, location="Berlin")
    assert not scope.covers_employee(status=LifecycleStatus.ACTIVE, team_name="Platform", location="Paris")
    assert scope.describe() == "all touchpoints; people active; in Platform; at berlin"


def test_a_definition_survives_its_round_trip():
    spec = parse_policy(definition("follow_up_pairing", {"days": 7}, scope={"kinds": ["training_module"]},
                                   severity="warn", description="Why."))
    again = parse_policy(spec.as_data())
    assert again == spec and again.content() == spec.content()


def test_a_team_policy_keeps_its_own_name():
    spec = parse_policy(definition("team_meets_in_person", {"every": "quarter", "work_patterns": ["hybrid"]},
                                   name="Hybrid teams meet in person every quarter",
                                   scope={"kinds": ["team_meeting"]}))
    assert spec.name == "Hybrid teams meet in person every quarter"


def test_the_default_policy_file_loads_each_policy_under_the_name_it_gives():
    from pathlib import Path

    import yaml

    from touchpoints.policies.files import read_policy_files

    path = Path(__file__).resolve().parents[2] / "policies" / "default.yaml"
    written = {item["key"]: item["name"] for item in yaml.safe_load(path.read_text())["policies"]}
    loaded = {found.spec.key: found.spec.name for found in read_policy_files([path])}
    assert loaded == written
