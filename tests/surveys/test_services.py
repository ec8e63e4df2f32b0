"""Authoring, rounds, answering once (also under concurrency), reminders and the feedback loop."""
from __future__ import annotations

import threading
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from tests.factories import make_employee, make_hr, make_team
from tests.surveys.helpers import answer, answers, close, open_round, people, pulse_survey, team_of
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.models import Mode, Touchpoint, TouchpointKind, TouchpointStatus
from touchpoints.people.models import LifecycleStatus
from touchpoints.surveys import services
from touchpoints.surveys.models import (
    ConnectionAlert,
    RoundStatus,
    Survey,
    SurveyAnswer,
    SurveyInvitation,
    SurveyParticipation,
    SurveyResponse,
    SurveyRound,
)
from touchpoints.surveys.pack import PackError, load_pack


def test_default_pack_loads_once_with_the_connection_questions(app):
    survey = pulse_survey()
    prompts = [q.prompt for q in survey.current_version.questions]
    assert "I feel connected to the people I work with" in prompts
    assert "If something was wrong, I could talk to a person about it, not only fill in a form" in prompts
    onboarding = next(q for q in survey.current_version.questions if q.key == "onboarding-prepared-me")
    assert onboarding.audience.value == "new_hires"
    assert {q.kind.value for q in survey.current_version.questions} == {
        "agreement", "enps", "single_choice", "short_text"}
    assert load_pack() == []
    assert db.session.scalar(select(func.count()).select_from(Survey)) == 1


def test_a_broken_pack_names_the_file_and_question(app, tmp_path: Path):
    pack = tmp_path / "pack.yaml"
    pack.write_text("surveys:\n  - key: x\n    title: X\n    questions:\n"
                    "      - kind: agreement\n        prompt: Fine\n"
                    "      - kind: rating\n        prompt: Bad\n")
    with pytest.raises(PackError, match=r"pack.yaml: survey 1 \(x\), question 2: .*question type"):
        load_pack(pack)


def test_editing_a_survey_in_use_makes_a_new_version(app):
    survey = pulse_survey()
    team_of("Ops", 5)
    first = open_round(survey)
    assert first.version.number == 1 and first.version.is_locked

    services.update_question(survey, "enps", {"kind": "enps", "prompt": "Would you recommend us?"},
                             actor_id=None)
    services.move_question(survey, "enps", "up", actor_id=None)
    db.session.commit()
    assert survey.current_version.number == 2
    # The open round keeps the questions people are answering.
    assert [q.prompt for q in first.version.questions if q.key == "enps"] == [
        "How likely are you to recommend working here to a friend?"]
    keys = [q.key for q in survey.current_version.questions]
    assert keys.index("enps") == keys.index("important-news-channel") - 1
    # Further edits go to the same unlocked version 2.
    services.remove_question(survey, "important-news-channel", actor_id=None)
    db.session.commit()
    assert survey.current_version.number == 2 and len(survey.versions) == 2


def test_question_validation_names_the_field(app):
    survey = pulse_survey()
    with pytest.raises(services.SurveyValidationError) as error:
        services.add_question(survey, {"kind": "single_choice", "prompt": "", "choices": "Only one"},
                              actor_id=None)
    assert set(error.value.errors) == {"prompt", "choices"}
    with pytest.raises(services.SurveyValidationError) as error:
        services.add_question(survey, {"kind": "enps", "prompt": "X", "counts_toward_connection": True},
                              actor_id=None)
    assert "counts_toward_connection" in error.value.errors


def test_round_plan_is_checked(app):
    survey = pulse_survey()
    today = date.today()
    with pytest.raises(services.SurveyValidationError) as error:
        services.schedule_round(survey, {"opens_on": today - timedelta(days=3), "open_days": 10,
                                         "repeat_every_days": 7, "min_group_size": 2},
                                tz="UTC", actor_id=None, today=today)
    assert set(error.value.errors) == {"opens_on", "repeat_every_days", "min_group_size"}
    with pytest.raises(services.SurveyValidationError) as error:
        services.schedule_round(survey, {"opens_on": today, "audience_kind": "teams"}, tz="UTC",
                                actor_id=None, today=today)
    assert "team_ids" in error.value.errors


