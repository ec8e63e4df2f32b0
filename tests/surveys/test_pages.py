"""Survey pages: answering, authoring, rounds, results, the CSV export and who may see what."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from sqlalchemy import func, select

from tests.factories import make_employee, make_hr, make_manager, make_team
from tests.querycount import count_queries
from tests.surveys.helpers import answer, close, open_round, people, pulse_survey, team_of
from touchpoints.extensions import db
from touchpoints.surveys.models import Survey, SurveyParticipation, SurveyRound


def _form_answers(round_, *, score: int = 4, comment: str = "") -> dict[str, str]:
    data = {}
    for q in round_.version.questions:
        name = f"q_{q.id}"
        if q.audience.value == "new_hires":
            continue
        if q.kind.value == "agreement":
            data[name] = str(score)
        elif q.kind.value == "enps":
            data[name] = "9"
        elif q.kind.value == "single_choice":
            data[name] = q.choices[1]["key"]
        else:
            data[name] = comment
    return data


def test_an_employee_answers_once_from_the_home_banner(client, login):
    survey = pulse_survey()
    _, members = team_of("Ops", 5)
    me = members[0]
    round_ = open_round(survey)
    login(me)
    answer_link = f"/surveys/rounds/{round_.id}/answer"
    assert answer_link in client.get("/").get_data(as_text=True)
    assert answer_link in client.get("/surveys/").get_data(as_text=True)

    page = client.get(f"/surveys/rounds/{round_.id}/answer").get_data(as_text=True)
    assert "I feel connected to the people I work with" in page
    assert "I feel my onboarding prepared me" not in page  # not a new hire
    response = client.post(f"/surveys/rounds/{round_.id}/answer", data=_form_answers(round_, comment="Hi"))
    assert response.status_code == 302 and response.headers["Location"].endswith("/thanks")
    assert db.session.scalar(select(func.count()).select_from(SurveyParticipation)) == 1
    assert answer_link not in client.get("/").get_data(as_text=True)
    assert answer_link not in client.get("/surveys/").get_data(as_text=True)
    again = client.get(f"/surveys/rounds/{round_.id}/answer").get_data(as_text=True)
    assert "You answered this round on" in again
    client.post(f"/surveys/rounds/{round_.id}/answer", data=_form_answers(round_, score=1))
    assert db.session.scalar(select(func.count()).select_from(SurveyParticipation)) == 1


def test_a_missing_answer_is_named_and_the_rest_kept(client, login):
    survey = pulse_survey()
    _, members = team_of("Ops", 5)
    round_ = open_round(survey)
    login(members[0])
    data = _form_answers(round_, comment="Keep this text")
    first = next(q for q in round_.version.questions if q.key == "connected-to-people")
    del data[f"q_{first.id}"]
    response = client.post(f"/surveys/rounds/{round_.id}/answer", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Please answer this question." in page
    assert f'href="#q_{first.id}"' in page  # the error summary links to the question
    assert "Keep this text" in page
    assert db.session.scalar(select(func.count()).select_from(SurveyParticipation)) == 0


def test_people_not_invited_cannot_open_the_round(client, login):
    survey = pulse_survey()
    team_of("Ops", 5)
    round_ = open_round(survey)
    latecomer = make_employee("Late Comer")
    login(latecomer)
    assert client.get(f"/surveys/rounds/{round_.id}/answer").status_code == 404


def test_employees_never_reach_results(client, login):
    survey = pulse_survey()
    _, members = team_of("Ops", 6)
    round_ = open_round(survey)
    answer(round_, members)
    close(round_)
    login(members[0])
    for path in (f"/surveys/{survey.id}/results", f"/surveys/{survey.id}/results.csv", "/surveys/results",
                 "/surveys/manage", f"/surveys/rounds/{round_.id}", "/surveys/engagement"):
        assert client.get(path).status_code == 403, path


def test_hr_authors_a_survey_and_versions_it(client, login):
    hr = make_hr()
    login(hr)
    response = client.post("/surveys/new", data={"title": "Tools check", "description": "",
                                                 "alert_below": "3.5", "alert_drop": "0.5"})
    survey = db.session.scalar(select(Survey).where(Survey.title == "Tools check"))
    assert response.headers["Location"].endswith(f"/surveys/{survey.id}")
    for prompt in ("First question", "Second question"):
        client.post(f"/surveys/{survey.id}/questions/new",
                    data={"kind": "agreement", "prompt": prompt, "audience": "everyone"})
    bad = client.post(f"/surveys/{survey.id}/questions/new",
                      data={"kind": "single_choice", "prompt": "Pick", "choices": "Only one",
                            "audience": "everyone"})
    assert bad.status_code == 422 and "at least two options" in bad.get_data(as_text=True)
    client.post(f"/surveys/{survey.id}/questions/second-question/move", data={"direction": "up"})
    db.session.expire_all()
    assert [q.prompt for q in survey.current_version.questions] == ["Second question", "First question"]
    preview = client.get(f"/surveys/{survey.id}/preview").get_data(as_text=True)
    assert "nothing you choose here is saved" in preview
    assert preview.index("Second question") < preview.index("First question")

    team_of("Ops", 5)
    plan = client.post(f"/surveys/{survey.id}/rounds/new", data={
        "opens_on": (date.today() - timedelta(days=2)).isoformat(), "open_days": "7",
        "audience_kind": "everyone", "min_group_size": "2"})
    page = plan.get_data(as_text=True)
    assert plan.status_code == 422
    assert "cannot open in the past" in page and "Minimum respondents" in page
    plan = client.post(f"/surveys/{survey.id}/rounds/new", data={
        "opens_on": date.today().isoformat(), "open_days": "7", "audience_kind": "everyone",
        "min_group_size": "5", "send_reminder": "y"})
    round_ = db.session.scalar(select(SurveyRound))
    assert plan.headers["Location"].endswith(f"/surveys/rounds/{round_.id}")
    client.post(f"/surveys/rounds/{round_.id}/open")
    db.session.expire_all()
    assert round_.invited_count == 6  # the five and the HR partner
    edited = client.post(f"/surveys/{survey.id}/questions/first-question/edit",
                         data={"kind": "agreement", "prompt": "First question, reworded",
                               "audience": "everyone"})
    assert edited.status_code == 302
    db.session.expire_all()
    assert survey.current_version.number == 2
    assert "First question" in [q.prompt for q in round_.version.questions]
    detail = client.get(f"/surveys/{survey.id}").get_data(as_text=True)
    assert "Version 1" in detail and "used by Round 1" in detail


def test_a_round_open_and_closed_by_hr_shows_participation_then_results(client, login):
    survey = pulse_survey()
    hr = make_hr()
    _, members = team_of("Ops", 6)
    round_ = open_round(survey)
    answer(round_, members[:5], comment="Coffee with the team helps")
    login(hr)
    page = client.get(f"/surveys/rounds/{round_.id}").get_data(as_text=True)
    assert "5 of 7" in page  # the HR partner is invited too
    assert "Scores appear when the round closes" in page
    assert client.get(f"/surveys/{survey.id}/results").get_data(as_text=True).count("No results yet") == 1
    client.post(f"/surveys/rounds/{round_.id}/close")
    results = client.get(f"/surveys/{survey.id}/results").get_data(as_text=True)
    assert "Everyone asked · Round 1" in results and "4.0" in results
    assert 'role="img"' in results and "<title" in results and "<desc" in results
    # Fewer than ten answered: no comments, and the reason is given.
    assert "Coffee with the team helps" not in results
    assert "Comments show only where at least 10 people answered" in results


def test_csv_export_holds_aggregates_only_and_neutralises_formulas(client, login):
    survey = pulse_survey()
    hr = make_hr()
    evil = make_team("=HYPERLINK(\"http://evil.example\")")
    members = people(10, evil)
    round_ = open_round(survey)
    answer(round_, members, comment="A secret comment that must never be exported")
    close(round_)
    login(hr)
    response = client.get(f"/surveys/{survey.id}/results.csv?by=team")
    assert response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:6] == ["Group", "Invited", "Respondents", "Participation %", "Connection (1-5)", "eNPS"]
    labels = [row[0] for row in rows[1:]]
    assert "'=HYPERLINK(\"http://evil.example\")" in labels
    assert not any(cell.startswith("=") for row in rows for cell in row)
    assert "secret comment" not in text


def test_the_results_filters_offer_every_option_and_keep_the_chosen_ones(client, login):
    survey = pulse_survey()
    hr = make_hr()
    ops = make_team("Ops")
    members = people(10, ops)
    round_ = open_round(survey)
    answer(round_, members)
    close(round_)
    login(hr)
    chosen = client.get(f"/surveys/{survey.id}/results", query_string={
        "round": round_.id, "team": ops.id, "stage": "active", "by": "none"})
    page = chosen.get_data(as_text=True)
    assert f'<option value="{round_.id}" selected>Round 1 · closed ' in page
    assert '<option value="">All teams</option>' in page
    assert f'<option value="{ops.id}" selected>Ops</option>' in page
    assert '<option value="pre_boarding">Pre-boarding</option>' in page
    assert '<option value="active" selected>Active</option>' in page
    assert '<option value="none" selected>No breakdown</option>' in page
    assert '<option value="" selected>Any tenure</option>' in page


def test_manager_sees_their_team_only_and_cannot_filter_comments(client, login):
    survey = pulse_survey()
    boss = make_manager("Maya Manager")
    mine = make_team("Mine")
    theirs = make_team("Theirs")
    my_people = people(10, mine, manager=boss)
    their_people = people(10, theirs)
    round_ = open_round(survey)
    answer(round_, my_people, comment="Our stand-up feels human")
    answer(round_, their_people, comment="Other team words")
    close(round_)
    login(boss)
    page = client.get(f"/surveys/{survey.id}/results").get_data(as_text=True)
    assert "Mine · Round 1" in page and "Our stand-up feels human" in page
    assert "Theirs" not in page and "Other team words" not in page
    other = client.get(f"/surveys/{survey.id}/results?team={theirs.id}&by=none").get_data(as_text=True)
    assert "You can see results for the teams you lead" in other and "Other team words" not in other
    filtered = client.get(f"/surveys/{survey.id}/results?team={mine.id}&stage=active&by=none")
    assert "Comments show for a whole team only" in filtered.get_data(as_text=True)
    exported = client.get(f"/surveys/{survey.id}/results.csv?by=team").get_data(as_text=True)
    assert "Mine" in exported and "Theirs" not in exported and "stand-up" not in exported


def _add_rounds(survey: Survey, everyone: list, rounds: int) -> None:
    for _ in range(rounds):
        round_ = open_round(survey)
        answer(round_, everyone, comment="A comment")
        close(round_)


def test_results_page_runs_a_fixed_number_of_queries(client, login):
    survey = pulse_survey()
    hr = make_hr()
    everyone = [p for t in range(2) for p in team_of(f"Team {t}", 5)[1]]
    _add_rounds(survey, everyone, 2)
    login(hr)

    def count() -> int:
        client.get(f"/surveys/{survey.id}/results")  # warm caches
        with count_queries() as queries:
            response = client.get(f"/surveys/{survey.id}/results?by=team")
        assert response.status_code == 200
        assert queries.count <= 16, queries.report()
        return queries.count

    small = count()
    everyone += [p for t in range(2, 6) for p in team_of(f"Team {t}", 6)[1]]
    _add_rounds(survey, everyone, 3)
    assert count() == small


def test_the_compliance_dashboard_shows_the_feedback_loop(client, login):
    survey = pulse_survey()
    hr = make_hr("Hana Partner")
    team = make_team("Support", hr_partner=hr)
    members = people(6, team)
    round_ = open_round(survey)
    answer(round_, members, score=2)
    close(round_)
    login(hr)
    page = client.get("/compliance").get_data(as_text=True)
    assert "Pulse surveys: teams whose connection fell" in page
    assert "Support" in page and "Below the floor" in page and "Hana Partner" in page
