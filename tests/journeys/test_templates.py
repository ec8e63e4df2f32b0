"""Journey templates: validation naming fields, drafts, versions that never rewrite history, clones."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from tests.factories import make_employee
from touchpoints.extensions import db
from touchpoints.journeys.enrolment import active_journey, enrol
from touchpoints.journeys.errors import JourneyError, JourneyValidationError
from touchpoints.journeys.models import (
    Enrolment,
    JourneyStatus,
    JourneyTemplate,
    Mode,
    Touchpoint,
    TouchpointStatus,
)
from touchpoints.journeys.templates import (
    clone_journey,
    create_journey,
    discard_draft,
    journey_to_data,
    publish,
    retire_journey,
    revision_impact,
    start_revision,
    update_draft,
)
from touchpoints.people.models import LifecycleStatus

PILOT = {"key": "mentoring", "name": "Mentoring programme", "stage": "development", "touchpoints": [
    {"key": "kick-off", "title": "Kick-off", "kind": "mentoring", "planned_mode": "in_person",
     "owner_role": "mentor", "anchor": "enrolment", "offset": 2, "offset_unit": "working_days"},
    {"key": "monthly", "title": "Monthly mentoring", "kind": "mentoring", "planned_mode": "video",
     "owner_role": "mentor", "anchor": "enrolment", "offset": 30, "rrule": "FREQ=MONTHLY",
     "series_length": 6},
]}
JAN_6 = datetime(2025, 1, 6, 9, tzinfo=UTC)


def test_every_bad_field_is_named(app):
    bad = {"key": "Has Spaces", "name": "", "stage": "midlife", "touchpoints": [
        {"key": "a", "title": "A", "kind": "hug", "planned_mode": "video", "owner_role": "manager",
         "anchor": "enrolment", "rrule": "FREQ=WEEKLY", "follows_cadence": True, "colour": "red"},
        {"key": "a", "title": "", "kind": "check_in", "planned_mode": "video", "owner_role": "boss",
         "anchor": "birthday", "offset": "soon", "duration_minutes": 900,
         "series_length": 3},
    ]}
    with pytest.raises(JourneyValidationError) as error:
        create_journey(bad, actor_id=None)
    assert set(error.value.errors) == {
        "key", "name", "stage", "touchpoints[0].kind", "touchpoints[0].rrule", "touchpoints[0].colour",
        "touchpoints[1].key", "touchpoints[1].title", "touchpoints[1].owner_role", "touchpoints[1].anchor",
        "touchpoints[1].offset", "touchpoints[1].duration_minutes", "touchpoints[1].series_length",
    }
    assert "FREQ" not in error.value.errors["touchpoints[0].kind"]
    with pytest.raises(JourneyValidationError) as error:
        create_journey({**PILOT, "touchpoints": []}, actor_id=None)
    assert "touchpoints" in error.value.errors


def test_a_grievance_meeting_cannot_be_given_to_the_line(app):
    grievance = {"key": "hearing", "title": "Grievance hearing", "kind": "grievance_meeting",
                 "planned_mode": "in_person", "anchor": "enrolment"}
    with pytest.raises(JourneyValidationError) as error:
        create_journey({**PILOT, "key": "grievance", "touchpoints": [{**grievance, "owner_role": "manager"}]},
                       actor_id=None)
    assert set(error.value.errors) == {"touchpoints[0].owner_role"}
    assert "HR partner" in error.value.errors["touchpoints[0].owner_role"]
    journey = create_journey({**PILOT, "key": "grievance",
                              "touchpoints": [{**grievance, "owner_role": "hr_partner"}]}, actor_id=None)
    assert journey.touchpoint_templates[0].sensitive


def test_sensitivity_follows_the_kind_unless_said(app):
    journey = create_journey({**PILOT, "key": "reviews", "touchpoints": [
        {"key": "review", "title": "Review", "kind": "performance_review", "planned_mode": "in_person",
         "owner_role": "manager", "anchor": "enrolment"},
        {"key": "chat", "title": "Chat", "kind": "coffee_chat", "planned_mode": "in_person",
         "owner_role": "manager", "anchor": "enrolment", "sensitive": True}]}, actor_id=None)
    assert [t.sensitive for t in journey.touchpoint_templates] == [True, True]
    assert journey.touchpoint_templates[0].human_touch_level.value == "in_person"


def test_keys_are_unique_and_drafts_change_in_place(app):
    journey = create_journey(PILOT, actor_id=None)
    with pytest.raises(JourneyValidationError) as error:
        create_journey(PILOT, actor_id=None)
    assert "already exists" in error.value.errors["key"]
    update_draft(journey, {"name": "Mentoring", "touchpoints": PILOT["touchpoints"][:1]}, actor_id=None)
    assert journey.name == "Mentoring" and [t.key for t in journey.touchpoint_templates] == ["kick-off"]
    assert journey.version == 1 and journey.status is JourneyStatus.DRAFT


@pytest.fixture
def enrolled(org, journeys):
    """Two new hires on onboarding v1, one of whom has already had her welcome call."""
    people = [make_employee(f"Hire {n}", manager=org.manager, team=org.team, start_date=date(2025, 3, 3),
                            status=LifecycleStatus.PRE_BOARDING) for n in (1, 2)]
    for person in people:
        enrol(person, active_journey("onboarding"), actor_id=None, enrolled_at=JAN_6, today=JAN_6.date())
    call = db.session.scalar(select(Touchpoint).where(Touchpoint.employee_id == people[0].id,
                                                      Touchpoint.title == "Welcome call with your manager"))
    call.status, call.actual_mode, call.happened_at = TouchpointStatus.DONE, Mode.VIDEO, call.due_at
    db.session.commit()
    return people


def _revised(journey: JourneyTemplate) -> JourneyTemplate:
    draft = start_revision(journey, actor_id=None)
    data = journey_to_data(draft)
    data["touchpoints"] = [t for t in data["touchpoints"] if t["key"] != "team-lunch"]
    for t in data["touchpoints"]:
        if t["key"] == "welcome-call":
            t["title"], t["planned_mode"] = "Welcome call", "in_person"
        if t["key"] == "check-in-30":
            t["offset"] = 28
    data["touchpoints"].append({"key": "skip-level", "title": "Meet your manager's manager",
                                "kind": "coffee_chat", "planned_mode": "in_person",
                                "owner_role": "hr_partner", "anchor": "start_date", "offset": 20,
                                "offset_unit": "working_days"})
    update_draft(draft, data, actor_id=None)
    return draft


def test_a_revision_shows_its_impact_and_moving_is_hrs_choice(enrolled):
    v1 = active_journey("onboarding")
    draft = _revised(v1)
    assert draft.version == 2 and draft.previous_version_id == v1.id
    assert start_revision(v1, actor_id=None).id == draft.id  # one draft at a time
    impact = revision_impact(draft)
    assert impact.enrolments == 2 and impact.open_touchpoints == 23
    assert impact.removed == ["team-lunch"] and impact.added == ["skip-level"]
    assert impact.changed == ["check-in-30", "welcome-call"] and impact.retimed == ["check-in-30"]

    result = publish(draft, actor_id=None, move_open=False)
    db.session.commit()
    assert v1.status is JourneyStatus.SUPERSEDED and draft.status is JourneyStatus.ACTIVE
    assert result.moved_enrolments == 0
    # People already on it keep the version they started.
    assert {e.journey_id for e in db.session.scalars(select(Enrolment))} == {v1.id}


def test_moving_open_touchpoints_to_the_new_version_keeps_history(enrolled):
    v1 = active_journey("onboarding")
    first, second = enrolled
    draft = _revised(v1)
    result = publish(draft, actor_id=None, move_open=True)
    db.session.commit()
    assert result.moved_enrolments == 2 and result.cancelled_touchpoints == 2
    assert result.created_touchpoints == 2  # the new skip-level chat, once per person

    def titled(person, title):
        return db.session.scalars(select(Touchpoint).where(Touchpoint.employee_id == person.id,
                                                           Touchpoint.title == title)).all()

    # The welcome call that happened stays as it was, under version 1.
    done = titled(first, "Welcome call with your manager")
    assert len(done) == 1 and done[0].status is TouchpointStatus.DONE
    assert done[0].template_id == v1.touchpoint_templates[1].id and not titled(first, "Welcome call")
    # The open one follows the new version: new title, new mode, same moment.
    moved = titled(second, "Welcome call")
    assert len(moved) == 1 and moved[0].planned_mode is Mode.IN_PERSON and moved[0].sequence == 1
    # Retimed: 28 days after Monday 3 March is Monday 31 March.
    assert titled(second, "30-day check-in")[0].due_at.date() == date(2025, 3, 31)
    assert titled(second, "Lunch with the team")[0].status is TouchpointStatus.CANCELLED
    assert len(titled(second, "Meet your manager's manager")) == 1
    assert {e.journey_id for e in db.session.scalars(select(Enrolment))} == {draft.id}


def test_clone_retire_and_discard(app, journeys):
    onboarding = active_journey("onboarding")
    clone = clone_journey(onboarding, key="onboarding-sales", name="Sales onboarding", actor_id=None)
    assert clone.version == 1 and clone.status is JourneyStatus.DRAFT
    assert [t.key for t in clone.touchpoint_templates] == [t.key for t in onboarding.touchpoint_templates]
    discard_draft(clone, actor_id=None)
    assert db.session.scalar(select(JourneyTemplate).where(JourneyTemplate.key == "onboarding-sales")) is None
    retire_journey(onboarding, actor_id=None)
    assert onboarding.status is JourneyStatus.RETIRED and active_journey("onboarding") is None
    with pytest.raises(JourneyError):
        retire_journey(onboarding, actor_id=None)
    with pytest.raises(JourneyError):
        update_draft(onboarding, {"name": "Renamed"}, actor_id=None)
