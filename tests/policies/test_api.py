"""The policies API: HR lists, creates, dry-runs, updates, activates and restores; others are refused."""
from __future__ import annotations

from datetime import timedelta

from tests.policies.conftest import MONTHLY_ONE_ON_ONE, REVIEWS_IN_PERSON, policy, touch
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.models import Mode, TouchpointKind
from touchpoints.policies import services


def test_managers_and_employees_cannot_read_or_change_policies(org, api_as):
    version = policy(MONTHLY_ONE_ON_ONE)
    for person in (org.manager, org.employee):
        api = api_as(person)
        assert api.get("/api/v1/policies").status_code == 403
        assert api.post("/api/v1/policies", json=REVIEWS_IN_PERSON).status_code == 403
        changed = api.patch(f"/api/v1/policies/{version.policy_id}", json={"params": {"days": 1}})
        assert changed.status_code == 403
        assert api.post(f"/api/v1/policies/{version.policy_id}/activate").status_code == 403
        assert api.get("/api/v1/policy-overrides").status_code == 403
    assert api_as(org.employee).get("/api/v1/compliance").status_code == 403
    assert api_as(org.manager).get("/api/v1/compliance").status_code == 200
    assert services.active_version(version.policy).params == {"days": 30}


def test_create_with_dry_run_writes_nothing_then_create_and_activate(org, api_as):
    touch(org.employee, TouchpointKind.PERFORMANCE_REVIEW, mode=Mode.CHAT, at=utcnow() - timedelta(days=2))
    db.session.commit()
    api = api_as(org.hr)
    dry = api.post("/api/v1/policies?dry_run=true", json=REVIEWS_IN_PERSON)
    assert dry.status_code == 200
    impact = dry.json["data"]["dry_run"]
    assert impact["people_out_of_compliance"] == 1 and impact["items"][0]["employee"]["id"] == org.employee.id
    assert services.policy_by_key("reviews-in-person") is None
    bad = api.post("/api/v1/policies", json={**REVIEWS_IN_PERSON, "params": {"modes": ["telepathy"]},
                                             "colour": "red"})
    assert bad.status_code == 422 and set(bad.json["error"]["fields"]) == {"colour"}
    bad = api.post("/api/v1/policies", json={**REVIEWS_IN_PERSON, "params": {"modes": ["telepathy"]}})
    assert bad.json["error"]["fields"] == {"params.modes[0]": "'telepathy' is not a mode (in_person, video, "
                                                              "phone, chat, email, self_serve)."}
    created = api.post("/api/v1/policies", json=REVIEWS_IN_PERSON)
    assert created.status_code == 201 and created.json["data"]["draft"]["number"] == 1
    policy_id = created.json["data"]["id"]
    assert created.json["data"]["active"] is None
    run = api.get(f"/api/v1/policies/{policy_id}/dry-run").json["data"]
    assert run["version"] == 1 and run["dry_run"]["people_out_of_compliance"] == 1
    wrong = api.post(f"/api/v1/policies/{policy_id}/activate", json={"version": 7})
    assert wrong.status_code == 409
    active = api.post(f"/api/v1/policies/{policy_id}/activate", json={"version": 1})
    assert active.status_code == 200 and active.json["data"]["active"]["status"] == "active"
    evaluated = api.get(f"/api/v1/compliance?policy_id={policy_id}").json
    assert evaluated["data"]["people_out_of_compliance"] == 1 == evaluated["meta"]["total"]
    assert evaluated["data"]["items"][0]["detail"].startswith("Performance review logged over chat")


def test_update_with_dry_run_then_save_activate_and_restore(org, api_as):
    version = policy(MONTHLY_ONE_ON_ONE)
    touch(org.employee, at=utcnow() - timedelta(days=20))
    db.session.commit()
    api = api_as(org.hr)
    url = f"/api/v1/policies/{version.policy_id}"
    dry = api.patch(url + "?dry_run=true", json={"params": {"days": 14}}).json["data"]["dry_run"]
    current = dry["currently_out_of_compliance"]
    assert dry["people_out_of_compliance"] == current + 1
    assert dry["newly_out_of_compliance"] == [org.employee.id]
    assert api.get(url).json["data"]["draft"] is None
    assert api.patch(url, json={"key": "renamed"}).status_code == 422
    saved = api.patch(url, json={"params": {"days": 14}, "change_note": "Fortnightly"})
    assert saved.json["data"]["draft"]["params"] == {"days": 14}
    assert saved.json["data"]["draft"]["change_note"] == "Fortnightly"
    api.post(url + "/activate", json={"version": 2})
    assert api.get(url + "/versions/1").json["data"]["status"] == "superseded"
    restored = api.post(url + "/versions/1/restore").json["data"]
    assert restored["draft"]["number"] == 3 and restored["draft"]["params"] == {"days": 30}
    off = api.post(url + "/switch-off")
    assert off.status_code == 200 and off.json["data"]["active"] is None
    assert api.post(url + "/switch-off").status_code == 409
    assert api.get(url + "/versions/9").status_code == 404
    assert api.get("/api/v1/policies/999").status_code == 404
