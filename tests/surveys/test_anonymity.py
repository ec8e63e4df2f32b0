"""The anonymity rules, tested in the query layer every results path goes through."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select

from tests.factories import make_employee, make_manager, make_team
from tests.surveys.helpers import answer, close, open_round, people, pulse_survey, team_of
from touchpoints.extensions import db
from touchpoints.people.models import LifecycleStatus
from touchpoints.surveys import anonymity
from touchpoints.surveys.anonymity import COMPANY_SCOPE, Lattice, Scope
from touchpoints.surveys.models import SurveyParticipation, SurveyResponse

ALL = "*"


def _team_results(round_, team):
    return anonymity.group_results([round_], COMPANY_SCOPE, filters={"team": str(team.id)})


@pytest.mark.parametrize(("respondents", "scores_shown"), [(4, False), (5, True), (9, True), (10, True)])
def test_scores_show_from_five_respondents(app, respondents, scores_shown):
    survey = pulse_survey()
    team, members = team_of("Platform", respondents)
    round_ = open_round(survey)
    answer(round_, members, score=4)
    round_ = close(round_)

    results = _team_results(round_, team)
    assert results.slice.shown is scores_shown
    if scores_shown:
        assert results.slice.connection == pytest.approx(4.0)
        assert results.slice.respondents == respondents
    else:
        assert results.refusal.code == "too_few"
        assert "Fewer than 5" in results.refusal.message
        assert results.slice.connection is None and results.slice.questions == []


@pytest.mark.parametrize(("respondents", "comments_shown"), [(4, False), (5, False), (9, False), (10, True)])
def test_comments_show_from_ten_respondents(app, respondents, comments_shown):
    survey = pulse_survey()
    team, members = team_of("Platform", respondents)
    round_ = open_round(survey)
    answer(round_, members, comment="More time together in person, please")
    round_ = close(round_)

    result = anonymity.comments([round_], COMPANY_SCOPE, filters={"team": str(team.id)})
    if comments_shown:
        assert result.refusal is None
        assert result.total == respondents
        assert {c.text for c in result.items} == {"More time together in person, please"}
        assert {c.round_label for c in result.items} == {"Round 1"}
    else:
        assert result.items == [] and result.refusal is not None


def test_threshold_set_by_hr_applies(app):
    survey = pulse_survey()
    team, members = team_of("Small", 3)
    round_ = open_round(survey, min_group_size=3)
    answer(round_, members)
    round_ = close(round_)
    assert _team_results(round_, team).slice.shown
    # Comments never go below ten, whatever the score threshold.
    assert anonymity.comments([round_], COMPANY_SCOPE, filters={"team": str(team.id)}).refusal


def test_team_minus_one_person_is_refused(app):
    """Team of 8 with one person offboarding: "the team's active people" would leave 1 by difference."""
    survey = pulse_survey()
    team, members = team_of("Sales", 7)
    leaver = make_employee("Lone Leaver", team=team, status=LifecycleStatus.OFFBOARDING)
    _, others = team_of("Support", 6)
    round_ = open_round(survey)
    answer(round_, [*members, leaver, *others])
    round_ = close(round_)

    whole_team = _team_results(round_, team)
    assert whole_team.slice.shown and whole_team.slice.respondents == 8
    active_part = anonymity.group_results([round_], COMPANY_SCOPE,
                                          filters={"team": str(team.id), "stage": "active"})
    assert active_part.refusal is not None
    assert active_part.refusal.code == "difference"
    assert "subtraction" in active_part.refusal.message
    # The same subtraction through the company as a whole is refused too.
    company_active = anonymity.group_results([round_], COMPANY_SCOPE, filters={"stage": "active"})
    assert company_active.refusal.code == "difference"
    # And a breakdown of the team by stage shows no group at all.
    by_stage = anonymity.group_results([round_], COMPANY_SCOPE, filters={"team": str(team.id)},
                                       breakdown="stage")
    assert by_stage.slice.shown and not any(g.shown for g in by_stage.groups)


def test_two_overlapping_filters_cannot_isolate_the_difference(app):
    """New joiners company-wide (7) overlap team A's new joiners (6): one person would fall out."""
    survey = pulse_survey()
    recent = date.today() - timedelta(days=40)
    team_a, a_new = team_of("Alpha", 6, start_date=recent)
    a_old = people(6, team_a, prefix="Veteran", start_date=date(2015, 1, 5))
    team_b, b_old = team_of("Beta", 6, start_date=date(2015, 1, 5))
    b_new = make_employee("Beta Newcomer", team=team_b, start_date=recent)
    round_ = open_round(survey)
    answer(round_, [*a_new, *a_old, *b_old, b_new])
    round_ = close(round_)

    newcomers = anonymity.group_results([round_], COMPANY_SCOPE, filters={"tenure": "under_6m"})
    assert newcomers.slice.shown and newcomers.slice.respondents == 7
    overlap = anonymity.group_results([round_], COMPANY_SCOPE,
                                      filters={"team": str(team_a.id), "tenure": "under_6m"})
    assert overlap.refusal is not None and overlap.refusal.code == "difference"
    # The other way round too: Beta's people by tenure cannot be shown either.
    beta_veterans = anonymity.group_results([round_], COMPANY_SCOPE,
                                            filters={"team": str(team_b.id), "tenure": "over_5y"})
    assert beta_veterans.refusal is not None


