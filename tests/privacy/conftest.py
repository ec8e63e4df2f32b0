"""A person with a whole working life in Touchpoints, and a colleague with one beside them.

Every kind of data the product holds about someone is made through the real services where they
exist (people, journeys, API tokens, reset links, sign-in attempts), so the export and erasure tests
see what production would hold. Each piece of free text carries a marker naming whose it is.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.factories import make_employee, make_hr, make_manager, make_team
from touchpoints.api.services import issue_token
from touchpoints.audit.services import record
from touchpoints.auth.models import LoginAttempt, User
from touchpoints.auth.services import issue_password_reset
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.models import (
    AgendaItem,
    LifecycleEvent,
    LifecycleEventKind,
    Mode,
    OwnerRole,
    PrivateNote,
    SupportAssignment,
    SupportKind,
    Touchpoint,
    TouchpointKind,
    TouchpointStatus,
)
from touchpoints.nudges.models import DeliveryChannel, DeliveryProfile, Nudge, NudgeKind, NudgeStatus
from touchpoints.people.models import Employee, ImportBatch, LifecycleStatus
from touchpoints.people.services import update_employee
from touchpoints.surveys.models import (
    Survey,
    SurveyAnswer,
    SurveyInvitation,
    SurveyParticipation,
    SurveyQuestion,
    SurveyResponse,
    SurveyResultCell,
    SurveyRound,
    SurveyVersion,
)


@dataclass
class Life:
    """The people, and the rows that make up the subject's data (ids, for checks after changes)."""

    hr: Employee
    manager: Employee
    subject: Employee
    colleague: Employee
    name: str
    email: str
    touchpoint_id: int
    grievance_id: int
    round_id: int

    def user(self, person: Employee) -> User | None:
        return db.session.scalar(select(User).where(User.employee_id == person.id))


def _touchpoint(employee, owner, *, days: int, kind=TouchpointKind.ONE_ON_ONE, title: str,
                done: bool = False) -> Touchpoint:
    due = utcnow() + timedelta(days=days)
    tp = Touchpoint(employee_id=employee.id, owner_id=owner.id, kind=kind, title=title,
                    planned_mode=Mode.IN_PERSON, owner_role=OwnerRole.MANAGER, due_at=due,
                    status=TouchpointStatus.PLANNED)
    if done:
        tp.status, tp.actual_mode, tp.happened_at = TouchpointStatus.DONE, Mode.IN_PERSON, due
        tp.logged_by_id = owner.id
    db.session.add(tp)
    db.session.flush()
    return tp


