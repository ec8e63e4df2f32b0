"""Suggestions, their reasons and exclusions; making a pair under the load cap; what a pair plans."""
from __future__ import annotations

import threading
from datetime import date

import pytest
from flask import current_app
from sqlalchemy import func, select

from tests.factories import make_employee, make_team
from tests.programmes.conftest import TODAY, user_of
from tests.querycount import count_queries
from touchpoints.auth.models import User
from touchpoints.extensions import db
from touchpoints.journeys.models import (
    Enrolment,
    EnrolmentStatus,
    OwnerRole,
    SupportAssignment,
    SupportKind,
    Touchpoint,
    TouchpointKind,
)
from touchpoints.journeys.services import assign_support
from touchpoints.nudges.models import Nudge, NudgeKind
from touchpoints.people.models import Employee, LifecycleStatus
from touchpoints.programmes.models import MatchStatus, Programme, ProgrammeMatch
from touchpoints.programmes.services import (
    NotAllowed,
    ProgrammeError,
    ProgrammeValidationError,
    create_match,
    overlap_hours,
    suggestions_for,
)


def names(suggestions) -> list[str]:
    return [s.full_name for s in suggestions]


def reasons_of(suggestions, name: str) -> list[str]:
    return next(s.reasons for s in suggestions if s.full_name == name)


# ---------------------------------------------------------------- ranking and reasons


def test_suggestions_rank_other_team_same_place_and_tenure_first_and_say_why(company):
    found = suggestions_for(company.buddy, company.newcomer, today=TODAY)
    assert names(found)[0] == "Dan Designer"
    assert reasons_of(found, "Dan Designer") == [
        "other team (Design)", "same location (London)", "9 years' tenure", "buddies 0 of 2"]
    # Same team counts for less than another team, even with the same location.
    assert names(found).index("Dan Designer") < names(found).index("Cleo Teammate")
    assert "same team" in reasons_of(found, "Cleo Teammate")
    # Not in the same place: the hours their working days share, in each one's own zone.
    assert reasons_of(found, "Nick NewYork")[1] == "3.5 hours of working-time overlap"
    assert reasons_of(found, "Bea Berlin")[1] == "7.5 hours of working-time overlap"
    assert reasons_of(found, "Bea Berlin")[2] == "3 years' tenure"


def test_load_lowers_the_rank_and_shows_as_buddies_n_of_cap(company):
    assign_support(company.teammate, SupportKind.BUDDY, company.designer, actor_id=None,
                   started_on=date(2025, 12, 1))
    db.session.commit()
    found = suggestions_for(company.buddy, company.newcomer, today=TODAY)
    assert "buddies 1 of 2" in reasons_of(found, "Dan Designer")
    before = suggestions_for(company.buddy, company.junior, today=TODAY)
    assert all(s.load == 0 for s in before if s.full_name != "Dan Designer")


def test_mentors_read_as_mentors_and_need_the_programmes_tenure(company):
    found = suggestions_for(company.mentoring, company.newcomer, today=TODAY)
    assert "mentors 0 of 3" in reasons_of(found, "Dan Designer")
    assert "Bea Berlin" in names(found)  # 3 years and 7 months: enough for 24 months
    company.mentoring.min_tenure_months = 48
    assert "Bea Berlin" not in names(suggestions_for(company.mentoring, company.newcomer, today=TODAY))


def test_overlap_follows_each_persons_zone_and_hours():
    from datetime import time

    london = ("Europe/London", time(9), time(17, 30))
    tokyo = ("Asia/Tokyo", time(9), time(18))
    assert overlap_hours(TODAY, london, london) == 8.5
    assert overlap_hours(TODAY, london, tokyo) == 0
    assert overlap_hours(date(2026, 7, 1), london, ("America/New_York", time(9), time(17, 30))) == 3.5


# ---------------------------------------------------------------- exclusions


def test_nobody_unsuitable_is_suggested(company):
    found = names(suggestions_for(company.buddy, company.newcomer, today=TODAY, limit=100))
    assert "Eli Newcomer" not in found  # themself
    assert "Mia Manager" not in found  # their manager
    for name in ("Lea Leave", "Al Alumnus", "Dee Deactivated"):  # not at work now
        assert name not in found
    assert "Sam Junior" not in found  # three months in: under the six months asked
    assert "Rita Report" not in found
    # A manager's own reports are not suggested to them.
    for_manager = names(suggestions_for(company.mentoring, company.manager, today=TODAY, limit=100))
    assert "Cleo Teammate" not in for_manager and "Eli Newcomer" not in for_manager
    assert "Dan Designer" in for_manager


