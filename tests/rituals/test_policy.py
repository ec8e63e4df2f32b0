"""The team_meets_in_person policy kind: hybrid teams that did not meet in person in the last
quarter are flagged with the team's name and the last in-person date; files name the bad field."""
from __future__ import annotations

import textwrap
from datetime import UTC, date, datetime

import pytest

from tests.factories import make_hr
from tests.rituals.helpers import plan, team_with_manager
from touchpoints.extensions import db
from touchpoints.journeys.models import Mode
from touchpoints.people.models import WorkPattern
from touchpoints.policies import services
from touchpoints.policies.engine import evaluate
from touchpoints.policies.files import PolicyFileError, parse_policy_text
from touchpoints.policies.rules import RuleError, parse_policy
from touchpoints.rituals.models import OccurrenceStatus, Presence, RitualAttendance, RitualOccurrence

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # Q4 2026: Q3 (July to September) is judged
HYBRID_QUARTERLY = {"key": "hybrid-quarterly", "name": "Hybrid teams meet in person", "severity": "warn",
                    "rule": "team_meets_in_person", "scope": {"kinds": ["team_meeting", "team_retreat"]},
                    "params": {"every": "quarter", "work_patterns": ["hybrid"]}}


def _activate(data: dict) -> None:
    version = services.create_policy(data, actor_id=None)
    services.activate(version, actor_id=None)
    db.session.commit()


def _team(name: str, pattern: WorkPattern = WorkPattern.HYBRID):
    team, manager, people = team_with_manager(name, pattern=pattern)
    team.created_at = datetime(2025, 1, 1, tzinfo=UTC)  # existed for the whole quarter judged
    db.session.commit()
    return team, manager, people


def _held(team, manager, people, day: date, mode: Mode = Mode.IN_PERSON, *, kind: str = "team_meeting",
          in_person: int | None = None) -> RitualOccurrence:
    """A one-off ritual of the team held on that day, with attendance (all in person unless told)."""
    ritual = plan(manager, team, title=f"{team.name} {day}", rrule=None, starts_on=day, kind=kind,
                  today=day, mode=mode.value)
    occurrence = db.session.query(RitualOccurrence).filter_by(ritual_id=ritual.id).one()
    occurrence.status, occurrence.actual_mode = OccurrenceStatus.HELD, mode
    everyone = [manager, *people]
    there = len(everyone) if in_person is None else in_person
    for index, person in enumerate(everyone):
        db.session.add(RitualAttendance(occurrence_id=occurrence.id, employee_id=person.id,
                                        presence=Presence.IN_PERSON if index < there else Presence.ABSENT))
    db.session.commit()
    return occurrence


def test_a_hybrid_team_without_an_in_person_meeting_last_quarter_is_flagged_and_one_with_it_is_not(app):
    met = _team("Met in August")
    missed = _team("Missed the quarter")
    only_video = _team("Only video")
    this_quarter = _team("Met in October")
    remote = _team("Fully remote", WorkPattern.REMOTE)
    _held(*met, date(2026, 8, 12))
    _held(*missed, date(2026, 5, 6))
    _held(*only_video, date(2026, 8, 12), Mode.VIDEO)
    _held(*this_quarter, date(2026, 10, 5))
    _activate(HYBRID_QUARTERLY)

    report = evaluate(now=NOW)

    flagged = {t.team_name: t for t in report.team_violations}
    assert set(flagged) == {"Missed the quarter", "Only video"}
    assert remote[0].name not in flagged  # not hybrid: not in scope
    finding = flagged["Missed the quarter"]
    assert finding.detail.startswith("Missed the quarter (hybrid) did not meet in person in Q3 2026 "
                                     "(July to September)")
    assert "6 May 2026" in finding.detail
    assert finding.last_in_person == date(2026, 5, 6)
    assert finding.since == date(2026, 10, 1)
    assert "no team meeting or team retreat in person on record" in flagged["Only video"].detail
    assert report.in_scope[report.policies[0].policy_id] == 4
    # The dashboard's figures count the teams, naming no person.
    (row,) = report.by_policy()
    assert row[1:] == (2, 0)


def test_a_team_added_during_the_quarter_is_not_judged_for_it(app):
    team, _, _ = team_with_manager("New team")
    team.created_at = datetime(2026, 8, 1, tzinfo=UTC)
    db.session.commit()
    _activate(HYBRID_QUARTERLY)
    assert evaluate(now=NOW).team_violations == []


def test_a_minimum_share_in_person_counts_only_well_attended_meetings(app):
    sparse = _team("Sparse")
    full = _team("Full")
    _held(*sparse, date(2026, 8, 12), in_person=1)  # 1 of 4 there in person
    _held(*full, date(2026, 8, 12), in_person=3)  # 3 of 4
    _activate({**HYBRID_QUARTERLY, "params": {**HYBRID_QUARTERLY["params"], "min_in_person_share": 50}})
    flagged = [t.team_name for t in evaluate(now=NOW).team_violations]
    assert flagged == ["Sparse"]


