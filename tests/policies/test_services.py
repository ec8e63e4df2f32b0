"""Versions, audit, restore and the dry run: what HR sees before activating is what they get after."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import make_employee
from tests.policies.conftest import MONTHLY_ONE_ON_ONE, NOW, REVIEWS_IN_PERSON, policy, touch
from touchpoints.audit.models import AuditEntry
from touchpoints.extensions import db
from touchpoints.journeys.models import Mode, TouchpointKind
from touchpoints.policies import services
from touchpoints.policies.engine import evaluate
from touchpoints.policies.models import VersionStatus


def history(policy_id: int) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.subject_type == "policy",
                                                            AuditEntry.subject_id == policy_id)
                                   .order_by(AuditEntry.id)))


def test_create_is_a_draft_and_activation_enforces_it_with_audit(org):
    actor = org.user(org.hr).id
    version = services.create_policy(MONTHLY_ONE_ON_ONE, actor_id=actor)
    db.session.commit()
    assert version.status is VersionStatus.DRAFT and version.number == 1
    assert evaluate(now=NOW).policies == []
    services.activate(version, actor_id=actor)
    db.session.commit()
    assert version.status is VersionStatus.ACTIVE and version.activated_by_id == actor
    entries = history(version.policy_id)
    assert [e.action for e in entries] == ["policy.created", "policy.activated"]
    assert entries[1].before is None and entries[1].after["params"] == {"days": 30}
    with pytest.raises(services.PolicyStateError, match="not a draft"):
        services.activate(version, actor_id=actor)


def test_a_change_is_a_new_version_with_before_and_after(org):
    actor = org.user(org.hr).id
    first = policy(MONTHLY_ONE_ON_ONE, actor_id=actor)
    item = first.policy
    draft = services.save_draft(item, {**MONTHLY_ONE_ON_ONE, "params": {"days": 14}}, actor_id=actor,
                                change_note="Tighter for the new teams")
    again = services.save_draft(item, {**MONTHLY_ONE_ON_ONE, "params": {"days": 21}}, actor_id=actor)
    assert again is draft and draft.number == 2  # one draft at a time, edited in place
    services.activate(draft, actor_id=actor)
    db.session.commit()
    assert [(v.number, v.status) for v in item.versions] == [(1, VersionStatus.SUPERSEDED),
                                                              (2, VersionStatus.ACTIVE)]
    activated = [e for e in history(item.id) if e.action == "policy.activated"][-1]
    assert activated.before["params"] == {"days": 30} and activated.after["params"] == {"days": 21}
    assert ("params.days", "30", "21") in services.audit_changes(activated)
    with pytest.raises(services.PolicyValidationError) as caught:
        services.save_draft(item, {**MONTHLY_ONE_ON_ONE, "params": {"days": 0}}, actor_id=actor)
    assert caught.value.errors == {"params.days": "must be a whole number of days ≥ 1."}


def test_restore_copies_an_old_version_into_a_new_one(org):
    actor = org.user(org.hr).id
    first = policy(MONTHLY_ONE_ON_ONE, actor_id=actor)
    item = first.policy
    weekly = services.save_draft(item, {**MONTHLY_ONE_ON_ONE, "params": {"days": 7}}, actor_id=actor)
    services.activate(weekly, actor_id=actor)
    restored = services.restore(first, actor_id=actor)
    assert restored.number == 3 and restored.params == {"days": 30}
    assert restored.change_note == "Restored from version 1"
    services.activate(restored, actor_id=actor)
    db.session.commit()
    assert services.active_version(item).number == 3
    assert "policy.restored" in [e.action for e in history(item.id)]


def test_switch_off_and_discard(org):
    first = policy(MONTHLY_ONE_ON_ONE)
    services.switch_off(first.policy, actor_id=None)
    db.session.commit()
    assert first.status is VersionStatus.RETIRED and services.active_version(first.policy) is None
    with pytest.raises(services.PolicyStateError):
        services.switch_off(first.policy, actor_id=None)
    lonely = services.create_policy({**REVIEWS_IN_PERSON, "key": "lonely"}, actor_id=None)
    db.session.commit()
    services.discard_draft(lonely.policy, actor_id=None)
    db.session.commit()
    assert services.policy_by_key("lonely") is None


def test_keys_are_unique_and_teams_must_exist(org):
    policy(MONTHLY_ONE_ON_ONE)
    with pytest.raises(services.PolicyValidationError) as caught:
        services.create_policy(MONTHLY_ONE_ON_ONE, actor_id=None)
    assert caught.value.errors == {"key": "'monthly-one-on-one' is already used by another policy."}
    with pytest.raises(services.PolicyValidationError) as caught:
        services.create_policy({**MONTHLY_ONE_ON_ONE, "key": "teams",
                                "scope": {"teams": ["platform", "Nope"]}}, actor_id=None)
    assert caught.value.errors == {"scope.teams[1]": "there is no team called 'Nope'."}


def _some_history(org) -> None:
    for index, days in enumerate((10, 20, 25, 40, 60)):
        person = make_employee(f"Person {index}", manager=org.manager, team=org.team)
        touch(person, at=NOW - timedelta(days=days))
    touch(org.employee, TouchpointKind.PERFORMANCE_REVIEW, mode=Mode.CHAT)
    db.session.commit()


def test_the_dry_run_counts_equal_the_violations_after_activation(org):
    _some_history(org)
    policy(REVIEWS_IN_PERSON)
    first = policy(MONTHLY_ONE_ON_ONE)
    draft = services.save_draft(first.policy, {**MONTHLY_ONE_ON_ONE, "params": {"days": 14}}, actor_id=None)
    db.session.commit()
    before = evaluate(now=NOW)
    result = services.dry_run_version(draft, now=NOW)
    # Under 30 days: the three at 40, 60 and no touch at all; under 14 also those at 20 and 25.
    assert result.current_people == before.people_of_policy(first.policy_id)
    assert result.people > result.current_people
    assert len(result.newly_out) == result.people - result.current_people and result.back_in == []
    assert result.company_before == before.people_out_of_compliance
    services.activate(draft, actor_id=None)
    db.session.commit()
    after = evaluate(now=NOW)
    assert after.of_policy(first.policy_id) == result.report.violations
    assert after.people_of_policy(first.policy_id) == result.people
    assert after.people_out_of_compliance == result.company_after


def test_a_dry_run_of_a_new_policy_writes_nothing(org):
    _some_history(org)
    spec = services.check_definition(REVIEWS_IN_PERSON)
    result = services.dry_run(spec, now=NOW)
    assert result.people == 1 and result.current_people is None
    assert services.policy_by_key("reviews-in-person") is None