def test_people_at_their_cap_are_not_suggested(company):
    for person in (company.teammate, company.junior):
        assign_support(person, SupportKind.BUDDY, company.designer, actor_id=None,
                       started_on=date(2025, 12, 1))
    db.session.commit()
    found = names(suggestions_for(company.buddy, company.newcomer, today=TODAY, limit=100))
    assert "Dan Designer" not in found
    # Mentoring counts mentees, not buddies: Dan is free there.
    assert "Dan Designer" in names(suggestions_for(company.mentoring, company.newcomer, today=TODAY))


def test_suggestions_cost_the_same_queries_for_ten_or_sixty_candidates(company):
    def loaded() -> None:  # the programme and the person as a page holds them
        assert company.buddy.load_cap and company.newcomer.timezone

    loaded()
    with count_queries() as small:
        suggestions_for(company.buddy, company.newcomer, today=TODAY)
    team = make_team("Support")
    for n in range(50):
        make_employee(f"Extra {n}", team=team, location="Lisbon", timezone="Europe/Lisbon",
                      start_date=date(2020, 1, 1), password=None)
    loaded()
    with count_queries() as large:
        found = suggestions_for(company.buddy, company.newcomer, today=TODAY)
    assert len(found) == 10
    assert large.count == small.count == 1, large.report()


# ---------------------------------------------------------------- making a pair


def test_a_match_gives_the_buddy_the_pairs_touchpoints_and_tells_both(company):
    pair = create_match(company.buddy, company.newcomer, company.designer, actor=user_of(company.hr))
    db.session.commit()
    enrolment = db.session.get(Enrolment, pair.enrolment_id)
    assert enrolment.journey_key == "buddy-programme" and enrolment.status is EnrolmentStatus.ACTIVE
    planned = db.session.scalars(select(Touchpoint).where(Touchpoint.enrolment_id == enrolment.id)
                                 .order_by(Touchpoint.due_at)).all()
    # First coffee, four weekly catch-ups, then the monthly ones inside the planning horizon.
    assert [t.kind for t in planned[:5]] == [TouchpointKind.BUDDY_INTRO] + [TouchpointKind.CHECK_IN] * 4
    assert len(planned) >= 6
    assert {t.owner_id for t in planned} == {company.designer.id}
    assert {t.owner_role for t in planned} == {OwnerRole.BUDDY}
    assignment = db.session.get(SupportAssignment, pair.assignment_id)
    assert (assignment.employee_id, assignment.partner_id, assignment.kind) == \
        (company.newcomer.id, company.designer.id, SupportKind.BUDDY)
    notes = db.session.scalars(select(Nudge).where(Nudge.kind == NudgeKind.NOTICE)).all()
    assert {n.recipient_id for n in notes} == {company.newcomer.id, company.designer.id}
    assert any(n.payload["headline"] == "You have a buddy: Dan Designer" for n in notes)


def test_a_partner_at_the_cap_is_refused_and_nothing_is_written(company):
    hr = user_of(company.hr)
    create_match(company.buddy, company.teammate, company.designer, actor=hr)
    create_match(company.buddy, company.junior, company.designer, actor=hr)
    db.session.commit()
    with pytest.raises(ProgrammeValidationError) as refused:
        create_match(company.buddy, company.newcomer, company.designer, actor=hr)
    db.session.rollback()
    assert "Dan Designer already buddies 2 people" in refused.value.errors["partner_id"]
    assert db.session.scalar(select(func.count()).select_from(Enrolment)
                             .where(Enrolment.employee_id == company.newcomer.id)) == 0
    assert db.session.scalar(select(func.count()).select_from(SupportAssignment)
                             .where(SupportAssignment.employee_id == company.newcomer.id)) == 0


