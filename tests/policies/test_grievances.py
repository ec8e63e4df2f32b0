"""Grievances stay with HR: never the person's manager, even one made the meeting's owner."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.policies.conftest import policy
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.access import can_manage_touchpoint, can_view_touchpoint, visible_touchpoints
from touchpoints.journeys.errors import NotAllowed
from touchpoints.journeys.insights import employee_timeline
from touchpoints.journeys.models import Mode, TouchpointKind
from touchpoints.journeys.outcomes import plan_touchpoint


def test_a_grievance_owned_by_the_manager_is_still_hidden_from_them(org, client, login, api_as):
    hr, manager = org.user(org.hr), org.user(org.manager)
    grievance = plan_touchpoint(org.employee, kind=TouchpointKind.GRIEVANCE_MEETING, title="Grievance",
                                planned_mode=Mode.IN_PERSON, due_at=utcnow() + timedelta(days=1),
                                owner=org.manager, actor=hr)
    review = plan_touchpoint(org.employee, kind=TouchpointKind.PERFORMANCE_REVIEW, title="Review",
                             planned_mode=Mode.IN_PERSON, due_at=utcnow() + timedelta(days=1),
                             owner=org.manager, actor=hr)
    db.session.commit()
    assert not can_view_touchpoint(manager, grievance) and not can_manage_touchpoint(manager, grievance)
    assert can_view_touchpoint(manager, review)
    assert can_view_touchpoint(hr, grievance) and can_view_touchpoint(org.user(org.employee), grievance)
    visible = {t.id for t in db.session.scalars(visible_touchpoints(manager))}
    assert review.id in visible and grievance.id not in visible
    timeline = employee_timeline(org.employee, viewer=manager)
    assert [t.id for t in timeline.upcoming] == [review.id]
    login(org.manager)
    assert client.get(f"/touchpoints/{grievance.id}").status_code == 403
    assert "Grievance" not in client.get(f"/people/{org.employee.id}/timeline").get_data(as_text=True)
    assert api_as(org.manager).get(f"/api/v1/touchpoints/{grievance.id}").status_code == 404


def test_managers_can_neither_plan_grievances_nor_see_grievance_policies_on_the_dashboard(org, client, login):
    with pytest.raises(NotAllowed):
        plan_touchpoint(org.employee, kind="grievance_meeting", title="Mine", planned_mode="in_person",
                        due_at=utcnow() + timedelta(days=1), owner=None, actor=org.user(org.manager))
    policy({"key": "grievances", "name": "Grievances in person", "rule": "required_modes",
            "scope": {"kinds": ["grievance_meeting"]}, "params": {"modes": ["in_person"]}})
    login(org.manager)
    assert "Grievances in person" not in client.get("/compliance").get_data(as_text=True)
