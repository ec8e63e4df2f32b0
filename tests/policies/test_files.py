"""Policy files: errors name file, line and field; a bad file changes nothing; export loads back."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from sqlalchemy import func, select

from touchpoints.audit.models import AuditEntry
from touchpoints.extensions import db
from touchpoints.journeys.models import Mode
from touchpoints.policies import services
from touchpoints.policies.files import PolicyFileError, parse_policy_text, read_policy_files
from touchpoints.policies.models import Policy, PolicyVersion, VersionStatus
from touchpoints.policies.services import DEFAULT_POLICY_DIR

GOOD = textwrap.dedent("""\
    # A comment HR wrote.
    policies:
      - key: monthly
        name: Monthly one-on-one
        rule: maximum_gap
        scope:
          kinds: [one_on_one]
        params:
          days: 30
      - key: reviews
        name: Reviews in person
        rule: required_modes
        scope:
          kinds: [performance_review]
        params:
          modes: [in_person]
    """)


def write(tmp_path: Path, text: str, name: str = "pack.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(text: str) -> list[str]:
    with pytest.raises(PolicyFileError) as caught:
        parse_policy_text(textwrap.dedent(text), "policies/x.yaml")
    return caught.value.problems


def test_the_shipped_pack_is_valid_and_has_every_default_of_the_issue(app):
    items = read_policy_files([DEFAULT_POLICY_DIR])
    by_key = {item.spec.key: item.spec for item in items}
    assert by_key["reviews-in-person"].rule.modes == {Mode.IN_PERSON}
    assert by_key["terminations-in-person-or-video"].rule.to_params()["modes"] == ["in_person", "video"]
    assert by_key["sensitive-never-in-chat-or-email"].rule.to_params()["forbidden_modes"] == ["chat", "email"]
    assert by_key["one-on-one-every-30-days"].rule.days == 30
    assert by_key["new-hires-meet-manager-and-buddy"].rule.to_params()["meet"] == ["manager", "buddy"]
    assert by_key["new-hires-meet-manager-and-buddy"].rule.days == 5
    assert by_key["training-followed-by-live-discussion"].rule.days == 7
    assert by_key["no-nudges-outside-working-hours"].rule_kind == "quiet_hours"
    assert by_key["grievances-in-person"].scope.hr_only
    assert "Why YAML" in (DEFAULT_POLICY_DIR / "default.yaml").read_text()


def test_a_bad_value_names_the_file_line_and_field():
    problems = problems_of("""\
        policies:
          - key: monthly
            name: Monthly one-on-one
            rule: maximum_gap
            params:
              days: thirty
        """)
    assert problems == ["policies/x.yaml, line 6, field params.days: must be a whole number of days ≥ 1."]


def test_every_problem_is_listed_with_its_own_line():
    problems = problems_of("""\
        policies:
          - key: ok-one
            name: Fine
            rule: maximum_gap
            params: {days: 3}
          - key: Not OK
            name: Broken
            rule: required_modes
            severity: sometimes
            scope:
              kinds: [performance_review, tea_break]
            params:
              modes: [in_person]
              colour: blue
          - name: No key
            rule: quiet_hours
        """)
    assert "policies/x.yaml, line 6, field key: use lower-case letters" in problems[0]
    assert "policies/x.yaml, line 9, field severity: 'sometimes' is not a severity (block, warn)." in problems
    assert any(p.startswith("policies/x.yaml, line 11, field scope.kinds[1]: 'tea_break' is not a "
                            "touchpoint kind") for p in problems)
    assert ("policies/x.yaml, line 14, field params.colour: is not a field here (expected: modes, "
            "lookback_days).") in problems
    assert any(p.startswith("policies/x.yaml, line 15, field key: is required") for p in problems)


@pytest.mark.parametrize(("text", "expected"), [
    ("policies: [\n", "policies/x.yaml, line 2: not valid YAML"),
    ("", "policies/x.yaml, line 1: the file is empty"),
    ("- key: a\n", "policies/x.yaml, line 1: a policy file holds one field, 'policies:'"),
    ("policies:\n  key: a\n", "policies/x.yaml, line 1, field policies: must be a list"),
    ("policies: []\nrules: []\n", "policies/x.yaml, line 2, field rules: is not a field here"),
    ("policies:\n  - key: a\n    key: b\n    name: A\n    rule: quiet_hours\n",
     "policies/x.yaml, line 3, field key: is written twice"),
    ("policies:\n  - key: a\n    name: A\n    rule: quiet_hours\n"
     "  - key: a\n    name: B\n    rule: quiet_hours\n",
     "policies/x.yaml, line 5, field key: 'a' is already used by the policy on line 2"),
])
def test_malformed_files_are_explained(text, expected):
    assert any(p.startswith(expected) for p in problems_of(text)), problems_of(text)


def test_loading_is_all_or_nothing(app, tmp_path):
    good = write(tmp_path, GOOD, "a.yaml")
    bad = write(tmp_path, "policies:\n  - key: gap\n    name: Gap\n    rule: maximum_gap\n"
                          "    params: {days: 0}\n", "b.yaml")
    with pytest.raises(PolicyFileError) as caught:
        services.load_policy_files([good, bad])
    assert caught.value.problems == [f"{bad}, line 5, field params.days: must be a whole number of days ≥ 1."]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Policy)) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_unknown_teams_and_keys_defined_twice_across_files_are_refused(app, tmp_path):
    first = write(tmp_path, GOOD, "a.yaml")
    second = write(tmp_path, "policies:\n  - key: monthly\n    name: Again\n    rule: maximum_gap\n"
                             "    scope: {teams: [Nowhere]}\n    params: {days: 9}\n", "b.yaml")
    with pytest.raises(PolicyFileError) as caught:
        services.load_policy_files([first, second])
    assert caught.value.problems == [f"{second}, line 2, field key: 'monthly' is already defined in {first}, "
                                     "line 3."]
    lonely = write(tmp_path, "policies:\n  - key: team-gap\n    name: Gap\n    rule: maximum_gap\n"
                             "    scope:\n      teams: [Nowhere]\n    params: {days: 9}\n", "c.yaml")
    with pytest.raises(PolicyFileError) as caught:
        services.load_policy_files([lonely])
    assert caught.value.problems == [
        f"{lonely}, line 6, field scope.teams[0]: there is no team called 'Nowhere'."]


def test_load_creates_versions_only_for_changes_and_export_loads_back(app, tmp_path):
    path = write(tmp_path, GOOD)
    first = services.load_policy_files([path])
    db.session.commit()
    assert sorted(first.created) == ["monthly", "reviews"]
    again = services.load_policy_files([path])
    assert again.summary() == "0 new, 0 changed, 2 unchanged"
    changed = write(tmp_path, GOOD.replace("days: 30", "days: 14"))
    result = services.load_policy_files([changed])
    db.session.commit()
    assert result.changed == ["monthly"]
    monthly = services.policy_by_key("monthly")
    assert [(v.number, v.status) for v in monthly.versions] == [(1, VersionStatus.SUPERSEDED),
                                                                 (2, VersionStatus.ACTIVE)]
    assert monthly.versions[1].params == {"days": 14}
    exported = write(tmp_path, services.export_policies(), "exported.yaml")
    assert "params: {days: 14}" in exported.read_text()
    assert services.load_policy_files([exported]).summary() == "0 new, 0 changed, 2 unchanged"


def test_the_cli_loads_dry_runs_refuses_and_exports(app, runner, tmp_path):
    path = write(tmp_path, GOOD)
    dry = runner.invoke(args=["policies", "load", "--dry-run", str(path)])
    assert dry.exit_code == 0, dry.output
    assert "monthly (new): would put 0 employee(s) out of compliance" in dry.output
    assert "Dry run, nothing written. Loading would give: 2 new, 0 changed, 0 unchanged." in dry.output
    assert db.session.scalar(select(func.count()).select_from(Policy)) == 0

    bad = write(tmp_path, GOOD.replace("days: 30", "days: -1"), "bad.yaml")
    refused = runner.invoke(args=["policies", "load", str(bad)])
    assert refused.exit_code == 1
    assert f"{bad}, line 9, field params.days: must be a whole number of days ≥ 1." in refused.output
    assert "1 problem; nothing was loaded." in refused.output

    loaded = runner.invoke(args=["policies", "load", str(path)])
    assert loaded.exit_code == 0 and "Policies loaded: 2 new, 0 changed, 0 unchanged." in loaded.output
    assert runner.invoke(args=["policies", "load", "--if-empty", str(DEFAULT_POLICY_DIR)]).output.startswith(
        "Policies already exist")
    assert db.session.scalar(select(func.count()).select_from(PolicyVersion)) == 2
    out = tmp_path / "out.yaml"
    exported = runner.invoke(args=["policies", "export", "-o", str(out)])
    assert exported.exit_code == 0 and "key: monthly" in out.read_text()
    missing = runner.invoke(args=["policies", "load", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 1 and "no such file" in missing.output