def give_a_working_life(person: Employee, *, manager: Employee, hr: Employee, marker: str,
                        round_: SurveyRound) -> tuple[Touchpoint, Touchpoint]:
    """Touchpoints, agendas, notes, events, buddies, messages, survey rows, sign-in and audit of a person."""
    hr_user = db.session.scalar(select(User).where(User.employee_id == hr.id))
    user = db.session.scalar(select(User).where(User.employee_id == person.id))
    talk = _touchpoint(person, manager, days=-10, title=f"{marker} one-on-one", done=True)
    talk.confirmation_comment = f"{marker} confirmation comment"
    grievance = _touchpoint(person, hr, days=-20, kind=TouchpointKind.GRIEVANCE_MEETING,
                            title=f"{marker} grievance meeting", done=True)
    db.session.add_all([
        AgendaItem(touchpoint_id=talk.id, author_id=person.id, text=f"{marker} own talking point"),
        AgendaItem(touchpoint_id=talk.id, author_id=manager.id, text=f"{marker} manager's talking point"),
        PrivateNote(touchpoint_id=talk.id, author_id=person.id, body=f"{marker} own private note"),
        PrivateNote(touchpoint_id=talk.id, author_id=manager.id, body=f"{marker} manager's private note"),
        PrivateNote(touchpoint_id=grievance.id, author_id=hr.id, body=f"{marker} HR grievance note"),
        LifecycleEvent(employee_id=person.id, kind=LifecycleEventKind.START, effective_on=date(2024, 1, 8),
                       details={"note": f"{marker} started"}),
        SupportAssignment(employee_id=person.id, kind=SupportKind.BUDDY, partner_id=manager.id,
                          started_on=date(2024, 1, 8)),
        Nudge(dedup_key=f"reminder:{person.id}", kind=NudgeKind.CONFIRMATION, recipient_id=person.id,
              touchpoint_id=talk.id, channel=DeliveryChannel.SLACK, status=NudgeStatus.SENT,
              payload={"headline": f"{marker} message to {person.full_name}"}, next_attempt_at=utcnow(),
              last_error=f"{marker} delivery error"),
        Nudge(dedup_key=f"reminder-about:{person.id}", kind=NudgeKind.REMINDER, recipient_id=manager.id,
              touchpoint_id=talk.id, channel=DeliveryChannel.EMAIL, status=NudgeStatus.SENT,
              payload={"with": person.full_name, "email": person.email}, next_attempt_at=utcnow()),
        DeliveryProfile(employee_id=person.id, daily_digest=True,
                        teams_webhook_url=f"https://example.invalid/{marker}-webhook",
                        calendar_token=f"{marker}-calendar-secret"),
        SurveyInvitation(round_id=round_.id, employee_id=person.id),
        SurveyParticipation(round_id=round_.id, employee_id=person.id, responded_on=date.today()),
        LoginAttempt(email_key=person.email.lower(), address="192.0.2.7", succeeded=False),
        ImportBatch(uploaded_by_id=hr_user.id, filename="people.csv",
                    content=f"email,name\n{person.email},{person.full_name}\n"),
    ])
    # An anonymous answer that mentions them by name: kept as an answer, scrubbed of the name.
    response = SurveyResponse(round_id=round_.id, team_id=None)
    db.session.add(response)
    db.session.flush()
    question = round_.version.questions[0]
    db.session.add(SurveyAnswer(response_id=response.id, question_id=question.id,
                                text=f"{marker} answer: thanks to {person.full_name}"))
    update_employee(person, {"job_title": f"{marker} engineer", "location": "Lisbon"}, actor_id=hr_user.id)
    record("policy.overridden", "policy", None, actor_id=hr_user.id,
           summary=f"Overrode a policy for {person.full_name} ({person.email})",
           justification=f"{person.full_name} asked for a video call")
    issue_token(user, f"{marker} token", created_by=hr_user)
    issue_password_reset(user, issued_by=hr_user)
    db.session.commit()
    return talk, grievance


@pytest.fixture
def life(app) -> Life:
    """Zoë Müller (the subject, now alumna) and Carl Colleague, both with a full history."""
    hr = make_hr("Hana HR")
    team = make_team("Platform", hr_partner=hr)
    manager = make_manager("Mia Manager", team=team)
    subject = make_employee("Zoë Müller", manager=manager, team=team, email="zoe.muller@example.com",
                            slack_user_id="U0ZOE", quiet_hours_start=None)
    colleague = make_employee("Carl Colleague", manager=manager, team=team, email="carl@example.com")
    survey = Survey(title="Connection pulse")
    version = SurveyVersion(survey=survey, number=1)
    version.questions.append(SurveyQuestion(key="comment", kind="short_text", prompt="Anything else?"))
    round_ = SurveyRound(survey=survey, version=version, sequence=1, status="closed",
                         opens_at=utcnow() - timedelta(days=30), closes_at=utcnow() - timedelta(days=23),
                         invited_count=2)
    db.session.add_all([survey, version, round_])
    db.session.flush()
    db.session.add(SurveyResultCell(round_id=round_.id, team="*", stage="*", tenure="*", pattern="",
                                    invited=2, respondents=2, stats={"n": 2}))
    talk, grievance = give_a_working_life(subject, manager=manager, hr=hr, marker="ZOE", round_=round_)
    give_a_working_life(colleague, manager=manager, hr=hr, marker="CARL", round_=round_)
    return Life(hr, manager, subject, colleague, "Zoë Müller", "zoe.muller@example.com", talk.id,
                grievance.id, round_.id)


def mark_departed(person: Employee, *, exit_on: date | None = None) -> None:
    """Record that the person left (alumni) and switch off their sign-in."""
    person.status = LifecycleStatus.ALUMNI
    person.exit_date = exit_on or date.today() - timedelta(days=30)
    person.deactivated_at = utcnow()
    db.session.commit()