def test_round_times_follow_the_authors_time_zone(app):
    survey = pulse_survey()
    round_ = services.schedule_round(survey, {"opens_on": date(2031, 3, 3), "open_days": 5},
                                     tz="America/New_York", actor_id=None, today=date(2031, 3, 1))
    assert round_.opens_at.isoformat() == "2031-03-03T05:00:00+00:00"
    assert round_.closes_at.isoformat() == "2031-03-08T05:00:00+00:00"
    assert round_.remind_at.isoformat() == "2031-03-06T05:00:00+00:00"


def test_opening_invites_people_at_work_only_once(app):
    survey = pulse_survey()
    team, members = team_of("Ops", 5)
    on_leave = make_employee("On Leave", team=team, status=LifecycleStatus.ON_LEAVE)
    not_started = make_employee("Not Started", team=team, status=LifecycleStatus.PRE_BOARDING)
    gone = make_employee("Gone Away", team=team)
    gone.deactivated_at = utcnow()
    db.session.commit()
    round_ = services.schedule_round(survey, {"opens_on": date.today()}, tz="UTC", actor_id=None)
    db.session.commit()
    assert services.open_due_rounds() == 1
    assert services.open_due_rounds() == 0  # the claim makes a second run a no-op
    invited = set(services.invitation_recipients(round_.id))
    assert invited == {m.id for m in members}
    assert not invited & {on_leave.id, not_started.id, gone.id}


def test_groups_smaller_than_the_threshold_are_not_recorded(app):
    survey = pulse_survey()
    big, big_people = team_of("Big", 6)
    _, small_people = team_of("Small", 2)
    round_ = open_round(survey)
    teams = dict(db.session.execute(select(SurveyInvitation.employee_id, SurveyInvitation.team_id)
                                    .where(SurveyInvitation.round_id == round_.id)).all())
    assert {teams[p.id] for p in big_people} == {big.id}
    assert {teams[p.id] for p in small_people} == {None}
    answer(round_, small_people)
    assert set(db.session.scalars(select(SurveyResponse.team_id))) == {None}


def test_repeating_round_schedules_the_next_and_skips_missed_windows(app):
    survey = pulse_survey()
    team_of("Ops", 5)
    today = date.today()
    round_ = services.schedule_round(survey, {"opens_on": today, "open_days": 3, "repeat_every_days": 14},
                                     tz="UTC", actor_id=None)
    db.session.commit()
    # The scheduler was down for five weeks: the round's window passed unopened.
    later = round_.closes_at + timedelta(days=35)
    assert services.open_due_rounds(now=later) == 0
    db.session.expire_all()
    assert db.session.get(SurveyRound, round_.id).status is RoundStatus.CANCELLED
    following = db.session.scalar(select(SurveyRound).where(SurveyRound.sequence == 2))
    assert following.status is RoundStatus.SCHEDULED and following.closes_at > later
    assert (following.opens_at - round_.opens_at).days % 14 == 0


def test_milestone_audience_picks_people_reaching_day_thirty(app):
    survey = pulse_survey()
    team = make_team("Ops")
    today = date.today()
    due = make_employee("Day Thirty", team=team, start_date=today - timedelta(days=31),
                        status=LifecycleStatus.ONBOARDING)
    early = make_employee("Day Ten", team=team, start_date=today - timedelta(days=10))
    late = make_employee("Day Ninety", team=team, start_date=today - timedelta(days=90))
    round_ = open_round(survey, audience_kind="milestone", milestone_days=30, milestone_window_days=14)
    assert services.invitation_recipients(round_.id) == [due.id]
    assert early.id and late.id


def test_answering_stores_no_trace_of_the_person(app):
    survey = pulse_survey()
    _, members = team_of("Ops", 5)
    round_ = open_round(survey)
    receipt = services.submit_response(round_.id, members[0].id, answers(round_, comment="Hello"))
    assert receipt.answers == 7 and receipt.responded_on == utcnow().date()
    response = db.session.scalar(select(SurveyResponse))
    assert len(response.id) == 32
    assert db.session.scalar(select(func.count()).select_from(SurveyAnswer)) == 7
    participation = db.session.scalar(select(SurveyParticipation))
    assert participation.employee_id == members[0].id
    assert services.open_invitations(members[0].id) == []
    assert len(services.open_invitations(members[1].id)) == 1


