"""Evaluation of every rule kind over the company: boundaries, time zones, empty scopes, query counts."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from tests.factories import make_employee
from tests.policies.conftest import MONTHLY_ONE_ON_ONE, NOW, REVIEWS_IN_PERSON, policy, touch
from tests.querycount import count_queries
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.calendar import WorkCalendar
from touchpoints.journeys.models import (
    Mode,
    OwnerRole,
    SupportAssignment,
    SupportKind,
    TouchpointKind,
    TouchpointStatus,
)
from touchpoints.people.models import LifecycleStatus
from touchpoints.policies.engine import evaluate, first_days_deadline
from touchpoints.policies.models import PolicyOverride

K = TouchpointKind


def found(report, employee=None) -> list[str]:
    return [v.detail for v in report.violations if employee is None or v.employee_id == employee.id]


# ---------------------------------------------------------------- required modes


def test_required_modes_finds_what_was_done_or_is_planned_the_wrong_way(org):
    policy(REVIEWS_IN_PERSON)
    by_chat = touch(org.employee, K.PERFORMANCE_REVIEW, mode=Mode.CHAT, at=NOW - timedelta(days=3))
    touch(org.colleague, K.PERFORMANCE_REVIEW, mode=Mode.IN_PERSON)
    touch(org.colleague, K.ONE_ON_ONE, mode=Mode.CHAT)  # not a review
    touch(org.colleague, K.PERFORMANCE_REVIEW, mode=Mode.VIDEO, at=NOW - timedelta(days=91))  # too long ago
    planned = touch(org.outsider, K.PERFORMANCE_REVIEW, status=TouchpointStatus.SCHEDULED, mode=None,
                    planned=Mode.VIDEO, at=NOW + timedelta(days=4), created=NOW - timedelta(days=2))
    db.session.commit()
    report = evaluate(now=NOW)
    assert [(v.employee_id, v.touchpoint_id) for v in report.violations] == \
        [(org.employee.id, by_chat.id), (org.outsider.id, planned.id)]
    assert found(report, org.employee) == [
        "Performance review logged over chat on 15 Mar 2026; it must happen in person."]
    assert found(report, org.outsider) == [
        "Performance review planned by video for 22 Mar 2026; it must happen in person."]
    assert report.violations[1].since == date(2026, 3, 16)


def test_an_override_excuses_the_touchpoint_from_that_policy_only(org):
    version = policy(REVIEWS_IN_PERSON)
    review = touch(org.employee, K.PERFORMANCE_REVIEW, mode=Mode.VIDEO)
    db.session.add(PolicyOverride(touchpoint_id=review.id, policy_id=version.policy_id,
                                  policy_version_id=version.id, employee_id=org.employee.id,
                                  actor_id=org.user(org.hr).id, mode="video", reason="r", justification="j"))
    policy({**REVIEWS_IN_PERSON, "key": "reviews-again", "name": "Again"})
    db.session.commit()
    assert [v.policy_key for v in evaluate(now=NOW).violations] == ["reviews-again"]


def test_scope_by_team_location_stage_and_leavers(org):
    policy({**REVIEWS_IN_PERSON, "scope": {"kinds": ["performance_review"], "teams": ["Platform"],
                                           "locations": ["Berlin"]}})
    for person in (org.employee, org.colleague, org.outsider):
        touch(person, K.PERFORMANCE_REVIEW, mode=Mode.CHAT)
    gone = make_employee("Gone Person", team=org.team, location="Berlin", status=LifecycleStatus.ALUMNI)
    touch(gone, K.PERFORMANCE_REVIEW, mode=Mode.CHAT)
    deactivated = make_employee("Off Person", team=org.team, location="Berlin", deactivated_at=utcnow())
    touch(deactivated, K.PERFORMANCE_REVIEW, mode=Mode.CHAT)
    db.session.commit()
    report = evaluate(now=NOW)
    assert [v.employee_id for v in report.violations] == [org.employee.id]
    assert report.in_scope[report.policies[0].policy_id] == 1


def test_channel_guidelines_refuse_the_forbidden_channels_only(org):
    policy({"key": "no-chat", "name": "Sensitive moments never in chat", "rule": "channel_guidelines",
            "scope": {"kinds": ["grievance_meeting", "exit_interview"]},
            "params": {"forbidden_modes": ["chat", "email"]}})
    grievance = touch(org.employee, K.GRIEVANCE_MEETING, mode=Mode.EMAIL, owner=org.hr,
                      owner_role=OwnerRole.HR_PARTNER)
    touch(org.colleague, K.EXIT_INTERVIEW, mode=Mode.PHONE)
    db.session.commit()
    report = evaluate(now=NOW)
    assert [v.touchpoint_id for v in report.violations] == [grievance.id]
    assert report.violations[0].hr_only  # a grievance: never shown to the manager
    assert found(report) == [
        "Grievance meeting logged by email on 17 Mar 2026; it must never happen over chat or by email."]


# ---------------------------------------------------------------- maximum gap


def test_maximum_gap_boundary_exactly_n_days_is_still_fine(org):
    policy(MONTHLY_ONE_ON_ONE)
    touch(org.employee, at=NOW - timedelta(days=30))          # 30 days ago: fine
    touch(org.colleague, at=NOW - timedelta(days=31))         # 31 days ago: out
    touch(org.colleague, mode=Mode.CHAT, at=NOW - timedelta(days=2))    # chat is not a conversation
    touch(org.colleague, K.COFFEE_CHAT, at=NOW - timedelta(days=2))     # another kind does not count
    db.session.commit()
    report = evaluate(now=NOW)
    pair = (org.employee.id, org.colleague.id)
    assert [v.employee_id for v in report.violations if v.employee_id in pair] == [org.colleague.id]
    assert found(report, org.colleague) == [
        "No one-on-one in person or live for 31 days (last on 15 Feb 2026); the policy asks for one at least "
        "every 30 days."]
    assert next(v for v in report.violations if v.employee_id == org.colleague.id).since == date(2026, 3, 18)


def test_maximum_gap_counts_days_in_each_persons_own_time_zone(org):
    policy(MONTHLY_ONE_ON_ONE)
    tokyo = make_employee("Tomo Tokyo", manager=org.manager, timezone="Asia/Tokyo")
    london = make_employee("Lou London", manager=org.manager, timezone="Europe/London")
    # 15 Feb 20:00 UTC is already 16 Feb in Tokyo: 30 days there, 31 in London.
    moment = datetime(2026, 2, 15, 20, 0, tzinfo=UTC)
    touch(tokyo, at=moment)
    touch(london, at=moment)
    db.session.commit()
    out = {v.employee_id for v in evaluate(now=NOW).violations}
    assert london.id in out and tokyo.id not in out


def test_maximum_gap_from_the_start_date_and_not_before_it(org):
    policy(MONTHLY_ONE_ON_ONE)
    newcomer = make_employee("New Comer", manager=org.manager, start_date=date(2026, 3, 2))
    future = make_employee("Not Yet", manager=org.manager, start_date=date(2026, 4, 1),
                           status=LifecycleStatus.PRE_BOARDING)
    long_ago = make_employee("Long Ago", manager=org.manager, start_date=date(2026, 1, 5))
    db.session.commit()
    report = evaluate(now=NOW)
    assert newcomer.id not in {v.employee_id for v in report.violations}
    assert future.id not in {v.employee_id for v in report.violations}
    assert found(report, long_ago) == ["No one-on-one in person or live in the 72 days since starting on "
                                       "5 Jan 2026; the policy asks for one at least every 30 days."]


def test_maximum_gap_with_an_empty_scope_counts_any_human_touchpoint_for_everyone(org):
    policy({**MONTHLY_ONE_ON_ONE, "scope": {}})
    for person in (org.hr, org.manager, org.employee, org.colleague, org.outsider):
        touch(person, K.COFFEE_CHAT, mode=Mode.PHONE, at=NOW - timedelta(days=5), owner=org.hr)
    db.session.commit()
    report = evaluate(now=NOW)
    assert report.violations == [] and report.in_scope[report.policies[0].policy_id] == 5


def test_stage_scope_leaves_people_on_leave_alone(org):
    policy({**MONTHLY_ONE_ON_ONE, "scope": {"kinds": ["one_on_one"], "stages": ["active"]}})
    org.colleague.status = LifecycleStatus.ON_LEAVE
    db.session.commit()
    out = {v.employee_id for v in evaluate(now=NOW).violations}
    assert org.employee.id in out and org.colleague.id not in out


# ---------------------------------------------------------------- first-days contact


FIRST_DAYS = {"key": "first-days", "name": "Meet in week one", "rule": "first_days_contact",
              "params": {"days": 5, "meet": ["manager", "buddy"]}}


def test_the_first_days_count_working_days_from_the_start_day():
    london = WorkCalendar("GB", "", "12345")
    assert first_days_deadline(date(2026, 3, 2), 5, london) == date(2026, 3, 6)      # Monday → Friday
    assert first_days_deadline(date(2026, 3, 4), 5, london) == date(2026, 3, 10)     # over a weekend
    assert first_days_deadline(date(2026, 3, 7), 1, london) == date(2026, 3, 9)      # a Saturday start
    # Good Friday and Easter Monday 2026 are bank holidays in England.
    assert first_days_deadline(date(2026, 3, 31), 5, london) == date(2026, 4, 8)


def test_a_new_hire_who_met_manager_and_buddy_in_time_is_fine(org):
    policy(FIRST_DAYS)
    start = date(2026, 3, 2)
    hire = make_employee("Nia New", manager=org.manager, team=org.team, start_date=start)
    buddy = org.colleague
    db.session.add(SupportAssignment(employee_id=hire.id, kind=SupportKind.BUDDY, partner_id=buddy.id,
                                     started_on=start))
    touch(hire, K.WELCOME, at=datetime(2026, 3, 2, 9, tzinfo=UTC), owner=org.manager)
    touch(hire, K.BUDDY_INTRO, mode=Mode.VIDEO, at=datetime(2026, 3, 6, 16, tzinfo=UTC), owner=buddy,
          owner_role=OwnerRole.BUDDY)
    late = make_employee("Lee Late", manager=org.manager, team=org.team, start_date=start)
    touch(late, K.WELCOME, at=datetime(2026, 3, 9, 9, tzinfo=UTC), owner=org.manager)  # day six
    touch(late, K.BUDDY_INTRO, mode=Mode.CHAT, at=datetime(2026, 3, 3, 9, tzinfo=UTC), owner=buddy,
          owner_role=OwnerRole.BUDDY)  # chat does not count
    db.session.commit()
    report = evaluate(now=NOW)
    assert found(report, hire) == []
    assert found(report, late) == ["Started on 2 Mar 2026 and had not met their manager or a buddy (none is "
                                   "assigned) in person or live by 6 Mar 2026 (5 working days)."]
    assert report.violations[0].since == date(2026, 3, 7)


def test_first_days_wait_for_the_deadline_and_look_back_only_so_far(org):
    policy(FIRST_DAYS)
    this_week = make_employee("This Week", manager=org.manager, start_date=date(2026, 3, 16))
    long_ago = make_employee("Long Ago", manager=org.manager, start_date=date(2025, 6, 2))
    db.session.commit()
    out = {v.employee_id for v in evaluate(now=NOW).violations}
    assert this_week.id not in out and long_ago.id not in out


# ---------------------------------------------------------------- follow-up pairing


FOLLOW_UP = {"key": "training-follow-up", "name": "Training then a talk", "rule": "follow_up_pairing",
             "severity": "warn", "scope": {"kinds": ["training_module"]},
             "params": {"days": 7, "follow_up_kinds": ["live_discussion"]}}


def test_a_digital_module_needs_a_live_follow_up_within_n_days(org):
    policy(FOLLOW_UP)
    done = datetime(2026, 3, 2, 10, tzinfo=UTC)
    paired = touch(org.employee, K.TRAINING_MODULE, mode=Mode.SELF_SERVE, at=done)
    touch(org.employee, K.LIVE_DISCUSSION, mode=Mode.VIDEO, at=done + timedelta(days=7))  # day 7: in time
    alone = touch(org.colleague, K.TRAINING_MODULE, mode=Mode.SELF_SERVE, at=done)
    touch(org.colleague, K.LIVE_DISCUSSION, mode=Mode.VIDEO, at=done + timedelta(days=8))  # a day late
    touch(org.colleague, K.COFFEE_CHAT, at=done + timedelta(days=1))  # not a live discussion
    in_class = touch(org.outsider, K.TRAINING_MODULE, mode=Mode.IN_PERSON, at=done)  # a human module
    recent = touch(org.hr, K.TRAINING_MODULE, mode=Mode.SELF_SERVE, at=NOW - timedelta(days=3))  # still time
    db.session.commit()
    report = evaluate(now=NOW)
    assert [v.touchpoint_id for v in report.violations] == [alone.id]
    assert paired.id != alone.id and in_class.id and recent.id
    assert found(report) == [
        "Training module done as self-serve on 2 Mar 2026; no live discussion in person or live followed "
        "within 7 days (by 9 Mar 2026)."]


def test_follow_up_deadlines_are_in_the_persons_zone(org):
    policy(FOLLOW_UP)
    la = make_employee("Lu Angeles", manager=org.manager, timezone="America/Los_Angeles")
    # Done on 2 March at 23:00 in Los Angeles (3 March UTC); the talk on 9 March local is day 7 there.
    touch(la, K.TRAINING_MODULE, mode=Mode.SELF_SERVE, at=datetime(2026, 3, 3, 7, tzinfo=UTC))
    touch(la, K.LIVE_DISCUSSION, mode=Mode.PHONE, at=datetime(2026, 3, 10, 6, tzinfo=UTC))
    db.session.commit()
    assert found(evaluate(now=NOW)) == []


# ---------------------------------------------------------------- automation streak


def test_automation_streak_counts_digital_touchpoints_since_the_last_human_one(org):
    policy({"key": "streak", "name": "Not too much automation", "rule": "automation_streak",
            "params": {"max_in_a_row": 3}})
    start = NOW - timedelta(days=40)
    touch(org.employee, at=start)
    for day in range(1, 5):  # four digital moments after the last conversation
        touch(org.employee, K.PULSE_SURVEY, mode=Mode.SELF_SERVE, at=start + timedelta(days=day))
    for day in range(1, 4):  # exactly three: allowed
        touch(org.colleague, K.PULSE_SURVEY, mode=Mode.EMAIL, at=start + timedelta(days=day))
    for day in range(1, 6):  # five, then a conversation resets the count
        touch(org.outsider, K.PULSE_SURVEY, mode=Mode.CHAT, at=start + timedelta(days=day))
    touch(org.outsider, K.CHECK_IN, mode=Mode.PHONE, at=start + timedelta(days=10), owner=org.hr)
    db.session.commit()
    report = evaluate(now=NOW)
    assert [v.employee_id for v in report.violations] == [org.employee.id]
    assert found(report) == [
        "4 automated or digital touchpoints in a row since the last one in person or live on 6 Feb 2026; "
        "the policy allows 3."]
    assert report.violations[0].since == date(2026, 2, 10)


# ---------------------------------------------------------------- quiet hours and the whole


def test_quiet_hours_are_never_broken_by_past_data(org):
    version = policy({"key": "quiet", "name": "Quiet", "rule": "quiet_hours", "params": {}})
    report = evaluate(now=NOW)
    assert report.violations == [] and report.in_scope[version.policy_id] == 5


def test_switched_off_and_draft_policies_are_not_evaluated(org):
    from touchpoints.policies import services

    policy(MONTHLY_ONE_ON_ONE, activate=False)
    version = policy(REVIEWS_IN_PERSON)
    services.switch_off(version.policy, actor_id=None)
    db.session.commit()
    touch(org.employee, K.PERFORMANCE_REVIEW, mode=Mode.CHAT)
    db.session.commit()
    assert evaluate(now=NOW).violations == [] and evaluate(now=NOW).policies == []


def _company(org, size: int) -> None:
    for index in range(size):
        person = make_employee(f"Extra {index}", manager=org.manager, team=org.team)
        touch(person, K.PERFORMANCE_REVIEW, mode=Mode.CHAT)
        touch(person, K.TRAINING_MODULE, mode=Mode.SELF_SERVE, at=NOW - timedelta(days=20))
        touch(person, K.PULSE_SURVEY, mode=Mode.SELF_SERVE, at=NOW - timedelta(days=19))
        touch(person, K.PULSE_SURVEY, mode=Mode.SELF_SERVE, at=NOW - timedelta(days=18))
    db.session.commit()


def test_evaluation_runs_a_fixed_number_of_queries_whatever_the_company_size(org):
    for data in (REVIEWS_IN_PERSON, MONTHLY_ONE_ON_ONE, FIRST_DAYS, FOLLOW_UP,
                 {"key": "streak", "name": "Streak", "rule": "automation_streak",
                  "params": {"max_in_a_row": 1}},
                 {"key": "chat", "name": "No chat", "rule": "channel_guidelines",
                  "scope": {"kinds": ["performance_review"]}, "params": {"forbidden_modes": ["chat"]}}):
        policy(data)
    _company(org, 3)
    with count_queries() as small:
        small_report = evaluate(now=NOW)
    _company(org, 30)
    with count_queries() as large:
        large_report = evaluate(now=NOW)
    assert len(large_report.violations) > len(small_report.violations) > 0
    assert large.count == small.count <= 12, large.report()
