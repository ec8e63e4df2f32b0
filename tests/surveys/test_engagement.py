"""Human touch against engagement: each team's index beside its pulse, only for teams that may show."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import make_hr
from tests.surveys.helpers import answer, close, open_round, pulse_survey, team_of
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.models import Mode, OwnerRole, Touchpoint, TouchpointKind, TouchpointStatus
from touchpoints.surveys import engagement


def _done(person, kind: TouchpointKind, mode: Mode, days_ago: int) -> None:
    when = utcnow() - timedelta(days=days_ago)
    db.session.add(Touchpoint(employee_id=person.id, owner_id=person.id, owner_role=OwnerRole.MANAGER,
                              kind=kind, title=kind.label, planned_mode=mode, actual_mode=mode,
                              due_at=when, happened_at=when, status=TouchpointStatus.DONE))


def test_index_sits_beside_pulse_scores_for_teams_that_may_show(app, client, login):
    survey = pulse_survey()
    _, warm_people = team_of("Warm", 6)
    _, cold_people = team_of("Cold", 6)
    # Two teams too small to record: together they are "other teams", never a team of their own.
    tiny_people = team_of("Tiny", 4)[1] + team_of("Tinier", 2)[1]
    for person in warm_people:
        _done(person, TouchpointKind.ONE_ON_ONE, Mode.IN_PERSON, 5)
        _done(person, TouchpointKind.CHECK_IN, Mode.VIDEO, 20)
    for person in cold_people[:3]:
        _done(person, TouchpointKind.ONE_ON_ONE, Mode.CHAT, 60)
        _done(person, TouchpointKind.TRAINING_MODULE, Mode.SELF_SERVE, 10)
    db.session.commit()
    round_ = open_round(survey)
    answer(round_, warm_people, score=5)
    answer(round_, cold_people, score=2)
    answer(round_, tiny_people, score=1)
    round_ = close(round_)

    data = engagement.human_touch_against_engagement(round_)
    rows = {row.name: row for row in data.rows}
    assert set(rows) == {"Warm", "Cold"}  # Tiny and Tinier are too small to show: they do not appear
    assert rows["Warm"].touch.human_share == 1.0
    assert rows["Warm"].touch.recent_one_on_one_share == 1.0
    assert rows["Warm"].touch.index == pytest.approx(100)
    assert rows["Cold"].touch.human_share == 0.0
    assert rows["Cold"].touch.never_had_one_on_one == 3
    assert rows["Cold"].touch.median_days_since_one_on_one == pytest.approx(60, abs=0.1)
    assert rows["Cold"].touch.index == pytest.approx(0)
    assert rows["Warm"].pulse.connection == pytest.approx(5.0)
    assert data.rows[0].name == "Warm"  # highest index first
    assert not data.compliance_included

    login(make_hr())
    page = client.get("/surveys/engagement").get_data(as_text=True)
    assert "Warm" in page and "Cold" in page and "Tiny" not in page and "Tinier" not in page
    assert 'role="img"' in page and "Human-touch index against connection score" in page


def test_policy_compliance_joins_the_index_once_a_policy_is_active(app):
    from touchpoints.policies import services as policies

    survey = pulse_survey()
    _, members = team_of("Ops", 5)
    for person in members[1:]:
        _done(person, TouchpointKind.ONE_ON_ONE, Mode.IN_PERSON, 3)
    _done(members[0], TouchpointKind.ONE_ON_ONE, Mode.IN_PERSON, 45)  # overdue under a 30-day rule
    db.session.commit()
    round_ = open_round(survey)
    answer(round_, members)
    round_ = close(round_)
    before = engagement.human_touch_against_engagement(round_)
    assert not before.compliance_included and before.rows[0].touch.compliance is None

    version = policies.create_policy({"key": "monthly-one-on-one", "name": "A one-on-one every 30 days",
                                      "rule": "maximum_gap", "severity": "warn",
                                      "scope": {"kinds": ["one_on_one"]}, "params": {"days": 30}},
                                     actor_id=None)
    policies.activate(version, actor_id=None)
    db.session.commit()
    data = engagement.human_touch_against_engagement(round_)
    (row,) = data.rows
    assert data.compliance_included
    assert row.touch.compliance == pytest.approx(0.8)  # four of five had a one-on-one within 30 days
    assert row.touch.index == pytest.approx(100 * (1 + 0.8 + 0.8) / 3)


def test_correlation_needs_enough_teams():
    assert engagement.pearson([1, 2, 3, 4, 5, 6, 7], [2, 4, 6, 8, 10, 12, 14]) is None
    assert engagement.pearson([1, 2, 3, 4, 5, 6, 7, 8], [2, 4, 6, 8, 10, 12, 14, 16]) == pytest.approx(1.0)
    assert engagement.pearson([1] * 8, list(range(8))) is None  # no spread
