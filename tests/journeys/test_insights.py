"""The journey map's figures and the employee timeline: right numbers, fixed query counts, permissions."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from tests.factories import make_employee, make_manager
from tests.querycount import count_queries
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.enrolment import active_journey, enrol_many
from touchpoints.journeys.insights import employee_timeline, journey_map_figures
from touchpoints.journeys.models import (
    Mode,
    OwnerRole,
    Touchpoint,
    TouchpointKind,
    TouchpointStatus,
)
from touchpoints.journeys.outcomes import add_agenda_item, log_touchpoint, save_private_note
from touchpoints.people.models import LifecycleStatus


def _hires(org, count: int, start: date) -> list[int]:
    return [make_employee(f"Hire {start} {n}", manager=org.manager, team=org.team, start_date=start,
                          status=LifecycleStatus.ONBOARDING).id for n in range(count)]


def test_the_journey_map_counts_per_stage_across_the_company(org, journeys):
    onboarding = active_journey("onboarding")
    start = utcnow().date() - timedelta(days=20)
    ids = _hires(org, 2, start)
    enrol_many(ids, onboarding, actor_id=None, enrolled_at=datetime.combine(start - timedelta(days=30),
                                                                            datetime.min.time(), tzinfo=UTC))
    db.session.commit()
    first_week = db.session.scalars(select(Touchpoint).join(Touchpoint.template).where(
        Touchpoint.employee_id == ids[0], Touchpoint.due_at < utcnow())).all()
    manager = org.user(org.manager)
    done = [t for t in first_week if t.title in ("First-day welcome", "First one-on-one with your manager")]
    for tp in done:
        log_touchpoint(tp, actual_mode=Mode.IN_PERSON, happened_at=tp.due_at, actor=manager)
    lunch = next(t for t in first_week if t.title == "Lunch with the team")
    lunch.status = TouchpointStatus.MISSED
    db.session.commit()

    journey_map = journey_map_figures(onboarding)
    stages = {s.name: s for s in journey_map.stages}
    assert list(stages) == ["Before day one", "First week", "First month", "First 90 days"]
    week = stages["First week"]
    assert week.total == 10  # five moments for two people
    assert week.done == 2 and week.overdue == 10 - 2 - 1
    assert week.completion_rate == 2 / 10
    # Planned in person or live: everything but the self-paced module.
    assert week.human_share == 8 / 10
    assert week.levels[Mode.SELF_SERVE.human_touch_level] == 1
    # Both people's next open moment is overdue in the first week or later; the one who met
    # her manager has a last human contact, the other has none.
    assert journey_map.enrolled == 2
    assert sum(s.people for s in journey_map.stages) == 2
    assert sum(s.people_never_met for s in journey_map.stages) == 1
    met = [s for s in journey_map.stages if s.median_days_since_human is not None]
    assert len(met) == 1 and 10 <= met[0].median_days_since_human <= 21
    point = next(p for p in journey_map.points if p.template.key == "first-day-welcome")
    assert (point.total, point.done, point.overdue, point.level.value) == (2, 1, 1, "in_person")


def test_the_journey_map_costs_the_same_queries_for_two_people_or_forty(org, journeys):
    onboarding = active_journey("onboarding")
    start = utcnow().date() - timedelta(days=10)

    def queries_with(count: int) -> int:
        enrolled_at = datetime.combine(start - timedelta(days=60), datetime.min.time(), tzinfo=UTC)
        enrol_many(_hires(org, count, start - timedelta(days=count)), onboarding, actor_id=None,
                   enrolled_at=enrolled_at)
        db.session.commit()
        with count_queries() as queries:
            journey_map_figures(onboarding)
        return queries.count

    # Templates, figures per moment, people per stage (and the journey row, reloaded after commit).
    assert queries_with(2) == queries_with(40) <= 4


def _tp(org, employee, *, days: int, kind=TouchpointKind.ONE_ON_ONE, owner=None) -> Touchpoint:
    now = utcnow()
    tp = Touchpoint(employee_id=employee.id, owner_id=(owner or org.manager).id,
                    owner_role=OwnerRole.MANAGER, kind=kind, title=kind.label, planned_mode=Mode.IN_PERSON,
                    due_at=now + timedelta(days=days), status=TouchpointStatus.PLANNED, created_at=now,
                    updated_at=now)
    db.session.add(tp)
    db.session.flush()
    return tp


def test_the_timeline_splits_past_and_upcoming_and_shows_only_ones_own_notes(org):
    overdue, later = _tp(org, org.employee, days=-3), _tp(org, org.employee, days=4)
    done = _tp(org, org.employee, days=-10)
    manager, employee = org.user(org.manager), org.user(org.employee)
    log_touchpoint(done, actual_mode=Mode.VIDEO, happened_at=done.due_at, note="Manager's thought",
                   actor=manager)
    save_private_note(done, actor=employee, body="My own thought")
    add_agenda_item(later, actor=employee, text="Training budget")
    db.session.commit()

    as_employee = employee_timeline(org.employee, viewer=employee)
    assert [t.id for t in as_employee.upcoming] == [later.id]
    assert [t.id for t in as_employee.past] == [overdue.id, done.id]  # overdue first
    assert as_employee.overdue == [overdue]
    assert as_employee.note_for(done).body == "My own thought"
    assert as_employee.awaiting_confirmation == [done]
    assert not as_employee.can_manage(overdue)
    assert employee_timeline(org.employee, viewer=manager).note_for(done).body == "Manager's thought"
    assert employee_timeline(org.employee, viewer=org.user(org.hr)).note_for(done) is None
    as_manager = employee_timeline(org.employee, viewer=manager)
    assert as_manager.can_manage(overdue) and not as_manager.can_confirm(done)


def test_grievances_stay_off_the_managers_view_of_the_timeline(org):
    grievance = _tp(org, org.employee, days=2, kind=TouchpointKind.GRIEVANCE_MEETING, owner=org.hr)
    one_on_one = _tp(org, org.employee, days=3)
    db.session.commit()
    ids = {t.id for t in employee_timeline(org.employee, viewer=org.user(org.manager)).upcoming}
    assert ids == {one_on_one.id}
    assert {t.id for t in employee_timeline(org.employee, viewer=org.user(org.employee)).upcoming} == \
        {grievance.id, one_on_one.id}
    assert {t.id for t in employee_timeline(org.employee, viewer=org.user(org.hr)).upcoming} == \
        {grievance.id, one_on_one.id}


def test_a_manager_cannot_see_another_teams_touchpoints(org):
    from touchpoints.journeys.access import can_view_touchpoint, visible_touchpoints
    from touchpoints.people.access import can_view_employee

    other_manager = make_manager("Olga Othermanager")
    outsider = make_employee("Ola Outsider", manager=other_manager)
    theirs = _tp(org, outsider, days=1, owner=other_manager)
    mine = _tp(org, org.employee, days=1)
    db.session.commit()
    manager = org.user(org.manager)
    assert not can_view_employee(manager, outsider.id)
    assert not can_view_touchpoint(manager, theirs) and can_view_touchpoint(manager, mine)
    assert set(db.session.scalars(visible_touchpoints(manager).with_only_columns(Touchpoint.id))) == {mine.id}


def test_the_timeline_costs_the_same_queries_however_long_it_is(org):
    manager = org.user(org.manager)

    def queries_with(count: int) -> int:
        for n in range(count):
            tp = _tp(org, org.employee, days=n - count // 2)
            if tp.due_at > utcnow():
                add_agenda_item(tp, actor=manager, text=f"Point {n}")
        db.session.commit()
        with count_queries() as queries:
            employee_timeline(org.employee, viewer=manager)
        return queries.count

    # Both lists non-empty in each run, so each loads its agenda items (one query per list).
    assert queries_with(4) == queries_with(30) <= 12