def test_answers_are_checked_question_by_question(app):
    survey = pulse_survey()
    _, members = team_of("Ops", 5)
    round_ = open_round(survey)
    bad = answers(round_)
    bad["connected-to-people"] = 6
    bad["enps"] = "ten"
    del bad["manager-checks-in"]
    bad["important-news-channel"] = "carrier pigeon"
    bad["one-thing"] = "x" * 1001
    bad["made-up"] = 3
    with pytest.raises(services.AnswerValidationError) as error:
        services.submit_response(round_.id, members[0].id, bad)
    assert set(error.value.errors) == {"connected-to-people", "enps", "manager-checks-in",
                                       "important-news-channel", "one-thing", "made-up"}
    assert "1 to 5" in error.value.errors["connected-to-people"]
    assert db.session.scalar(select(func.count()).select_from(SurveyParticipation)) == 0


def test_new_hires_get_the_onboarding_question_and_others_do_not(app):
    survey = pulse_survey()
    team = make_team("Ops")
    newcomer = make_employee("New Comer", team=team, start_date=date.today() - timedelta(days=20))
    veteran = make_employee("Old Hand", team=team, start_date=date(2012, 4, 2))
    round_ = open_round(survey)
    veteran_answers = answers(round_)
    veteran_answers["onboarding-prepared-me"] = 5
    with pytest.raises(services.AnswerValidationError) as error:
        services.submit_response(round_.id, veteran.id, veteran_answers)
    assert set(error.value.errors) == {"onboarding-prepared-me"}
    with pytest.raises(services.AnswerValidationError):
        services.submit_response(round_.id, newcomer.id, answers(round_))
    services.submit_response(round_.id, newcomer.id, answers(round_, new_hire=True))


def test_only_invited_people_answer_an_open_round(app):
    survey = pulse_survey()
    _, members = team_of("Ops", 5)
    outsider = make_employee("Outsider", status=LifecycleStatus.ON_LEAVE)
    round_ = open_round(survey)
    with pytest.raises(services.NotInvited):
        services.submit_response(round_.id, outsider.id, answers(round_))
    close(round_)
    with pytest.raises(services.RoundNotOpen):
        services.submit_response(round_.id, members[0].id, answers(round_))


def test_a_second_answer_is_refused(app):
    survey = pulse_survey()
    _, members = team_of("Ops", 5)
    round_ = open_round(survey)
    services.submit_response(round_.id, members[0].id, answers(round_, score=5))
    with pytest.raises(services.AlreadyAnswered):
        services.submit_response(round_.id, members[0].id, answers(round_, score=1))
    assert db.session.scalar(select(func.count()).select_from(SurveyResponse)) == 1
    assert set(db.session.scalars(select(SurveyAnswer.score).where(SurveyAnswer.score.is_not(None)))) \
        <= {5, 8}