def test_every_n_days_counts_from_the_last_in_person_meeting(app):
    team = _team("Thirty days")
    _held(*team, date(2026, 10, 1))
    _activate({**HYBRID_QUARTERLY, "params": {"every": 30, "work_patterns": ["hybrid"]}})
    (finding,) = evaluate(now=NOW).team_violations
    assert "has not met in person for 50 days" in finding.detail
    assert "1 Oct 2026" in finding.detail
    assert evaluate(now=datetime(2026, 10, 30, tzinfo=UTC)).team_violations == []


def test_a_manager_sees_only_the_findings_about_their_teams(app):
    from touchpoints.people.access import report_ids_query

    mine = _team("Mine")
    _team("Not mine")
    _activate(HYBRID_QUARTERLY)
    report = evaluate(now=NOW, restrict=report_ids_query(mine[1].id))
    assert [t.team_name for t in report.team_violations] == ["Mine"]


def test_the_dry_run_says_how_many_teams_would_be_out(app):
    _team("Dry A")
    met = _team("Dry B")
    _held(*met, date(2026, 9, 1))
    result = services.dry_run(parse_policy(HYBRID_QUARTERLY), now=NOW)
    assert result.teams == 1
    assert result.in_scope == 2
    assert [t.team_name for t in result.report.team_violations] == ["Dry A"]


def test_the_compliance_dashboard_and_dry_run_page_name_the_team(app, client, login):
    _team("Dashboard team")
    _activate(HYBRID_QUARTERLY)
    login(make_hr())
    page = client.get("/compliance").get_data(as_text=True)
    assert "Teams out of compliance" in page and "Dashboard team (hybrid) did not meet in person" in page


@pytest.mark.parametrize(("params", "scope", "field", "words"), [
    ({"every": "fortnightly"}, {}, "params.every", "month, quarter, year or a whole number of days"),
    ({"work_patterns": ["hybrid", "nomad"]}, {}, "params.work_patterns[1]", "'nomad' is not a work pattern"),
    ({"min_in_person_share": 140}, {}, "params.min_in_person_share", "at most 100"),
    ({}, {"stages": ["active"]}, "scope.stages", "judges teams, not people"),
    ({}, {"kinds": ["one_on_one"]}, "scope.kinds", "only team rituals count"),
])
def test_a_bad_definition_names_the_field(params, scope, field, words):
    with pytest.raises(RuleError) as caught:
        parse_policy({**HYBRID_QUARTERLY, "params": {"every": "quarter", **params}, "scope": scope})
    assert words in caught.value.errors[field]


def test_a_policy_file_names_the_file_line_and_field():
    text = textwrap.dedent("""\
        policies:
          - key: hybrid
            name: Hybrid teams meet
            rule: team_meets_in_person
            params:
              every: fortnightly
        """)
    with pytest.raises(PolicyFileError) as caught:
        parse_policy_text(text, "policies/teams.yaml")
    assert caught.value.problems == [
        "policies/teams.yaml, line 6, field params.every: must be month, quarter, year or a whole number "
        "of days ≥ 1 (like 90)."]


def test_the_shipped_policies_include_the_hybrid_team_rule(app):
    from touchpoints.policies.files import read_policy_files
    from touchpoints.policies.services import DEFAULT_POLICY_DIR

    specs = {item.spec.key: item.spec for item in read_policy_files([DEFAULT_POLICY_DIR])}
    rule = specs["hybrid-teams-meet-in-person"].rule
    assert rule.every == "quarter" and rule.work_patterns == {WorkPattern.HYBRID}
    assert specs["hybrid-teams-meet-in-person"].rule.describe(specs["hybrid-teams-meet-in-person"].scope) == (
        "Every hybrid team holds a team meeting or team retreat in person every quarter.")




def test_a_blocking_team_policy_is_escalated_to_hr_once(app):
    from sqlalchemy import select

    from touchpoints.nudges.models import Nudge, NudgeKind
    from touchpoints.nudges.reminders import raise_policy_escalations

    hr = make_hr()
    team, *_ = _team("Escalated")
    _activate({**HYBRID_QUARTERLY, "severity": "block"})
    first = raise_policy_escalations(NOW)
    assert (first["team_violations"], first["team_queued"]) == (1, 1)
    assert raise_policy_escalations(NOW)["team_queued"] == 0
    (notice,) = db.session.scalars(select(Nudge).where(Nudge.kind == NudgeKind.NOTICE)).all()
    assert notice.recipient_id == hr.id
    assert notice.payload["headline"].startswith("Escalated is out of the policy")
    assert notice.payload["link"] == f"/rituals?team={team.id}"
    assert "did not meet in person in Q3 2026" in notice.payload["detail"]


def test_a_warning_team_policy_is_not_escalated(app):
    from touchpoints.nudges.reminders import raise_policy_escalations

    make_hr()
    _team("Only counted")
    _activate(HYBRID_QUARTERLY)
    counts = raise_policy_escalations(NOW)
    assert (counts["team_violations"], counts["team_queued"]) == (0, 0)
