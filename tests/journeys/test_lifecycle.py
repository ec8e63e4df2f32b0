"""Lifecycle events: what a start date, manager change, leave, exit or rehire does to touchpoints."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import pytest
from sqlalchemy import select

from tests.factories import make_employee, make_manager
from touchpoints.audit.models import AuditEntry
from touchpoints.extensions import db
from touchpoints.journeys.enrolment import active_journey, enrol, extend_horizon
from touchpoints.journeys.errors import JourneyError
from touchpoints.journeys.lifecycle import (
    on_people_imported,
    record_due_starts,
    record_lifecycle_event,
)
from touchpoints.journeys.models import (
    Enrolment,
    EnrolmentStatus,
    LifecycleEvent,
    LifecycleEventKind,
    OwnerRole,
    Touchpoint,
    TouchpointKind,
    TouchpointStatus,
)
from touchpoints.people.models import LifecycleStatus
from touchpoints.people.services import create_employee, update_employee

JAN_6 = datetime(2025, 1, 6, 9, tzinfo=UTC)
TODAY = JAN_6.date()
Kind = LifecycleEventKind


def touchpoints_of(person, **where) -> list[Touchpoint]:
    db.session.expire_all()
    query = select(Touchpoint).where(Touchpoint.employee_id == person.id)
    for name, value in where.items():
        query = query.where(getattr(Touchpoint, name) == value)
    return list(db.session.scalars(query.order_by(Touchpoint.due_at, Touchpoint.id)))


@pytest.fixture
def hire(org, journeys):
    person = make_employee("Nina Newhire", manager=org.manager, team=org.team, start_date=date(2025, 3, 3),
                           hire_date=date(2025, 1, 6), status=LifecycleStatus.PRE_BOARDING)
    enrol(person, active_journey("onboarding"), actor_id=None, enrolled_at=JAN_6, today=TODAY)
    db.session.commit()
    return person


def test_a_moved_start_date_moves_the_open_touchpoints_anchored_on_it(org, hire):
    before = {t.title: t.sequence for t in touchpoints_of(hire)}
    record_lifecycle_event(hire, Kind.START_DATE_MOVED, actor_id=None, today=TODAY,
                           details={"start_date": "2025-03-17"})
    db.session.commit()
    after = {t.title: t for t in touchpoints_of(hire)}
    assert hire.start_date == date(2025, 3, 17)
    assert after["First-day welcome"].due_at == datetime(2025, 3, 17, 9, 30, tzinfo=UTC)
    assert after["Welcome call with your manager"].due_at.date() == date(2025, 3, 12)
    assert after["30-day check-in"].due_at.date() == date(2025, 4, 16)
    assert all(after[k].sequence == before[k] + 1 for k in after)
    event = db.session.scalar(select(LifecycleEvent).where(LifecycleEvent.employee_id == hire.id))
    assert event.kind is Kind.START_DATE_MOVED and event.details["previous_start_date"] == "2025-03-03"
    assert event.details["moved_touchpoints"] == 12
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "lifecycle.start_date_moved"))


def test_a_moved_start_date_leaves_done_touchpoints_where_they_happened(org, hire):
    pack = touchpoints_of(hire, title="Welcome pack and first-week plan")[0]
    pack.status, pack.actual_mode, pack.happened_at = TouchpointStatus.DONE, pack.planned_mode, pack.due_at
    original = pack.due_at
    db.session.commit()
    record_lifecycle_event(hire, Kind.START_DATE_MOVED, actor_id=None, today=TODAY,
                           details={"start_date": "2025-04-01"})
    assert touchpoints_of(hire, title="Welcome pack and first-week plan")[0].due_at == original


def test_a_manager_change_moves_the_old_managers_open_touchpoints(org, hire):
    first = touchpoints_of(hire, title="First-day welcome")[0]
    first.status = TouchpointStatus.DONE
    db.session.commit()
    new_manager = make_manager("Nico Newmanager", team=org.team)
    record_lifecycle_event(hire, Kind.MANAGER_CHANGE, actor_id=None, today=TODAY,
                           details={"manager_id": new_manager.id})
    db.session.commit()
    open_managed = touchpoints_of(hire, owner_role=OwnerRole.MANAGER, status=TouchpointStatus.PLANNED)
    assert open_managed and {t.owner_id for t in open_managed} == {new_manager.id}
    assert touchpoints_of(hire, title="First-day welcome")[0].owner_id == org.manager.id  # history stays
    assert {t.owner_id for t in touchpoints_of(hire, owner_role=OwnerRole.BUDDY)} == {org.hr.id}


def test_losing_a_manager_hands_their_touchpoints_to_the_hr_partner_and_back(org, hire):
    record_lifecycle_event(hire, Kind.MANAGER_CHANGE, actor_id=None, today=TODAY,
                           details={"manager_id": None})
    assert {t.owner_id for t in touchpoints_of(hire, owner_role=OwnerRole.MANAGER)} == {org.hr.id}
    record_lifecycle_event(hire, Kind.MANAGER_CHANGE, actor_id=None, today=TODAY,
                           details={"manager_id": org.manager.id})
    assert {t.owner_id for t in touchpoints_of(hire, owner_role=OwnerRole.MANAGER)} == {org.manager.id}


def test_a_manager_change_that_would_loop_is_refused(org, hire):
    from touchpoints.journeys.errors import JourneyValidationError

    with pytest.raises(JourneyValidationError) as error:
        record_lifecycle_event(org.manager, Kind.MANAGER_CHANGE, actor_id=None,
                               details={"manager_id": hire.id})
    assert "manager_id" in error.value.errors


@pytest.fixture
def regular(org, journeys):
    enrol(org.employee, active_journey("development"), actor_id=None, enrolled_at=JAN_6, today=TODAY)
    db.session.commit()
    return org.employee


def test_leave_pauses_recurring_series_and_return_resumes_them(org, regular):
    series = touchpoints_of(regular, kind=TouchpointKind.ONE_ON_ONE)
    leave_on, back_on = series[1].due_at.date(), series[4].due_at.date()
    record_lifecycle_event(regular, Kind.LEAVE, effective_on=leave_on, actor_id=None, today=TODAY)
    db.session.commit()
    assert regular.status is LifecycleStatus.ON_LEAVE
    statuses = [t.status for t in touchpoints_of(regular, kind=TouchpointKind.ONE_ON_ONE)]
    assert statuses[0] is TouchpointStatus.PLANNED
    assert set(statuses[1:]) == {TouchpointStatus.CANCELLED}
    # While on leave the horizon does not grow.
    assert extend_horizon(today=TODAY + timedelta(days=60)) == 0

    record_lifecycle_event(regular, Kind.RETURN, effective_on=back_on, actor_id=None, today=TODAY)
    db.session.commit()
    assert regular.status is LifecycleStatus.ACTIVE
    after = touchpoints_of(regular, kind=TouchpointKind.ONE_ON_ONE)
    during = [t for t in after if leave_on <= t.due_at.date() < back_on]
    resumed = [t for t in after if t.due_at.date() >= back_on]
    assert during and all(t.status is TouchpointStatus.CANCELLED and t.status_reason == "on_leave"
                          for t in during)
    assert resumed and all(t.status is TouchpointStatus.PLANNED for t in resumed)
    assert extend_horizon(today=TODAY + timedelta(days=60)) > 0


def test_return_is_refused_for_someone_not_on_leave(org, regular):
    with pytest.raises(JourneyError, match="not on leave"):
        record_lifecycle_event(regular, Kind.RETURN, actor_id=None)


def test_an_exit_date_starts_offboarding_and_ends_series_after_the_last_day(org, regular):
    exit_on = TODAY + timedelta(days=30)
    record_lifecycle_event(regular, Kind.EXIT_DATE_SET, actor_id=None, today=TODAY,
                           details={"exit_date": exit_on.isoformat()})
    db.session.commit()
    assert regular.status is LifecycleStatus.OFFBOARDING and regular.exit_date == exit_on
    titles = {t.title for t in touchpoints_of(regular, status=TouchpointStatus.PLANNED)}
    assert {"Exit interview", "Knowledge handover", "Farewell"} <= titles
    later = [t for t in touchpoints_of(regular, kind=TouchpointKind.ONE_ON_ONE)
             if t.due_at.date() > exit_on]
    assert later and all(t.status is TouchpointStatus.CANCELLED for t in later)
    assert exit_on == date(2025, 2, 5)  # a Wednesday
    assert touchpoints_of(regular, title="Farewell")[0].due_at.date() == exit_on

    # The exit date moves a week later: what hangs on it follows.
    record_lifecycle_event(regular, Kind.EXIT_DATE_SET, actor_id=None, today=TODAY,
                           details={"exit_date": "2025-02-12"})
    assert touchpoints_of(regular, title="Farewell")[0].due_at.date() == date(2025, 2, 12)
    assert db.session.scalar(select(Enrolment).where(Enrolment.journey_key == "offboarding",
                                                     Enrolment.employee_id == regular.id)) is not None


def test_exit_cancels_open_touchpoints_and_hands_on_what_the_leaver_owned(org, regular, journeys):
    enrol(org.colleague, active_journey("development"), actor_id=None, enrolled_at=JAN_6, today=TODAY)
    record_lifecycle_event(org.manager, Kind.EXIT, effective_on=TODAY, actor_id=None, today=TODAY)
    db.session.commit()
    assert org.manager.status is LifecycleStatus.ALUMNI
    # The reports' one-on-ones the manager held now sit with the HR partner until a new manager comes.
    assert {t.owner_id for t in touchpoints_of(org.colleague, status=TouchpointStatus.PLANNED)} == {org.hr.id}
    record_lifecycle_event(regular, Kind.EXIT, effective_on=TODAY, actor_id=None, today=TODAY)
    db.session.commit()
    assert not touchpoints_of(regular, status=TouchpointStatus.PLANNED)
    assert {t.status_reason for t in touchpoints_of(regular)} == {"exit"}
    assert db.session.scalar(select(Enrolment).where(Enrolment.employee_id == regular.id)).status \
        is EnrolmentStatus.ENDED


def test_rehire_starts_a_fresh_onboarding(org, hire):
    record_lifecycle_event(hire, Kind.EXIT, effective_on=TODAY, actor_id=None, today=TODAY)
    db.session.commit()
    with pytest.raises(JourneyError, match="has not left"):
        record_lifecycle_event(org.employee, Kind.REHIRE, actor_id=None)
    record_lifecycle_event(hire, Kind.REHIRE, actor_id=None, today=TODAY,
                           details={"hire_date": "2025-01-06", "start_date": "2025-02-03"})
    db.session.commit()
    assert hire.status is LifecycleStatus.PRE_BOARDING and hire.exit_date is None
    enrolments = db.session.scalars(select(Enrolment).where(Enrolment.employee_id == hire.id,
                                                            Enrolment.journey_key == "onboarding")).all()
    assert sorted(e.status for e in enrolments) == [EnrolmentStatus.ACTIVE, EnrolmentStatus.ENDED]
    fresh = touchpoints_of(hire, status=TouchpointStatus.PLANNED, title="First-day welcome")
    assert [t.due_at.date() for t in fresh] == [date(2025, 2, 3)]


def test_the_daily_job_records_starts(org, hire):
    assert record_due_starts(today=date(2025, 3, 2)) == 0
    assert record_due_starts(today=date(2025, 3, 3)) == 1
    assert hire.status is LifecycleStatus.ONBOARDING
    assert record_due_starts(today=date(2025, 3, 4)) == 0


def test_the_people_service_enrols_new_hires_by_rule(org, journeys):
    person = create_employee({"email": "newbie@example.com", "full_name": "Nell Newbie",
                              "timezone": "Europe/London", "status": "pre_boarding",
                              "start_date": "2031-03-03", "hire_date": "2031-01-06",
                              "manager_id": org.manager.id, "team_id": org.team.id}, actor_id=None)
    db.session.commit()
    keys = {e.journey_key for e in
            db.session.scalars(select(Enrolment).where(Enrolment.employee_id == person.id))}
    assert keys == {"onboarding", "development"}
    assert len(touchpoints_of(person, enrolment_id=None)) == 0
    assert any(t.title == "First-day welcome" for t in touchpoints_of(person))
    event = db.session.scalar(select(LifecycleEvent).where(LifecycleEvent.employee_id == person.id))
    assert event.kind is Kind.HIRE

    colleague = create_employee({"email": "veteran@example.com", "full_name": "Vera Veteran",
                                 "timezone": "Europe/London", "status": "active",
                                 "start_date": "2019-05-01"}, actor_id=None)
    assert not db.session.scalars(select(Enrolment).where(Enrolment.employee_id == colleague.id)).all()


def event_kinds(person) -> list[LifecycleEventKind]:
    return list(db.session.scalars(select(LifecycleEvent.kind).where(LifecycleEvent.employee_id == person.id)
                                   .order_by(LifecycleEvent.id)))


def test_the_people_service_turns_record_changes_into_lifecycle_events(org, hire):
    new_manager = make_manager("Nico Newmanager", team=org.team)
    update_employee(hire, {"manager_id": new_manager.id, "start_date": "2025-03-10"}, actor_id=None)
    db.session.commit()
    kinds = event_kinds(hire)
    assert kinds == [Kind.START_DATE_MOVED, Kind.MANAGER_CHANGE]
    assert touchpoints_of(hire, title="First-day welcome")[0].due_at.date() == date(2025, 3, 10)
    assert touchpoints_of(hire, title="First-day welcome")[0].owner_id == new_manager.id

    update_employee(hire, {"status": "on_leave"}, actor_id=None)
    update_employee(hire, {"status": "onboarding"}, actor_id=None)
    update_employee(hire, {"exit_date": "2025-09-30"}, actor_id=None)
    db.session.commit()
    kinds = event_kinds(hire)
    assert kinds[2:] == [Kind.LEAVE, Kind.RETURN, Kind.EXIT_DATE_SET]
    assert hire.status is LifecycleStatus.OFFBOARDING


def test_imported_new_hires_are_enrolled_in_one_pass(org, journeys):
    people = [make_employee(f"Imported {i}", manager=org.manager, team=org.team,
                            start_date=date(2031, 3, 3), status=LifecycleStatus.PRE_BOARDING).id
              for i in range(3)]
    veteran = make_employee("Imported veteran", start_date=date(2015, 3, 3)).id
    assert on_people_imported([*people, veteran], actor_id=None) == 3
    db.session.commit()
    enrolled = set(db.session.scalars(
        select(Enrolment.employee_id).where(Enrolment.journey_key == "onboarding")))
    assert enrolled == set(people)


def test_a_new_cadence_re_plans_the_series_and_keeps_the_talking_points(org, journeys):
    from tests.journeys.test_enrolment import one_on_one_gaps
    from touchpoints.journeys.errors import JourneyValidationError
    from touchpoints.journeys.lifecycle import set_one_on_one_cadence
    from touchpoints.journeys.models import AgendaItem
    from touchpoints.journeys.outcomes import add_agenda_item

    enrol(org.employee, active_journey("development"), actor_id=None)
    enrol(org.colleague, active_journey("development"), actor_id=None)
    db.session.commit()
    upcoming = touchpoints_of(org.employee, kind=TouchpointKind.ONE_ON_ONE,
                              status=TouchpointStatus.PLANNED)
    add_agenda_item(upcoming[0], actor=org.user(org.employee), text="Conference budget")
    db.session.commit()
    assert one_on_one_gaps(org.employee) <= {14, 15, 13}

    with pytest.raises(JourneyValidationError):
        set_one_on_one_cadence(org.employee, 400, actor_id=None)
    assert set_one_on_one_cadence(org.employee, 7, actor_id=None) == 1
    db.session.commit()
    planned = touchpoints_of(org.employee, kind=TouchpointKind.ONE_ON_ONE, status=TouchpointStatus.PLANNED)
    gaps = {(b.due_at.date() - a.due_at.date()).days for a, b in pairwise(planned)}
    assert gaps <= {6, 7, 8}
    item = db.session.scalar(select(AgendaItem))
    assert item.touchpoint_id == planned[0].id

    # A team cadence reaches members without their own: the colleague, not the employee.
    assert set_one_on_one_cadence(org.team, 28, actor_id=None) == 1  # the colleague (the only one enrolled)
    db.session.commit()
    colleague = touchpoints_of(org.colleague, kind=TouchpointKind.ONE_ON_ONE,
                               status=TouchpointStatus.PLANNED)
    assert {(b.due_at.date() - a.due_at.date()).days for a, b in pairwise(colleague)} <= {27, 28, 29}
    assert touchpoints_of(org.employee, kind=TouchpointKind.ONE_ON_ONE,
                          status=TouchpointStatus.PLANNED)[0].id == planned[0].id
