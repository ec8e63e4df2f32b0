"""The surveys API: answering as the token's person, planning rounds, and thresholded results."""
from __future__ import annotations

from datetime import date

import pytest

from tests.factories import make_employee, make_hr, make_manager, make_team
from tests.surveys.helpers import answer, answers, close, open_round, people, pulse_survey, team_of
from touchpoints.api.services import issue_token, user_for_email
from touchpoints.extensions import db


@pytest.fixture
def api(client):
    """api(employee) -> (method, path, json) calls carrying a fresh token for that person."""

    def make(employee):
        raw = issue_token(user_for_email(employee.email), "Test", created_by=None).raw
        db.session.commit()
        headers = {"Authorization": f"Bearer {raw}"}

        def call(method: str, path: str, json=None):
            return client.open(path, method=method, headers=headers, json=json)

        return call

    return make


def test_a_person_answers_through_the_api_once(api):
    survey = pulse_survey()
    _, members = team_of("Ops", 5)
    round_ = open_round(survey)
    call = api(members[0])
    waiting = call("GET", "/api/v1/me/surveys").json["data"]
    assert [item["round"]["id"] for item in waiting] == [round_.id]
    detail = call("GET", f"/api/v1/rounds/{round_.id}").json["data"]
    assert detail["you"]["answered"] is False
    assert "onboarding-prepared-me" not in {q["key"] for q in detail["you"]["questions"]}

    bad = call("POST", f"/api/v1/rounds/{round_.id}/responses",
               {"answers": {**answers(round_), "connected-to-people": 9}})
    assert bad.status_code == 422
    assert "answers.connected-to-people" in bad.json["error"]["fields"]
    ok = call("POST", f"/api/v1/rounds/{round_.id}/responses", {"answers": answers(round_)})
    assert ok.status_code == 201 and ok.json["data"]["answered_on"] == date.today().isoformat()
    again = call("POST", f"/api/v1/rounds/{round_.id}/responses", {"answers": answers(round_)})
    assert again.status_code == 409 and "already answered" in again.json["error"]["detail"]
    assert call("GET", "/api/v1/me/surveys").json["data"] == []


def test_rounds_not_sent_to_you_do_not_exist_for_you(api):
    survey = pulse_survey()
    team_of("Ops", 5)
    round_ = open_round(survey)
    outsider = api(make_employee("Late Comer"))
    assert outsider("GET", f"/api/v1/rounds/{round_.id}").status_code == 404
    assert outsider("POST", f"/api/v1/rounds/{round_.id}/responses",
                    {"answers": answers(round_)}).status_code == 404


def test_employees_read_no_surveys_or_results(api):
    survey = pulse_survey()
    _, members = team_of("Ops", 6)
    round_ = open_round(survey)
    answer(round_, members)
    close(round_)
    call = api(members[0])
    assert call("GET", "/api/v1/surveys").status_code == 403
    assert call("GET", f"/api/v1/rounds/{round_.id}/results").status_code == 403


def test_hr_plans_a_round_with_field_errors_named(api):
    survey = pulse_survey()
    call = api(make_hr())
    bad = call("POST", f"/api/v1/surveys/{survey.id}/rounds",
               {"opens_on": "2001-01-01", "min_group_size": 20, "team_ids": "x"})
    assert bad.status_code == 422
    assert {"opens_on", "min_group_size", "team_ids"} <= set(bad.json["error"]["fields"])
    team = make_team("Ops")
    made = call("POST", f"/api/v1/surveys/{survey.id}/rounds",
                {"opens_on": date.today().isoformat(), "open_days": 5, "audience_kind": "teams",
                 "team_ids": [team.id], "repeat_every_days": 14})
    assert made.status_code == 201
    body = made.json["data"]
    assert body["status"] == "scheduled" and body["audience"]["team_ids"] == [team.id]
    assert body["repeat_every_days"] == 14 and body["min_group_size"] == 5
    manager = api(make_manager())
    assert manager("POST", f"/api/v1/surveys/{survey.id}/rounds",
                   {"opens_on": date.today().isoformat()}).status_code == 403


def test_results_follow_the_anonymity_rules(api):
    survey = pulse_survey()
    hr = make_hr()
    boss = make_manager("Mia Boss")
    big = make_team("Big")
    big_people = people(8, big, manager=boss)
    _, mid_people = team_of("Mid", 6)
    _, small_people = team_of("Small", 5)
    round_ = open_round(survey)
    answer(round_, big_people, comment="This text never leaves the app")
    answer(round_, mid_people)
    answer(round_, small_people[:4])
    close(round_)

    body = api(hr)("GET", f"/api/v1/rounds/{round_.id}/results?by=team").json["data"]
    assert body["slice"]["shown"] and body["slice"]["respondents"] == 18
    groups = {g["label"]: g for g in body["groups"]}
    assert groups["Big"]["shown"] and groups["Big"]["connection"] == pytest.approx(4.0)
    assert not groups["Small"]["shown"] and groups["Small"]["refusal"]["code"] == "too_few"
    # Everyone minus Big and Mid would be Small's four: Mid is hidden too.
    assert not groups["Mid"]["shown"] and groups["Mid"]["refusal"]["code"] == "difference"
    assert "questions" not in groups["Small"]
    assert "never leaves" not in str(body)

    manager = api(boss)
    own = manager("GET", f"/api/v1/rounds/{round_.id}/results?team={big.id}").json["data"]
    assert own["slice"]["shown"]
    small_team = groups["Small"]["group"]["team"]
    assert manager("GET", f"/api/v1/rounds/{round_.id}/results?team={small_team}").status_code == 403
    assert manager("GET", f"/api/v1/rounds/{round_.id}/results?by=colour").status_code == 400


def test_combining_a_round_with_a_small_one_is_refused(api):
    survey = pulse_survey()
    team, members = team_of("Design", 6)
    first = open_round(survey)
    answer(first, members)
    close(first)
    second = open_round(survey)
    answer(second, members[:3])
    close(second)
    body = api(make_hr())("GET", f"/api/v1/rounds/{first.id}/results?team={team.id}"
                                 f"&with_rounds={second.id}").json["data"]
    assert not body["slice"]["shown"] and body["slice"]["refusal"]["code"] == "round_difference"


def test_results_of_an_open_round_are_not_available(api):
    survey = pulse_survey()
    _, members = team_of("Ops", 6)
    round_ = open_round(survey)
    answer(round_, members)
    response = api(make_hr())("GET", f"/api/v1/rounds/{round_.id}/results")
    assert response.status_code == 409 and "not closed" in response.json["error"]["detail"]