def test_two_simultaneous_answers_count_once(app):
    survey = pulse_survey()
    _, members = team_of("Ops", 5)
    round_ = open_round(survey)
    round_id, person_id = round_.id, members[0].id
    payload = answers(round_)
    db.session.commit()

    # Hold the first transaction open right after it records participation, so the second
    # submission runs while the first has not committed yet.
    first = threading.Event()

    def linger(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO SURVEY_PARTICIPATION") and not first.is_set():
            first.set()
            time.sleep(0.4)

    event.listen(db.engine, "after_cursor_execute", linger)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def submit() -> None:
        with app.app_context():
            barrier.wait()
            try:
                services.submit_response(round_id, person_id, payload)
                outcomes.append("saved")
            except services.AlreadyAnswered:
                outcomes.append("already answered")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        event.remove(db.engine, "after_cursor_execute", linger)
    assert sorted(outcomes) == ["already answered", "saved"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(SurveyParticipation)) == 1
    assert db.session.scalar(select(func.count()).select_from(SurveyResponse)) == 1


def test_reminders_go_once_and_only_to_people_who_have_not_answered(app):
    survey = pulse_survey()
    _, members = team_of("Ops", 6)
    round_ = open_round(survey)
    answer(round_, members[:2])
    assert set(services.reminder_recipients(round_.id)) == {m.id for m in members[2:]}
    assert services.send_due_reminders(now=round_.remind_at - timedelta(minutes=1)) == 0
    assert services.send_due_reminders(now=round_.remind_at) == 4
    assert services.send_due_reminders(now=round_.remind_at + timedelta(hours=1)) == 0
    reminded = set(db.session.scalars(select(SurveyInvitation.employee_id)
                                      .where(SurveyInvitation.reminded_at.is_not(None))))
    assert reminded == {m.id for m in members[2:]}
    assert services.open_invitations(members[3].id)[0].reminded


def test_no_reminder_after_the_round_has_ended(app):
    survey = pulse_survey()
    team_of("Ops", 5)
    round_ = open_round(survey)
    assert services.send_due_reminders(now=round_.closes_at + timedelta(hours=1)) == 0


def test_falling_connection_plans_a_live_team_conversation(app):
    survey = pulse_survey()
    hr = make_hr("Hana Partner", timezone="Europe/Berlin")
    team = make_team("Support", hr_partner=hr)
    members = people(6, team)
    first = open_round(survey)
    answer(first, members, score=4)
    close(first)
    assert db.session.scalar(select(func.count()).select_from(ConnectionAlert)) == 0

    second = open_round(survey)
    answer(second, members, score=3)
    close(second)
    alert = db.session.scalar(select(ConnectionAlert))
    assert alert.team_id == team.id and alert.reason == "below_and_drop"
    assert alert.score == pytest.approx(3.0) and alert.previous_score == pytest.approx(4.0)
    touchpoint = db.session.get(Touchpoint, alert.touchpoint_id)
    assert touchpoint.title == "Hold a live team conversation with Support"
    assert touchpoint.owner_id == hr.id and touchpoint.kind is TouchpointKind.TEAM_MEETING
    assert touchpoint.planned_mode is Mode.IN_PERSON and touchpoint.due_at > utcnow()


def test_no_alert_for_a_team_too_small_to_show(app):
    survey = pulse_survey()
    hr = make_hr()
    team = make_team("Tiny", hr_partner=hr)
    members = people(4, team)
    _, others = team_of("Big", 8)
    round_ = open_round(survey)
    answer(round_, members, score=1)
    answer(round_, others, score=4)
    close(round_)
    assert db.session.scalar(select(func.count()).select_from(ConnectionAlert)) == 0
    assert db.session.scalar(select(func.count()).select_from(Touchpoint)) == 0


def test_a_team_still_below_the_floor_keeps_its_one_planned_conversation(app):
    survey = pulse_survey()
    hr = make_hr()
    team = make_team("Support", hr_partner=hr)
    members = people(6, team)
    for _ in range(2):
        round_ = open_round(survey)
        answer(round_, members, score=2)
        close(round_)
    alerts = db.session.scalars(select(ConnectionAlert).order_by(ConnectionAlert.id)).all()
    assert len(alerts) == 2 and alerts[0].touchpoint_id == alerts[1].touchpoint_id
    assert db.session.scalar(select(func.count()).select_from(Touchpoint)) == 1
    # Once the conversation is held, a further fall plans a new one.
    held = db.session.get(Touchpoint, alerts[0].touchpoint_id)
    held.status = TouchpointStatus.DONE
    db.session.commit()
    round_ = open_round(survey)
    answer(round_, members, score=2)
    close(round_)
    assert db.session.scalar(select(func.count()).select_from(Touchpoint)) == 2


def test_the_threshold_is_locked_once_a_round_opens(app):
    survey = pulse_survey()
    team_of("Ops", 5)
    round_ = open_round(survey, min_group_size=5)
    with pytest.raises(services.SurveyValidationError, match="only rounds that have not opened"):
        services.update_round(round_, {"opens_on": date.today(), "min_group_size": 3}, tz="UTC",
                              actor_id=None)
    db.session.rollback()
    assert db.session.get(SurveyRound, round_.id).min_group_size == 5
