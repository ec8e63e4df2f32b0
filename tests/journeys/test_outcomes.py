"""Logging what happened: done in three fields, missed, rescheduled, confirmed; agendas and notes."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from touchpoints.audit.models import AuditEntry
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.errors import (
    HumanTouchRefusal,
    JourneyValidationError,
    NotAllowed,
    TouchpointActionError,
)
from touchpoints.journeys.models import (
    Confirmation,
    Mode,
    OwnerRole,
    PrivateNote,
    Touchpoint,
    TouchpointKind,
    TouchpointStatus,
)
from touchpoints.journeys.outcomes import (
    _log_checks,
    add_agenda_item,
    cancel_touchpoint,
    confirm_touchpoint,
    log_touchpoint,
    mark_missed,
    plan_touchpoint,
    private_note_for,
    register_log_check,
    remove_agenda_item,
    reschedule,
    save_private_note,
)


def make_touchpoint(org, *, due_in=timedelta(days=-1), kind=TouchpointKind.ONE_ON_ONE,
                    owner=None, role=OwnerRole.MANAGER, employee=None) -> Touchpoint:
    now = utcnow()
    tp = Touchpoint(employee_id=(employee or org.employee).id, owner_id=(owner or org.manager).id,
                    owner_role=role, kind=kind, title=kind.label, planned_mode=Mode.IN_PERSON,
                    due_at=now + due_in, status=TouchpointStatus.PLANNED, created_at=now, updated_at=now)
    db.session.add(tp)
    db.session.commit()
    return tp


def test_a_manager_logs_a_one_on_one_and_the_employee_confirms_it(org):
    tp = make_touchpoint(org)
    manager, employee = org.user(org.manager), org.user(org.employee)
    when = utcnow() - timedelta(hours=2)
    log_touchpoint(tp, actual_mode="video", happened_at=when, note="Wants to lead the next release.",
                   actor=manager)
    db.session.commit()
    assert tp.status is TouchpointStatus.DONE and tp.actual_mode is Mode.VIDEO
    assert tp.happened_at == when and tp.logged_by_id == org.manager.id
    assert tp.confirmation is Confirmation.PENDING and tp.sequence == 1
    assert private_note_for(tp.id, org.manager.id).body == "Wants to lead the next release."
    assert private_note_for(tp.id, org.employee.id) is None

    confirm_touchpoint(tp, actor=employee, took_place=True)
    db.session.commit()
    assert tp.confirmation is Confirmation.CONFIRMED and tp.confirmed_at is not None
    with pytest.raises(TouchpointActionError, match="already answered"):
        confirm_touchpoint(tp, actor=employee, took_place=False, comment="Changed my mind")
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"touchpoint.logged", "touchpoint.confirmed"} <= actions


def test_the_employee_can_say_it_did_not_take_place_with_a_reason(org):
    tp = make_touchpoint(org)
    log_touchpoint(tp, actual_mode=Mode.IN_PERSON, actor=org.user(org.manager))
    with pytest.raises(JourneyValidationError) as error:
        confirm_touchpoint(tp, actor=org.user(org.employee), took_place=False)
    assert "comment" in error.value.errors
    confirm_touchpoint(tp, actor=org.user(org.employee), took_place=False,
                       comment="We only chatted on Slack.")
    assert tp.confirmation is Confirmation.DISPUTED and tp.confirmation_comment == "We only chatted on Slack."


def test_only_the_person_concerned_confirms(org):
    tp = make_touchpoint(org)
    log_touchpoint(tp, actual_mode=Mode.IN_PERSON, actor=org.user(org.manager))
    for someone in (org.manager, org.hr, org.colleague):
        with pytest.raises(NotAllowed):
            confirm_touchpoint(tp, actor=org.user(someone), took_place=True)


def test_logging_is_refused_to_outsiders_and_for_closed_or_future_moments(org):
    tp = make_touchpoint(org)
    with pytest.raises(NotAllowed):
        log_touchpoint(tp, actual_mode=Mode.IN_PERSON, actor=org.user(org.colleague))
    with pytest.raises(NotAllowed):  # the employee does not log the manager's meeting for them
        log_touchpoint(tp, actual_mode=Mode.IN_PERSON, actor=org.user(org.employee))
    with pytest.raises(JourneyValidationError) as error:
        log_touchpoint(tp, actual_mode=Mode.IN_PERSON, happened_at=utcnow() + timedelta(hours=1),
                       actor=org.user(org.manager))
    assert "happened_at" in error.value.errors
    with pytest.raises(JourneyValidationError) as error:
        log_touchpoint(tp, actual_mode="carrier pigeon", actor=org.user(org.manager))
    assert "actual_mode" in error.value.errors
    log_touchpoint(tp, actual_mode=Mode.IN_PERSON, actor=org.user(org.hr))
    with pytest.raises(TouchpointActionError, match="already logged"):
        log_touchpoint(tp, actual_mode=Mode.VIDEO, actor=org.user(org.manager))


def test_a_self_serve_moment_is_logged_by_the_person_and_needs_no_confirmation(org):
    tp = make_touchpoint(org, kind=TouchpointKind.TRAINING_MODULE, owner=org.employee,
                         role=OwnerRole.EMPLOYEE)
    log_touchpoint(tp, actual_mode=Mode.SELF_SERVE, actor=org.user(org.employee))
    assert tp.confirmation is Confirmation.CONFIRMED


def test_missed_then_rescheduled_then_logged(org):
    tp = make_touchpoint(org)
    manager = org.user(org.manager)
    mark_missed(tp, actor=manager, reason="Travelling")
    assert tp.status is TouchpointStatus.MISSED and tp.status_reason == "Travelling"
    new_time = utcnow() + timedelta(days=2)
    reschedule(tp, due_at=new_time, actor=manager, reason="Back on Thursday")
    assert tp.status is TouchpointStatus.SCHEDULED and tp.due_at == new_time and tp.sequence == 2
    with pytest.raises(JourneyValidationError):
        reschedule(tp, due_at=utcnow() - timedelta(days=1), actor=manager)
    with pytest.raises(TouchpointActionError, match="not due yet"):
        mark_missed(tp, actor=manager)
    log_touchpoint(tp, actual_mode=Mode.IN_PERSON, actor=manager)
    assert tp.status is TouchpointStatus.DONE


def test_cancelling_needs_a_reason(org):
    tp = make_touchpoint(org, due_in=timedelta(days=3))
    with pytest.raises(JourneyValidationError):
        cancel_touchpoint(tp, actor=org.user(org.manager), reason=" ")
    cancel_touchpoint(tp, actor=org.user(org.manager), reason="Replaced by the team offsite")
    with pytest.raises(TouchpointActionError, match="cancelled"):
        log_touchpoint(tp, actual_mode=Mode.IN_PERSON, actor=org.user(org.manager))


def test_registered_checks_run_before_anything_is_written(org):
    tp = make_touchpoint(org, kind=TouchpointKind.PERFORMANCE_REVIEW)

    def in_person_reviews(attempt):
        if attempt.touchpoint.kind is TouchpointKind.PERFORMANCE_REVIEW and attempt.actual_mode is not \
                Mode.IN_PERSON and not (attempt.actor.is_hr and attempt.justification):
            raise HumanTouchRefusal("Performance reviews happen in person.")

    register_log_check(in_person_reviews)
    register_log_check(in_person_reviews)  # registering twice runs it once
    try:
        assert list(_log_checks).count(in_person_reviews) == 1
        with pytest.raises(HumanTouchRefusal, match="in person"):
            log_touchpoint(tp, actual_mode=Mode.CHAT, actor=org.user(org.manager))
        assert tp.status is TouchpointStatus.PLANNED and tp.sequence == 0
        log_touchpoint(tp, actual_mode=Mode.VIDEO, actor=org.user(org.hr),
                       justification="The employee works abroad this quarter.")
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "touchpoint.logged"))
        assert entry.justification == "The employee works abroad this quarter."
    finally:
        _log_checks.remove(in_person_reviews)


def test_agenda_items_are_shared_and_private_notes_are_not(org):
    tp = make_touchpoint(org, due_in=timedelta(days=2))
    manager, employee = org.user(org.manager), org.user(org.employee)
    mine = add_agenda_item(tp, actor=employee, text="Conference budget")
    add_agenda_item(tp, actor=manager, text="Feedback on the design review")
    with pytest.raises(NotAllowed):
        add_agenda_item(tp, actor=org.user(org.colleague), text="Gossip")
    with pytest.raises(JourneyValidationError):
        add_agenda_item(tp, actor=employee, text="   ")
    db.session.commit()
    assert [i.text for i in tp.agenda_items] == ["Conference budget", "Feedback on the design review"]
    with pytest.raises(NotAllowed):
        remove_agenda_item(mine, actor=manager)
    remove_agenda_item(mine, actor=employee)

    save_private_note(tp, actor=manager, body="Ask about the move.")
    save_private_note(tp, actor=employee, body="Mention the on-call rota.")
    save_private_note(tp, actor=manager, body="Ask about the move. And the rota.")
    db.session.commit()
    assert private_note_for(tp.id, org.manager.id).body == "Ask about the move. And the rota."
    assert private_note_for(tp.id, org.employee.id).body == "Mention the on-call rota."
    assert db.session.scalar(select(db.func.count()).select_from(PrivateNote)) == 2
    with pytest.raises(NotAllowed):
        save_private_note(tp, actor=org.user(org.colleague), body="Nosy")

    log_touchpoint(tp, actual_mode=Mode.IN_PERSON, happened_at=utcnow(), actor=manager)
    with pytest.raises(TouchpointActionError, match="agenda closes"):
        add_agenda_item(tp, actor=employee, text="Too late")


def test_planning_an_ad_hoc_touchpoint(org):
    due = datetime(2031, 5, 6, 10, tzinfo=UTC)
    tp = plan_touchpoint(org.employee, kind="coffee_chat", title="Coffee", planned_mode="in_person",
                         due_at=due, owner=None, actor=org.user(org.manager))
    assert tp.enrolment_id is None and tp.owner_id == org.manager.id
    assert tp.status is TouchpointStatus.SCHEDULED
    with pytest.raises(NotAllowed):
        plan_touchpoint(org.manager, kind="coffee_chat", title="Coffee", planned_mode="video",
                        due_at=due, owner=None, actor=org.user(org.colleague))
    with pytest.raises(JourneyValidationError) as error:
        plan_touchpoint(org.employee, kind="nap", title="", planned_mode="telepathy", due_at=due,
                        owner=None, actor=org.user(org.manager))
    assert set(error.value.errors) == {"kind", "title", "planned_mode"}
