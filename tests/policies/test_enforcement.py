"""Enforcement where touchpoints enter: logging and planning, refusals in plain words, HR overrides."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.policies.conftest import REVIEWS_IN_PERSON, policy
from touchpoints.audit.models import AuditEntry
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.errors import HumanTouchRefusal
from touchpoints.journeys.models import Mode, OwnerRole, Touchpoint, TouchpointKind, TouchpointStatus
from touchpoints.journeys.outcomes import log_checks, log_touchpoint, plan_touchpoint
from touchpoints.policies.enforcement import check_log
from touchpoints.policies.models import PolicyOverride

REFUSAL = "Performance reviews must happen in person (policy: Reviews in person). Logged mode: chat."
JUSTIFICATION = "The employee works from our Lisbon office this quarter; agreed with both."


def review(org, *, kind=TouchpointKind.PERFORMANCE_REVIEW) -> Touchpoint:
    now = utcnow()
    tp = Touchpoint(employee_id=org.employee.id, owner_id=org.manager.id, owner_role=OwnerRole.MANAGER,
                    kind=kind, title=kind.label, planned_mode=Mode.IN_PERSON, due_at=now - timedelta(hours=3),
                    status=TouchpointStatus.PLANNED, created_at=now, updated_at=now)
    db.session.add(tp)
    db.session.commit()
    return tp


def overrides() -> list[PolicyOverride]:
    return list(db.session.scalars(select(PolicyOverride).order_by(PolicyOverride.id)))


def test_the_policies_check_is_registered_with_the_journeys_services(app):
    assert check_log in log_checks()


def test_a_manager_is_refused_in_plain_words_and_nothing_is_written(org):
    policy(REVIEWS_IN_PERSON)
    tp = review(org)
    with pytest.raises(HumanTouchRefusal) as caught:
        log_touchpoint(tp, actual_mode="chat", actor=org.user(org.manager))
    assert caught.value.reason == REFUSAL and caught.value.overridable
    db.session.rollback()
    assert tp.status is TouchpointStatus.PLANNED and overrides() == []
    log_touchpoint(tp, actual_mode="in_person", actor=org.user(org.manager))
    db.session.commit()
    assert tp.status is TouchpointStatus.DONE


def test_only_hr_may_override_and_only_with_a_written_justification(org):
    version = policy(REVIEWS_IN_PERSON)
    tp = review(org)
    with pytest.raises(HumanTouchRefusal, match="Only an HR partner can override it"):
        log_touchpoint(tp, actual_mode="chat", actor=org.user(org.manager), justification=JUSTIFICATION)
    with pytest.raises(HumanTouchRefusal) as caught:
        log_touchpoint(tp, actual_mode="chat", actor=org.user(org.hr))
    assert caught.value.reason == REFUSAL
    with pytest.raises(HumanTouchRefusal, match="at least 20 characters"):
        log_touchpoint(tp, actual_mode="chat", actor=org.user(org.hr), justification="Because.")
    db.session.rollback()
    log_touchpoint(tp, actual_mode="chat", actor=org.user(org.hr), justification=JUSTIFICATION)
    db.session.commit()
    [override] = overrides()
    assert (override.touchpoint_id, override.policy_version_id, override.actor_id, override.mode) == \
        (tp.id, version.id, org.user(org.hr).id, "chat")
    assert override.reason == REFUSAL and override.justification == JUSTIFICATION
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "policy.overridden"))
    assert entry.justification == JUSTIFICATION and entry.after["touchpoint_id"] == tp.id


def test_warnings_let_it_through_and_other_kinds_and_people_are_untouched(org):
    policy({**REVIEWS_IN_PERSON, "severity": "warn"})
    policy({**REVIEWS_IN_PERSON, "key": "berlin-one-on-ones", "name": "Berlin one-on-ones in person",
            "scope": {"kinds": ["one_on_one"], "locations": ["Munich"]}})
    log_touchpoint(review(org), actual_mode="chat", actor=org.user(org.manager))
    one_on_one = review(org, kind=TouchpointKind.ONE_ON_ONE)
    log_touchpoint(one_on_one, actual_mode="chat", actor=org.user(org.manager))
    db.session.commit()
    assert overrides() == []


def test_two_policies_broken_at_once_are_both_named(org):
    policy(REVIEWS_IN_PERSON)
    policy({"key": "never-chat", "name": "Sensitive moments never over chat", "rule": "channel_guidelines",
            "scope": {"kinds": ["performance_review"]}, "params": {"forbidden_modes": ["chat", "email"]}})
    with pytest.raises(HumanTouchRefusal) as caught:
        log_touchpoint(review(org), actual_mode="chat", actor=org.user(org.manager))
    assert caught.value.reason == REFUSAL + " It also breaks: Sensitive moments never over chat."
    with pytest.raises(HumanTouchRefusal) as caught:
        log_touchpoint(review(org), actual_mode="video", actor=org.user(org.manager))
    assert caught.value.reason == ("Performance reviews must happen in person (policy: Reviews in person). "
                                   "Logged mode: video call.")


def test_planning_is_judged_too_and_an_override_at_planning_carries_to_logging(org):
    policy({**REVIEWS_IN_PERSON, "key": "terminations", "name": "Terminations in person or by video",
            "scope": {"kinds": ["termination_meeting"]}, "params": {"modes": ["in_person", "video"]}})
    when = utcnow() + timedelta(days=2)
    with pytest.raises(HumanTouchRefusal) as caught:
        plan_touchpoint(org.employee, kind="termination_meeting", title="Ending", planned_mode="phone",
                        due_at=when, owner=org.hr, actor=org.user(org.hr))
    assert caught.value.reason == ("Termination meetings must happen in person or by video (policy: "
                                   "Terminations in person or by video). Planned mode: phone call.")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Touchpoint)) == 0
    tp = plan_touchpoint(org.employee, kind="termination_meeting", title="Ending", planned_mode="phone",
                         due_at=when, owner=org.hr, actor=org.user(org.hr),
                         justification="He is in hospital abroad and asked for a call, not a video.")
    db.session.commit()
    [override] = overrides()
    assert override.touchpoint_id == tp.id and override.action == "plan"
    tp.due_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    log_touchpoint(tp, actual_mode="phone", actor=org.user(org.hr))  # already justified when planned
    db.session.commit()
    assert tp.status is TouchpointStatus.DONE and len(overrides()) == 1


def test_the_log_page_shows_the_refusal_and_lets_hr_override(org, client, login):
    policy(REVIEWS_IN_PERSON)
    tp = review(org)
    when = (utcnow() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    login(org.manager)
    refused = client.post(f"/touchpoints/{tp.id}/log", data={"actual_mode": "chat", "happened_at": when})
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert REFUSAL in page and "Justification for overriding the policy" not in page
    client.post("/logout")
    login(org.hr)
    offered = client.post(f"/touchpoints/{tp.id}/log", data={"actual_mode": "chat", "happened_at": when})
    assert "Justification for overriding the policy" in offered.get_data(as_text=True)
    done = client.post(f"/touchpoints/{tp.id}/log", data={"actual_mode": "chat", "happened_at": when,
                                                         "justification": JUSTIFICATION})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Touchpoint, tp.id).status is TouchpointStatus.DONE
    listed = client.get("/compliance/overrides").get_data(as_text=True)
    assert JUSTIFICATION in listed and "Reviews in person" in listed and org.employee.full_name in listed


def test_the_api_refuses_with_the_same_words(org, api_as):
    policy(REVIEWS_IN_PERSON)
    tp = review(org)
    response = api_as(org.manager).post(f"/api/v1/touchpoints/{tp.id}/log", json={"actual_mode": "chat"})
    assert response.status_code == 422
    assert response.json["error"]["detail"] == REFUSAL
    ok = api_as(org.hr).post(f"/api/v1/touchpoints/{tp.id}/log",
                             json={"actual_mode": "chat", "justification": JUSTIFICATION})
    assert ok.status_code == 200 and len(overrides()) == 1


def test_the_log_page_says_which_modes_a_policy_refuses_or_warns_against_before_the_choice(
        org, client, login):
    policy({**REVIEWS_IN_PERSON, "severity": "warn"})
    policy({"key": "never-chat", "name": "Sensitive moments never over chat", "rule": "channel_guidelines",
            "scope": {"kinds": ["performance_review"]}, "params": {"forbidden_modes": ["chat", "email"]}})
    tp = review(org)
    login(org.manager)
    page = client.get(f"/touchpoints/{tp.id}/log").get_data(as_text=True)
    advice = re.findall(r'<span class="mode-option__policy">([^<]*)</span>', page)
    warning = "Against “Reviews in person”: allowed, but it counts on the compliance dashboard."
    # Every mode but in person breaks the warning; chat and email are refused outright as well.
    assert len(advice) == len(Mode) - 1 and all(warning in a for a in advice)
    assert sum("Refused by “Sensitive moments never over chat”." in a for a in advice) == 2
    # Logged by video despite the warning: it goes through, and the warning is said again.
    response = client.post(f"/touchpoints/{tp.id}/log", data={"actual_mode": "video",
                                                              "happened_at": "2026-11-20T10:00"},
                           follow_redirects=True)
    assert response.status_code == 200 and warning in response.get_data(as_text=True)
    assert tp.status is TouchpointStatus.DONE