def test_a_buddy_given_by_hand_counts_towards_the_cap(company):
    assign_support(company.teammate, SupportKind.BUDDY, company.designer, actor_id=None)
    assign_support(company.junior, SupportKind.BUDDY, company.designer, actor_id=None)
    db.session.commit()
    with pytest.raises(ProgrammeValidationError) as refused:
        create_match(company.buddy, company.newcomer, company.designer, actor=user_of(company.hr))
    assert "partner_id" in refused.value.errors


@pytest.mark.parametrize("who, field, words", [
    ("manager", "partner_id", "is Eli Newcomer's manager"),
    ("on_leave", "partner_id", "on leave"),
    ("alumnus", "partner_id", "alumni"),
    ("newcomer", "partner_id", "their own buddy"),
])
def test_unsuitable_partners_are_refused_with_the_reason(company, who, field, words):
    with pytest.raises(ProgrammeValidationError) as refused:
        create_match(company.buddy, company.newcomer, getattr(company, who), actor=user_of(company.hr))
    assert words in refused.value.errors[field]


def test_someone_with_a_buddy_gets_no_second_one(company):
    hr = user_of(company.hr)
    create_match(company.buddy, company.newcomer, company.designer, actor=hr)
    db.session.commit()
    with pytest.raises(ProgrammeValidationError) as refused:
        create_match(company.buddy, company.newcomer, company.new_yorker, actor=hr)
    assert "already has a buddy, Dan Designer" in refused.value.errors["employee_id"]


def test_a_paused_programme_takes_no_new_pairs(company):
    company.buddy.active = False
    with pytest.raises(ProgrammeError, match="paused"):
        create_match(company.buddy, company.newcomer, company.designer, actor=user_of(company.hr))


def test_two_requests_at_once_never_go_over_the_cap(company):
    """PostgreSQL: the partner's row is locked, so the second request counts after the first commits."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite has one writer at a time")
    hr_id, partner_id = company.hr.id, company.designer.id
    second_id, third_id = company.newcomer.id, company.junior.id
    create_match(company.buddy, company.teammate, company.designer, actor=user_of(company.hr))
    db.session.commit()
    app = current_app._get_current_object()
    second_waiting = threading.Event()
    outcomes: dict[str, str] = {}

    def attempt(label: str, mentee_id: int, hold: bool) -> None:
        with app.app_context():
            try:
                programme = db.session.scalar(select(Programme).where(Programme.key == "new-hire-buddy"))
                hr = db.session.scalar(select(User).where(User.employee_id == hr_id))
                create_match(programme, db.session.get(Employee, mentee_id),
                             db.session.get(Employee, partner_id), actor=hr)
                if hold:  # keep the lock until the other request is surely waiting on it
                    second_waiting.wait(5)
                    threading.Event().wait(0.5)
                db.session.commit()
                outcomes[label] = "paired"
            except ProgrammeValidationError as error:
                db.session.rollback()
                outcomes[label] = error.errors.get("partner_id", str(error))
            finally:
                db.session.remove()

    first = threading.Thread(target=attempt, args=("a", second_id, True))
    first.start()
    threading.Event().wait(0.3)  # the first holds the partner's lock by now
    second = threading.Thread(target=attempt, args=("b", third_id, False))
    second.start()
    second_waiting.set()
    first.join(10)
    second.join(10)
    assert outcomes["a"] == "paired"
    assert "already buddies 2 people" in outcomes["b"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(ProgrammeMatch).where(
        ProgrammeMatch.partner_id == partner_id, ProgrammeMatch.status == MatchStatus.ACTIVE)) == 2


# ---------------------------------------------------------------- who may match


def test_a_manager_may_pick_a_buddy_for_their_own_report_only(company):
    manager = user_of(company.manager)
    pair = create_match(company.buddy, company.newcomer, company.designer, actor=manager)
    assert pair.partner_id == company.designer.id
    with pytest.raises(NotAllowed, match="mentors are matched by an HR partner"):
        create_match(company.mentoring, company.teammate, company.designer, actor=manager)
    with pytest.raises(NotAllowed):
        create_match(company.buddy, company.other_report, company.new_yorker, actor=manager)


def test_an_employee_cannot_pick_their_own_buddy(company):
    with pytest.raises(NotAllowed, match="cannot pick your own"):
        create_match(company.buddy, company.newcomer, company.designer, actor=user_of(company.newcomer))
    assert company.newcomer.status is LifecycleStatus.ONBOARDING
