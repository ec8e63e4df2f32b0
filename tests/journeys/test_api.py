"""The journeys API: journeys, enrolments, touchpoints and lifecycle events, with permissions."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.factories import make_employee, make_manager
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.enrolment import active_journey, enrol
from touchpoints.journeys.models import (
    Enrolment,
    Mode,
    OwnerRole,
    Touchpoint,
    TouchpointKind,
    TouchpointStatus,
)
from touchpoints.people.models import LifecycleStatus

JOURNEY = {"key": "return-to-work", "name": "Return to work", "stage": "other", "touchpoints": [
    {"key": "welcome-back", "title": "Welcome back", "kind": "return_to_work", "planned_mode": "in_person",
     "owner_role": "manager", "anchor": "enrolment", "offset": 0},
    {"key": "catch-up", "title": "Catch-up", "kind": "check_in", "planned_mode": "video",
     "owner_role": "manager", "anchor": "enrolment", "offset": 10, "offset_unit": "working_days"},
]}


def a_touchpoint(org, employee=None, *, due_in=timedelta(days=-1), kind=TouchpointKind.ONE_ON_ONE,
                 owner=None) -> Touchpoint:
    now = utcnow()
    tp = Touchpoint(employee_id=(employee or org.employee).id, owner_id=(owner or org.manager).id,
                    owner_role=OwnerRole.MANAGER, kind=kind, title=kind.label, planned_mode=Mode.IN_PERSON,
                    due_at=now + due_in, status=TouchpointStatus.PLANNED, created_at=now, updated_at=now)
    db.session.add(tp)
    db.session.commit()
    return tp


def test_hr_creates_publishes_and_lists_a_journey(org, api_as):
    hr = api_as(org.hr)
    created = hr.post("/api/v1/journeys", json=JOURNEY)
    assert created.status_code == 201, created.json
    journey = created.json["data"]
    assert journey["status"] == "draft" and len(journey["touchpoints"]) == 2
    assert journey["touchpoints"][0]["human_touch_level"] == "in_person"
    assert created.headers["Location"].endswith(f"/api/v1/journeys/{journey['id']}")
    published = hr.post(f"/api/v1/journeys/{journey['id']}/publish", json={"move_open": False})
    assert published.status_code == 200 and published.json["data"]["status"] == "active"
    listed = hr.get("/api/v1/journeys?key=return-to-work")
    assert [j["version"] for j in listed.json["data"]] == [1]


def test_bad_journey_fields_are_named(org, api_as):
    hr = api_as(org.hr)
    bad = {**JOURNEY, "touchpoints": [{**JOURNEY["touchpoints"][0], "rrule": "FREQ=HOURLY",
                                       "planned_mode": "telepathy"}]}
    response = hr.post("/api/v1/journeys", json=bad)
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"touchpoints[0].rrule", "touchpoints[0].planned_mode"}
    assert api_as(org.manager).post("/api/v1/journeys", json=JOURNEY).status_code == 403


def test_revising_a_journey_shows_the_impact_and_hr_chooses(org, journeys, api_as):
    hr = api_as(org.hr)
    onboarding = active_journey("onboarding")
    hire = make_employee("Nina Newhire", manager=org.manager, team=org.team,
                         status=LifecycleStatus.PRE_BOARDING, start_date=utcnow().date() + timedelta(days=40))
    enrol(hire, onboarding, actor_id=None)
    db.session.commit()
    draft = hr.post(f"/api/v1/journeys/{onboarding.id}/revisions").json["data"]
    assert draft["version"] == 2 and draft["status"] == "draft"
    touchpoints = [t for t in draft["touchpoints"] if t["key"] != "team-lunch"]
    for t in touchpoints:
        t.pop("id"), t.pop("human_touch_level")
        if t["key"] == "check-in-60":
            t["planned_mode"] = "in_person"
    assert hr.patch(f"/api/v1/journeys/{draft['id']}", json={"touchpoints": touchpoints}).status_code == 200
    impact = hr.get(f"/api/v1/journeys/{draft['id']}/impact").json["data"]
    assert impact["open_touchpoints"] == 12 and impact["enrolments"] == 1
    assert impact["removed"] == ["team-lunch"] and impact["changed"] == ["check-in-60"]
    assert hr.post(f"/api/v1/journeys/{draft['id']}/publish", json={}).status_code == 422

    published = hr.post(f"/api/v1/journeys/{draft['id']}/publish", json={"move_open": True})
    assert published.json["meta"]["moved_enrolments"] == 1
    assert published.json["meta"]["cancelled_touchpoints"] == 1
    db.session.expire_all()
    lunch = db.session.scalar(select(Touchpoint).where(Touchpoint.title == "Lunch with the team"))
    assert lunch.status is TouchpointStatus.CANCELLED
    sixty = db.session.scalar(select(Touchpoint).where(Touchpoint.title == "60-day check-in"))
    assert sixty.planned_mode is Mode.IN_PERSON and sixty.template_id != onboarding.touchpoint_templates[0].id
    versions = hr.get("/api/v1/journeys?key=onboarding&status=any").json["data"]
    assert [(v["version"], v["status"]) for v in versions] == [(2, "active"), (1, "superseded")]


def test_bulk_enrolment_by_team_and_idempotence(org, journeys, api_as):
    hr = api_as(org.hr)
    body = {"journey_key": "development", "team_id": org.team.id}
    first = hr.post("/api/v1/enrolments", json=body)
    assert first.status_code == 201 and first.json["data"]["enrolled"] == 3
    assert first.json["data"]["touchpoints_created"] > 0
    again = hr.post("/api/v1/enrolments", json=body)
    assert again.status_code == 200 and again.json["data"]["enrolled"] == 0
    assert sorted(again.json["data"]["already_enrolled"]) == sorted(
        [org.manager.id, org.employee.id, org.colleague.id])
    bad = hr.post("/api/v1/enrolments", json={"journey_key": "nope", "employee_ids": "all"})
    assert bad.status_code == 422 and {"journey_key", "employee_ids"} <= set(bad.json["error"]["fields"])
    assert api_as(org.manager).post("/api/v1/enrolments", json=body).status_code == 403

    listed = api_as(org.employee).get("/api/v1/enrolments")
    assert [e["employee_id"] for e in listed.json["data"]] == [org.employee.id]
    enrolment_id = listed.json["data"][0]["id"]
    ended = hr.post(f"/api/v1/enrolments/{enrolment_id}/end", json={"reason": "Moving to a new programme"})
    assert ended.status_code == 200 and ended.json["meta"]["cancelled_touchpoints"] > 0
    assert db.session.get(Enrolment, enrolment_id).status.value == "ended"


def test_touchpoints_are_listed_by_employee_owner_due_range_and_status(org, api_as):
    past = a_touchpoint(org, due_in=timedelta(days=-2))
    future = a_touchpoint(org, due_in=timedelta(days=5))
    theirs = a_touchpoint(org, org.colleague, due_in=timedelta(days=1))
    manager = api_as(org.manager)
    everything = manager.get("/api/v1/touchpoints").json["data"]
    assert [t["id"] for t in everything] == [past.id, theirs.id, future.id]
    mine = manager.get(f"/api/v1/touchpoints?employee_id={org.employee.id}").json["data"]
    assert {t["id"] for t in mine} == {past.id, future.id}
    overdue = manager.get("/api/v1/touchpoints?status=overdue").json["data"]
    assert [t["id"] for t in overdue] == [past.id] and overdue[0]["overdue"] is True
    start = (utcnow() + timedelta(hours=1)).isoformat()
    ranged = manager.get("/api/v1/touchpoints", query_string={"due_from": start}).json["data"]
    assert {t["id"] for t in ranged} == {future.id, theirs.id}
    by_owner = api_as(org.hr).get(f"/api/v1/touchpoints?owner_id={org.manager.id}&status=planned").json
    assert by_owner["meta"]["total"] == 3
    bad = manager.get("/api/v1/touchpoints?due_from=yesterday&status=lost")
    assert bad.status_code == 400 and set(bad.json["error"]["fields"]) == {"due_from", "status"}


def test_a_manager_cannot_see_another_teams_touchpoints_nor_grievances(org, api_as):
    other_manager = make_manager("Olga Othermanager")
    outsider = make_employee("Ola Outsider", manager=other_manager)
    hidden = a_touchpoint(org, outsider, owner=other_manager)
    grievance = a_touchpoint(org, kind=TouchpointKind.GRIEVANCE_MEETING, owner=org.hr)
    manager = api_as(org.manager)
    ids = {t["id"] for t in manager.get("/api/v1/touchpoints").json["data"]}
    assert hidden.id not in ids and grievance.id not in ids
    assert manager.get(f"/api/v1/touchpoints/{hidden.id}").status_code == 404
    assert manager.get(f"/api/v1/touchpoints/{grievance.id}").status_code == 404
    assert api_as(org.employee).get(f"/api/v1/touchpoints/{grievance.id}").status_code == 200
    assert api_as(org.hr).get(f"/api/v1/touchpoints/{hidden.id}").status_code == 200
    assert api_as(org.colleague).get(f"/api/v1/touchpoints/{hidden.id}").status_code == 404


def test_log_confirm_reschedule_and_miss_over_the_api(org, api_as):
    tp = a_touchpoint(org)
    manager, employee = api_as(org.manager), api_as(org.employee)
    when = (utcnow() - timedelta(hours=1)).astimezone(UTC).isoformat().replace("+00:00", "Z")
    logged = manager.post(f"/api/v1/touchpoints/{tp.id}/log",
                          json={"actual_mode": "video", "happened_at": when, "note": "Private thought"})
    assert logged.status_code == 200, logged.json
    body = logged.json["data"]
    assert body["status"] == "done" and body["actual_mode"] == "video" and body["confirmation"] == "pending"
    assert "Private thought" not in logged.get_data(as_text=True)
    not_theirs = manager.post(f"/api/v1/touchpoints/{tp.id}/confirmation", json={"took_place": True})
    assert not_theirs.status_code == 403
    confirmed = employee.post(f"/api/v1/touchpoints/{tp.id}/confirmation", json={"took_place": True})
    assert confirmed.json["data"]["confirmation"] == "confirmed"
    again = manager.post(f"/api/v1/touchpoints/{tp.id}/log", json={"actual_mode": "chat"})
    assert again.status_code == 409

    other = a_touchpoint(org)
    assert manager.post(f"/api/v1/touchpoints/{other.id}/log", json={}).json["error"]["fields"].keys() \
        == {"actual_mode"}
    missed = manager.post(f"/api/v1/touchpoints/{other.id}/missed", json={"reason": "Sick day"})
    assert missed.json["data"]["status"] == "missed"
    new_time = datetime.now(UTC) + timedelta(days=3)
    moved = manager.post(f"/api/v1/touchpoints/{other.id}/reschedule",
                         json={"due_at": new_time.isoformat()})
    assert moved.json["data"]["status"] == "scheduled" and moved.json["data"]["sequence"] == 2
    naive = manager.post(f"/api/v1/touchpoints/{other.id}/reschedule",
                         json={"due_at": "2031-01-01T10:00:00"})
    assert naive.status_code == 422 and "due_at" in naive.json["error"]["fields"]
    assert employee.post(f"/api/v1/touchpoints/{other.id}/missed", json={}).status_code == 403


def test_lifecycle_events_over_the_api(org, journeys, api_as):
    hr = api_as(org.hr)
    enrol(org.employee, active_journey("development"), actor_id=None)
    db.session.commit()
    new_manager = make_manager("Nico Newmanager", team=org.team)
    response = hr.post(f"/api/v1/employees/{org.employee.id}/lifecycle-events",
                       json={"kind": "manager_change", "manager_id": new_manager.id})
    assert response.status_code == 201, response.json
    assert response.json["data"]["details"]["previous_manager_id"] == org.manager.id
    owners = set(db.session.scalars(select(Touchpoint.owner_id).where(
        Touchpoint.employee_id == org.employee.id, Touchpoint.status == TouchpointStatus.PLANNED)))
    assert owners == {new_manager.id}
    bad = hr.post(f"/api/v1/employees/{org.employee.id}/lifecycle-events",
                  json={"kind": "promotion", "exit_date": "soon"})
    assert bad.status_code == 422 and set(bad.json["error"]["fields"]) == {"kind", "exit_date"}
    refused = hr.post(f"/api/v1/employees/{org.employee.id}/lifecycle-events", json={"kind": "return"})
    assert refused.status_code == 409
    assert api_as(org.manager).post(f"/api/v1/employees/{org.employee.id}/lifecycle-events",
                                    json={"kind": "leave"}).status_code == 403
    events = api_as(org.employee).get(f"/api/v1/employees/{org.employee.id}/lifecycle-events").json["data"]
    assert [e["kind"] for e in events] == ["manager_change"]
    assert api_as(org.colleague).get(
        f"/api/v1/employees/{org.employee.id}/lifecycle-events").status_code == 404


@pytest.mark.parametrize("path", ["/api/v1/journeys", "/api/v1/touchpoints", "/api/v1/enrolments"])
def test_the_journeys_api_needs_a_token(client, path):
    assert client.get(path).status_code == 401
