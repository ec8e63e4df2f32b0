"""Enrolment: materialising touchpoints, owners, cadence, the rolling horizon, idempotence, bulk."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import pytest
from sqlalchemy import func, select

from tests.factories import make_employee
from tests.querycount import count_queries
from touchpoints.extensions import db
from touchpoints.journeys.enrolment import (
    active_journey,
    employee_ids_for,
    enrol,
    enrol_many,
    extend_horizon,
)
from touchpoints.journeys.errors import JourneyError
from touchpoints.journeys.lifecycle import assign_support
from touchpoints.journeys.models import (
    Enrolment,
    OwnerRole,
    SupportKind,
    Touchpoint,
    TouchpointKind,
    TouchpointStatus,
)
from touchpoints.journeys.templates import create_journey, retire_journey
from touchpoints.people.models import LifecycleStatus

JAN_6 = datetime(2025, 1, 6, 9, tzinfo=UTC)


def touchpoints_of(person, **where) -> list[Touchpoint]:
    query = select(Touchpoint).where(Touchpoint.employee_id == person.id)
    for name, value in where.items():
        query = query.where(getattr(Touchpoint, name) == value)
    return list(db.session.scalars(query.order_by(Touchpoint.due_at, Touchpoint.id)))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def new_hire(org, start=date(2025, 3, 3), **fields):
    return make_employee("Nina Newhire", manager=org.manager, team=org.team, start_date=start,
                         hire_date=start - timedelta(days=30), status=LifecycleStatus.PRE_BOARDING, **fields)


def test_onboarding_plans_every_moment_at_the_right_local_time(org, journeys):
    hire = new_hire(org)
    enrol(hire, active_journey("onboarding"), actor_id=None, enrolled_at=JAN_6, today=JAN_6.date())
    db.session.commit()
    planned = {t.title: t for t in touchpoints_of(hire)}
    assert len(planned) == 12
    welcome = planned["Welcome call with your manager"]
    # Three working days before Monday 3 March: Wednesday 26 February, 11:00 in London (GMT).
    assert welcome.due_at == datetime(2025, 2, 26, 11, tzinfo=UTC)
    assert welcome.owner_id == org.manager.id and welcome.owner_role is OwnerRole.MANAGER
    # 30 calendar days after 3 March is Wednesday 2 April, 10:00 BST = 09:00 UTC.
    assert planned["30-day check-in"].due_at == datetime(2025, 4, 2, 9, tzinfo=UTC)
    assert planned["Company and product essentials (self-paced module)"].owner_id == hire.id
    assert all(t.status is TouchpointStatus.PLANNED and t.occurrence == 0 for t in planned.values())


def test_enrolling_twice_creates_nothing_twice(org, journeys):
    onboarding = active_journey("onboarding")
    hire = new_hire(org)
    first = enrol(hire, onboarding, actor_id=None, enrolled_at=JAN_6, today=JAN_6.date())
    db.session.commit()
    before = count(Touchpoint)
    again = enrol(hire, onboarding, actor_id=None, enrolled_at=JAN_6, today=JAN_6.date())
    result = enrol_many([hire.id, hire.id], onboarding, actor_id=None, today=JAN_6.date())
    db.session.commit()
    assert again.id == first.id
    assert result.enrolled == 0 and result.already_enrolled == [hire.id]
    assert count(Touchpoint) == before and count(Enrolment) == 1


def test_a_missing_manager_or_buddy_falls_to_the_teams_hr_partner(org, journeys):
    orphan = make_employee("Oli Orphan", team=org.team, start_date=date(2025, 3, 3),
                           status=LifecycleStatus.PRE_BOARDING)
    enrol(orphan, active_journey("onboarding"), actor_id=None, enrolled_at=JAN_6, today=JAN_6.date())
    owners = {t.title: t.owner_id for t in touchpoints_of(orphan)}
    assert owners["Welcome call with your manager"] == org.hr.id
    assert owners["Meet your buddy"] == org.hr.id
    assert owners["Welcome pack and first-week plan"] == org.hr.id


def test_without_a_team_hr_partner_any_hr_partner_owns_it_but_never_oneself(org, journeys):
    loner = make_employee("Lou Loner", start_date=date(2025, 3, 3), status=LifecycleStatus.PRE_BOARDING)
    enrol(loner, active_journey("onboarding"), actor_id=None, enrolled_at=JAN_6, today=JAN_6.date())
    assert {t.owner_id for t in touchpoints_of(loner, owner_role=OwnerRole.MANAGER)} == {org.hr.id}
    # The HR partner's own exit interview is held by the other HR partner.
    org.hr.exit_date = date(2025, 6, 30)
    db.session.commit()
    enrol(org.hr, active_journey("offboarding"), actor_id=None, enrolled_at=JAN_6, today=JAN_6.date())
    interview = touchpoints_of(org.hr, kind=TouchpointKind.EXIT_INTERVIEW)[0]
    assert interview.owner_id == org.other_hr.id


def test_a_buddy_assigned_before_enrolment_owns_the_buddy_moments(org, journeys):
    hire = new_hire(org)
    assign_support(hire, SupportKind.BUDDY, org.colleague, actor_id=None, started_on=date(2025, 1, 1))
    enrol(hire, active_journey("onboarding"), actor_id=None, enrolled_at=JAN_6, today=JAN_6.date())
    assert {t.owner_id for t in touchpoints_of(hire, owner_role=OwnerRole.BUDDY)} == {org.colleague.id}


def test_a_buddy_assigned_later_takes_over_from_the_hr_partner(org, journeys):
    hire = new_hire(org)
    enrol(hire, active_journey("onboarding"), actor_id=None, enrolled_at=JAN_6, today=JAN_6.date())
    assert {t.owner_id for t in touchpoints_of(hire, owner_role=OwnerRole.BUDDY)} == {org.hr.id}
    assign_support(hire, SupportKind.BUDDY, org.colleague, actor_id=None)
    db.session.commit()
    assert {t.owner_id for t in touchpoints_of(hire, owner_role=OwnerRole.BUDDY)} == {org.colleague.id}
    assert all(t.sequence == 1 for t in touchpoints_of(hire, owner_role=OwnerRole.BUDDY))


def one_on_one_gaps(person) -> set[int]:
    dates = [t.due_at.date() for t in touchpoints_of(person, kind=TouchpointKind.ONE_ON_ONE)]
    return {(b - a).days for a, b in pairwise(dates)}


def test_cadence_person_over_team_over_company(app, org, journeys):
    development = active_journey("development")
    today = date(2025, 1, 6)
    enrol(org.employee, development, actor_id=None, enrolled_at=JAN_6, today=today)
    assert one_on_one_gaps(org.employee) <= {14, 15}  # the company default, holidays aside

    org.team.one_on_one_cadence_days = 7
    weekly = make_employee("Wes Weekly", manager=org.manager, team=org.team)
    enrol(weekly, development, actor_id=None, enrolled_at=JAN_6, today=today)
    assert one_on_one_gaps(weekly) <= {7, 8}

    monthly = make_employee("Mo Monthly", manager=org.manager, team=org.team, one_on_one_cadence_days=28)
    enrol(monthly, development, actor_id=None, enrolled_at=JAN_6, today=today)
    assert one_on_one_gaps(monthly) <= {28, 29}

    app.config["DEFAULT_ONE_ON_ONE_CADENCE_DAYS"] = 21
    other = make_employee("Theo Threeweeks", manager=org.manager)
    enrol(other, development, actor_id=None, enrolled_at=JAN_6, today=today)
    assert one_on_one_gaps(other) <= {21, 22}


def test_recurring_series_are_materialised_only_up_to_the_horizon(app, org, journeys):
    app.config["JOURNEY_HORIZON_DAYS"] = 90
    enrol(org.employee, active_journey("development"), actor_id=None, enrolled_at=JAN_6,
          today=JAN_6.date())
    series = touchpoints_of(org.employee, kind=TouchpointKind.ONE_ON_ONE)
    assert series and max(t.due_at.date() for t in series) <= JAN_6.date() + timedelta(days=90)
    assert [t.occurrence for t in series] == sorted(t.occurrence for t in series)
    # Started on 8 Jan 2024: the series began long ago, nothing before the enrolment was invented.
    assert min(t.due_at for t in series) >= JAN_6


def test_extending_the_horizon_adds_what_is_missing_and_is_idempotent(org, journeys):
    enrol(org.employee, active_journey("development"), actor_id=None, enrolled_at=JAN_6,
          today=JAN_6.date())
    db.session.commit()
    before = touchpoints_of(org.employee, kind=TouchpointKind.ONE_ON_ONE)
    later = JAN_6.date() + timedelta(days=60)
    created = extend_horizon(today=later)
    db.session.commit()
    after = touchpoints_of(org.employee, kind=TouchpointKind.ONE_ON_ONE)
    assert created >= 4 and len(after) == len(before) + sum(
        1 for t in after if t.kind is TouchpointKind.ONE_ON_ONE and t.id not in {b.id for b in before})
    assert extend_horizon(today=later) == 0
    assert extend_horizon(today=later - timedelta(days=10)) == 0  # running late changes nothing
    occurrences = [t.occurrence for t in touchpoints_of(org.employee, kind=TouchpointKind.ONE_ON_ONE)]
    assert len(occurrences) == len(set(occurrences))
    assert max(t.due_at.date() for t in after) <= later + timedelta(days=90)


def test_the_unique_key_refuses_a_duplicate_occurrence(org, journeys):
    enrol(org.employee, active_journey("development"), actor_id=None, enrolled_at=JAN_6,
          today=JAN_6.date())
    db.session.commit()
    first = touchpoints_of(org.employee, kind=TouchpointKind.ONE_ON_ONE)[0]
    from sqlalchemy.exc import IntegrityError

    from touchpoints.journeys.enrolment import insert_touchpoints

    row = {c.key: getattr(first, c.key) for c in Touchpoint.__mapper__.column_attrs if c.key != "id"}
    assert insert_touchpoints([row], skip_conflicts=True) == 1  # attempted, silently skipped
    db.session.commit()
    assert len(touchpoints_of(org.employee, kind=TouchpointKind.ONE_ON_ONE, occurrence=first.occurrence)) == 1
    with pytest.raises(IntegrityError):
        insert_touchpoints([row], skip_conflicts=False)
        db.session.flush()
    db.session.rollback()


def test_one_offs_before_enrolment_are_skipped_or_brought_forward(org, journeys):
    # A long-serving colleague put on onboarding by hand gets no welcome call two years late.
    enrol(org.employee, active_journey("onboarding"), actor_id=None, enrolled_at=JAN_6,
          today=JAN_6.date())
    assert touchpoints_of(org.employee) == []
    # An exit date three working days away: the checklist and handover (due earlier) come forward
    # to the enrolment day rather than being lost.
    leaver = make_employee("Lea Leaver", manager=org.manager, team=org.team, exit_date=date(2025, 1, 10))
    enrol(leaver, active_journey("offboarding"), actor_id=None, enrolled_at=JAN_6, today=JAN_6.date())
    due = {t.title: t.due_at.date() for t in touchpoints_of(leaver)}
    assert due["Leaving checklist and dates"] == date(2025, 1, 6)
    assert due["Exit interview"] == date(2025, 1, 6)
    assert due["Farewell"] == date(2025, 1, 10)


def test_exit_anchored_moments_wait_for_an_exit_date(org, journeys):
    result = enrol_many([org.employee.id], active_journey("offboarding"), actor_id=None,
                        enrolled_at=JAN_6, today=JAN_6.date())
    assert result.enrolled == 1 and result.touchpoints_created == 0


def test_only_an_active_journey_takes_enrolments_and_leavers_are_refused(org, journeys):
    draft = create_journey({"key": "pilot", "name": "Pilot", "touchpoints": [
        {"key": "chat", "title": "Chat", "kind": "coffee_chat", "planned_mode": "video",
         "owner_role": "manager", "anchor": "enrolment"}]}, actor_id=None)
    with pytest.raises(JourneyError, match="only an active journey"):
        enrol(org.employee, draft, actor_id=None)
    development = active_journey("development")
    retire_journey(development, actor_id=None)
    with pytest.raises(JourneyError):
        enrol(org.employee, development, actor_id=None)
    gone = make_employee("Gus Gone", status=LifecycleStatus.ALUMNI)
    result = enrol_many([gone.id, 999_999], active_journey("onboarding"), actor_id=None)
    assert result.enrolled == 0 and set(result.not_enrollable) == {gone.id, 999_999}


def test_bulk_enrolment_of_a_team_uses_a_fixed_number_of_queries(org, journeys):
    onboarding = active_journey("development")

    def enrol_team(size: int) -> int:
        team_people = [make_employee(f"Bulk {size} {i}", manager=org.manager, team=org.team).id
                       for i in range(size)]
        with count_queries() as queries:
            result = enrol_many(team_people, onboarding, actor_id=None, enrolled_at=JAN_6,
                                today=JAN_6.date())
        assert result.enrolled == size
        db.session.commit()
        return queries.count

    assert enrol_team(3) == enrol_team(40)


def test_employee_ids_for_filters_by_team_and_status(org):
    assert set(employee_ids_for(team_id=org.team.id)) == {org.manager.id, org.employee.id, org.colleague.id}
    org.colleague.status = LifecycleStatus.ON_LEAVE
    db.session.commit()
    assert employee_ids_for(team_id=org.team.id, statuses=[LifecycleStatus.ON_LEAVE]) == [org.colleague.id]


def test_bulk_written_times_compare_like_orm_written_ones(org, journeys):
    # Bulk enrolment writes through the driver; a due time must still match an exact filter and
    # sort with touchpoints the ORM wrote (SQLite compares timestamps as text).
    enrol(org.employee, active_journey("development"), actor_id=None, enrolled_at=JAN_6, today=JAN_6.date())
    db.session.commit()
    first = touchpoints_of(org.employee)[0]
    assert db.session.scalar(select(Touchpoint.id).where(Touchpoint.due_at == first.due_at)) == first.id
    assert db.session.scalar(select(func.count()).select_from(Touchpoint)
                             .where(Touchpoint.due_at >= first.due_at)) == len(touchpoints_of(org.employee))
    enrolment = db.session.scalar(select(Enrolment))
    assert db.session.scalar(select(Enrolment.id).where(Enrolment.enrolled_at == JAN_6)) == enrolment.id