def test_round_minus_previous_round_is_refused(app):
    survey = pulse_survey()
    team, members = team_of("Design", 6)
    first = open_round(survey)
    answer(first, members)
    first = close(first)
    second = open_round(survey)
    answer(second, members[:3])
    second = close(second)

    assert _team_results(first, team).slice.shown
    assert _team_results(second, team).refusal.code == "too_few"
    combined = anonymity.group_results([first, second], COMPANY_SCOPE, filters={"team": str(team.id)})
    assert combined.refusal is not None and combined.refusal.code == "round_difference"
    assert "Round 2" in combined.refusal.message


def test_small_sibling_hides_the_next_smallest_too(app):
    """Company minus the shown teams must not leave a group of fewer than 5."""
    survey = pulse_survey()
    team_a, a = team_of("Alpha", 5)
    _, b = team_of("Beta", 6)
    _, c = team_of("Gamma", 3)  # below the threshold: recorded as "other"
    round_ = open_round(survey)
    answer(round_, [*a, *b, *c])
    round_ = close(round_)

    by_team = {g.label: g for g in anonymity.group_results([round_], COMPANY_SCOPE, breakdown="team").groups}
    assert by_team["Beta"].shown
    assert not by_team["Alpha"].shown and by_team["Alpha"].refusal.code == "difference"
    assert all("Gamma" not in label for label in by_team)  # too small to even be recorded
    assert not _team_results(round_, team_a).slice.shown


def test_manager_reads_only_their_teams(app):
    survey = pulse_survey()
    boss = make_manager("Mina Manager")
    mine = make_team("Mine")
    theirs = make_team("Theirs")
    my_people = people(6, mine, manager=boss)
    their_people = people(6, theirs)
    round_ = open_round(survey)
    answer(round_, [*my_people, *their_people])
    round_ = close(round_)
    scope = Scope(frozenset(anonymity.teams_led_by(boss.id)), False)
    assert scope.team_ids == {mine.id}

    own = anonymity.group_results([round_], scope, filters={"team": str(mine.id)})
    assert own.slice.shown
    other = anonymity.group_results([round_], scope, filters={"team": str(theirs.id)})
    assert other.refusal.code == "not_in_scope" and other.slice.questions == []
    company = anonymity.group_results([round_], scope)
    assert company.refusal.code == "not_in_scope"
    by_team = anonymity.group_results([round_], scope, breakdown="team")
    assert [g.label for g in by_team.groups] == ["Mine"]
    assert not by_team.slice.shown
    # Comments: whole team only, no filtering by stage.
    filtered = anonymity.comments([round_], scope, filters={"team": str(mine.id), "stage": "active"})
    assert filtered.refusal.code == "comments_not_filterable"


def test_results_wait_for_the_round_to_close(app):
    survey = pulse_survey()
    _, members = team_of("Ops", 6)
    round_ = open_round(survey)
    answer(round_, members)
    with pytest.raises(anonymity.ResultsUnavailable, match="not closed"):
        anonymity.group_results([round_], COMPANY_SCOPE)


def test_stored_answers_carry_no_person_and_no_time(app):
    survey = pulse_survey()
    _, members = team_of("Ops", 6)
    round_ = open_round(survey)
    answer(round_, members)
    columns = {c.key for c in sa_inspect(SurveyResponse).columns}
    assert columns == {"id", "round_id", "team_id", "stage", "tenure_band"}
    participation_columns = {c.key for c in sa_inspect(SurveyParticipation).columns}
    assert participation_columns == {"round_id", "employee_id", "responded_on"}
    assert not participation_columns & (columns - {"round_id"})
    before = set(db.session.scalars(select(SurveyResponse.id)))
    close(round_)
    after = set(db.session.scalars(select(SurveyResponse.id)))
    # Closing rewrites every response under a new random key.
    assert len(after) == 6 and not before & after


def test_lattice_secondary_suppression_is_the_same_for_every_request():
    counts = {(ALL, ALL, ALL): 14, ("1", ALL, ALL): 5, ("2", ALL, ALL): 6, ("-", ALL, ALL): 3}
    lattice = Lattice(counts, 5)
    assert lattice.verdict(("2", ALL, ALL)) is None
    assert lattice.verdict(("1", ALL, ALL)).code == "difference"
    assert lattice.verdict(("-", ALL, ALL)).code == "too_few"
    assert lattice.kept((ALL, ALL, ALL), 0) == {("2", ALL, ALL)}
