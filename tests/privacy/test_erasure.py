"""Erasure: a departed person's name and email are gone from every table; figures and grievances stay."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from tests.privacy.conftest import mark_departed
from touchpoints.audit.models import AuditEntry
from touchpoints.auth.models import LoginAttempt, PasswordResetToken, User
from touchpoints.extensions import db
from touchpoints.journeys.models import AgendaItem, PrivateNote, Touchpoint
from touchpoints.nudges.models import DeliveryProfile, Nudge
from touchpoints.people.models import Employee
from touchpoints.privacy.erasure import (
    ErasureConfirmationError,
    ErasureRefused,
    erase_person,
    pseudonym,
    pseudonymous_email,
)
from touchpoints.privacy.rows import text_columns
from touchpoints.surveys.models import SurveyAnswer, SurveyInvitation, SurveyParticipation, SurveyResultCell


def occurrences(*needles: str) -> list[str]:
    """Every (table, column, key) whose text or JSON holds one of the needles, whatever the case.

    Generic over the metadata: a table a capability adds later is scanned without changing this test.
    """
    found = []
    lowered = [n.lower() for n in needles]
    for table in db.metadata.sorted_tables:
        columns = text_columns(table)
        if not columns:
            continue
        keys = list(table.primary_key.columns)
        for row in db.session.execute(select(*keys, *columns)).all():
            for index, column in enumerate(columns):
                value = row[len(keys) + index]
                if value is None:
                    continue
                text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                if any(n in text.lower() for n in lowered):
                    found.append(f"{table.name}.{column.name} (key {tuple(row[:len(keys)])}): {text[:120]}")
    return found


def hr_user(life) -> User:
    return life.user(life.hr)


def test_erasure_leaves_their_name_and_email_in_no_table(life):
    assert occurrences(life.name, life.email)  # the scan finds them before
    mark_departed(life.subject)
    erase_person(life.subject, actor=hr_user(life), typed_name="Zoë Müller")
    db.session.commit()
    assert occurrences(life.name, life.email) == []
    # The colleague's data is untouched.
    assert occurrences("Carl Colleague") and occurrences("carl@example.com")


def test_erasure_removes_notes_messages_login_and_settings(life):
    mark_departed(life.subject)
    person_id = life.subject.id
    survey_answers = db.session.scalar(select(func.count()).select_from(SurveyAnswer))
    erase_person(life.subject, actor=hr_user(life), typed_name="zoë müller ")  # case and spaces forgiven
    db.session.commit()
    db.session.expire_all()
    assert db.session.scalar(select(User).where(User.employee_id == person_id)) is None
    assert db.session.scalar(select(func.count()).select_from(LoginAttempt)
                             .where(LoginAttempt.email_key == life.email)) == 0
    assert db.session.scalar(select(func.count()).select_from(PasswordResetToken)) == 1  # Carl's only
    assert db.session.get(DeliveryProfile, person_id) is None
    notes = db.session.scalars(select(PrivateNote.body)).all()
    assert not any(n.startswith("ZOE") and "grievance" not in n for n in notes)
    assert "ZOE HR grievance note" in notes  # grievance records follow their own retention
    theirs = sa.or_(Nudge.recipient_id == person_id, Nudge.touchpoint_id == life.touchpoint_id)
    messages = db.session.scalars(select(Nudge).where(theirs)).all()
    assert all(n.payload == {} and n.last_error == "" for n in messages)
    assert db.session.scalar(select(func.count()).select_from(AgendaItem)
                             .where(AgendaItem.touchpoint_id == life.touchpoint_id)) == 0
    assert db.session.scalar(select(func.count()).select_from(SurveyInvitation)
                             .where(SurveyInvitation.employee_id == person_id)) == 0
    assert db.session.scalar(select(func.count()).select_from(SurveyParticipation)
                             .where(SurveyParticipation.employee_id == person_id)) == 0
    # Anonymous answers and aggregates stay.
    assert db.session.scalar(select(func.count()).select_from(SurveyAnswer)) == survey_answers
    assert db.session.scalar(select(func.count()).select_from(SurveyResultCell)) == 1
    employee = db.session.get(Employee, person_id)
    assert (employee.full_name, employee.email) == (pseudonym(person_id), pseudonymous_email(person_id))
    assert employee.job_title == "" and employee.location == "" and employee.slack_user_id is None
    # What made up the figures stays, under the pseudonym.
    assert db.session.get(Touchpoint, life.touchpoint_id).confirmation_comment == ""
    assert db.session.get(Touchpoint, life.grievance_id) is not None


def test_erasure_is_in_the_audit_log_without_the_name(life):
    mark_departed(life.subject)
    erase_person(life.subject, actor=hr_user(life), typed_name="Zoë Müller")
    db.session.commit()
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "person.erased"))
    assert entry.subject_id == life.subject.id and entry.actor_id == hr_user(life).id
    assert entry.summary == f"Erased the personal data of {pseudonym(life.subject.id)}"
    assert entry.after["removed"]["private_notes"] == 2 and entry.after["removed"]["sign_in"] == 1
    # Earlier entries about them keep what changed, not who they were.
    updated = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "employee.updated",
                                                         AuditEntry.subject_id == life.subject.id))
    assert updated.after["job_title"] == "[erased]" and updated.after["location"] == "[erased]"


def test_only_people_who_have_left_can_be_erased(life):
    with pytest.raises(ErasureRefused, match="Only people who have left"):
        erase_person(life.subject, actor=hr_user(life), typed_name="Zoë Müller")


def test_the_typed_name_must_match(life):
    mark_departed(life.subject)
    with pytest.raises(ErasureConfirmationError) as raised:
        erase_person(life.subject, actor=hr_user(life), typed_name="Zoe Muller")
    assert "confirm_name" in raised.value.errors
    db.session.rollback()
    assert db.session.get(Employee, life.subject.id).full_name == "Zoë Müller"


def test_an_erased_record_cannot_be_erased_twice(life):
    mark_departed(life.subject)
    erase_person(life.subject, actor=hr_user(life), typed_name="Zoë Müller")
    db.session.commit()
    with pytest.raises(ErasureRefused, match="already been erased"):
        erase_person(life.subject, actor=hr_user(life), typed_name=pseudonym(life.subject.id))


def test_erasure_removes_the_coffee_opt_in_and_notes_on_ended_pairs_but_keeps_the_pairs(life):
    from datetime import date

    from touchpoints.coffee.models import CoffeeParticipant
    from touchpoints.coffee.services import save_participation
    from touchpoints.journeys.models import SupportKind
    from touchpoints.programmes.models import MatchStatus, Programme, ProgrammeMatch

    save_participation(life.subject, taking_part=True, frequency_weeks=2, actor=life.user(life.subject))
    programme = Programme(key="buddies", name="Buddies", kind=SupportKind.BUDDY, journey_key="buddy")
    db.session.add(programme)
    db.session.flush()
    pair = ProgrammeMatch(programme_id=programme.id, employee_id=life.hr.id, partner_id=life.subject.id,
                          started_on=date(2026, 1, 5), ended_on=date(2026, 3, 2), status=MatchStatus.ENDED,
                          end_note="ZOE has a new role; thank you for everything")
    db.session.add(pair)
    db.session.commit()
    mark_departed(life.subject)
    report = erase_person(life.subject, actor=hr_user(life), typed_name="Zoë Müller")
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(CoffeeParticipant, life.subject.id) is None
    assert db.session.get(ProgrammeMatch, pair.id).end_note == ""
    assert (report.counts["coffee_opt_in"], report.counts["programme_pair_notes"]) == (1, 1)
