"""Erasing a departed person's personal data, at an HR partner's request, with an audit entry.

What goes: name and contact details (replaced by a pseudonym everywhere they appear, also in text
others typed), job title, location and chat identities, every private note they wrote and every
private note written about them, their comments on confirmations, the content of messages to them
or about their touchpoints, their delivery settings, their sign-in (with roles, API tokens and
reset links), sign-in attempts with their email, their survey invitations and participation, their
coffee pairing opt-in and the notes left when their buddy or mentor pairs ended, and uploaded CSV
files that list them. Personal values in audit entries about them are replaced.

What stays, under the pseudonym: the touchpoints and lifecycle dates that make up the company's
figures (compliance trends, journey maps), anonymous survey answers and aggregates (they never
carried a name), and grievance records, which follow their own retention (privacy.retention).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, update

from touchpoints.audit.models import AuditEntry
from touchpoints.audit.services import record
from touchpoints.auth.models import LoginAttempt, User
from touchpoints.coffee.models import CoffeeParticipant
from touchpoints.extensions import db
from touchpoints.journeys.models import AgendaItem, PrivateNote, Touchpoint
from touchpoints.nudges.models import DeliveryProfile, Nudge
from touchpoints.people.models import Channel, Employee, ImportBatch, LifecycleStatus
from touchpoints.privacy.retention import GRIEVANCE_KINDS
from touchpoints.privacy.rows import delete_rows, scrub_text
from touchpoints.programmes.models import ProgrammeMatch
from touchpoints.surveys.models import SurveyInvitation, SurveyParticipation

ERASED_DOMAIN = "erased.invalid"
ERASED_ACTION = "person.erased"
# Audit values that say nothing about who the person was, kept so history still adds up.
KEPT_AUDIT_KEYS = frozenset({"status", "team_id", "manager_id", "hire_date", "start_date", "exit_date",
                             "roles", "work_days", "country_code"})
ERASED_VALUE = "[erased]"


class ErasureRefused(Exception):
    """This person's data cannot be erased (still working here, or already erased)."""


class ErasureConfirmationError(ValueError):
    """The confirmation does not match; `errors` names the field and why."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def pseudonym(employee_id: int) -> str:
    """The name a person's record carries after erasure."""
    return f"Former employee {employee_id}"


def pseudonymous_email(employee_id: int) -> str:
    return f"erased-{employee_id}@{ERASED_DOMAIN}"


def is_erased(employee: Employee) -> bool:
    """Whether this record was already erased (its email is the pseudonymous one)."""
    return employee.email.lower().endswith("@" + ERASED_DOMAIN)


def has_left(employee: Employee) -> bool:
    """Alumni, or people whose sign-in HR switched off: those whose data may be erased."""
    return employee.status is LifecycleStatus.ALUMNI or employee.deactivated_at is not None


def refusal(employee: Employee) -> str | None:
    """Why this person's data cannot be erased now, in words; None when it can."""
    if is_erased(employee):
        return "This person's personal data has already been erased."
    if not has_left(employee):
        return ("Only people who have left can be erased. Record their exit (alumni) or switch off "
                "their sign-in first.")
    return None


def departed_query():
    """People whose personal data could be erased, newest exit first."""
    return (select(Employee).where(or_(Employee.status == LifecycleStatus.ALUMNI,
                                       Employee.deactivated_at.is_not(None)),
                                   ~Employee.email.endswith("@" + ERASED_DOMAIN))
            .order_by(Employee.exit_date.desc().nulls_last(), Employee.full_name))


@dataclass
class ErasureReport:
    """What an erasure removed or replaced, by kind (for the audit entry and the confirmation)."""

    employee_id: int
    counts: dict[str, int] = field(default_factory=dict)
    scrubbed: dict[str, int] = field(default_factory=dict)


def _scrub_audit_values(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if not values:
        return values
    return {k: (v if k in KEPT_AUDIT_KEYS or v in (None, "") else ERASED_VALUE) for k, v in values.items()}


def erase_person(employee: Employee, *, actor, typed_name: str) -> ErasureReport:
    """Erase a departed person's personal data (see the module's docstring); the caller commits.

    The HR partner confirms by typing the person's full name; the audit entry names only the
    pseudonym, so the log itself does not keep what was erased.
    """
    reason = refusal(employee)
    if reason:
        raise ErasureRefused(reason)
    if (typed_name or "").strip().casefold() != employee.full_name.strip().casefold():
        raise ErasureConfirmationError({"confirm_name": "Type their full name exactly as shown above, "
                                                        "to confirm this is the person you mean."})
    person_id, name, email = employee.id, employee.full_name, employee.email
    report = ErasureReport(person_id)
    counts = report.counts
    theirs = select(Touchpoint.id).where(Touchpoint.employee_id == person_id)
    not_grievance = select(Touchpoint.id).where(Touchpoint.employee_id == person_id,
                                                Touchpoint.kind.not_in(GRIEVANCE_KINDS))

    # Private notes they wrote anywhere, and others' notes about them (grievances keep theirs: retention).
    counts["private_notes"] = delete_rows(PrivateNote.__table__, or_(
        PrivateNote.author_id == person_id, PrivateNote.touchpoint_id.in_(not_grievance)))
    counts["agenda_items"] = delete_rows(AgendaItem.__table__, AgendaItem.touchpoint_id.in_(not_grievance))
    db.session.execute(update(Touchpoint).where(Touchpoint.employee_id == person_id)
                       .values(confirmation_comment="").execution_options(synchronize_session=False))
    # Message bodies to them, or about their touchpoints; the rows stay for delivery figures.
    counts["messages"] = db.session.execute(
        update(Nudge).where(or_(Nudge.recipient_id == person_id, Nudge.touchpoint_id.in_(theirs)))
        .values(payload={}, last_error="", external_ref=None)
        .execution_options(synchronize_session=False)).rowcount or 0
    counts["delivery_settings"] = delete_rows(DeliveryProfile.__table__,
                                              DeliveryProfile.employee_id == person_id)
    counts["survey_invitations"] = delete_rows(SurveyInvitation.__table__,
                                               SurveyInvitation.employee_id == person_id)
    counts["survey_participation"] = delete_rows(SurveyParticipation.__table__,
                                                 SurveyParticipation.employee_id == person_id)
    # Connection programmes: the coffee opt-in goes; pairs stay (under the pseudonym) for the
    # programmes' figures, but not the notes written when a pair ended.
    counts["coffee_opt_in"] = delete_rows(CoffeeParticipant.__table__,
                                          CoffeeParticipant.employee_id == person_id)
    counts["programme_pair_notes"] = db.session.execute(
        update(ProgrammeMatch).where(
            or_(ProgrammeMatch.employee_id == person_id, ProgrammeMatch.partner_id == person_id),
            ProgrammeMatch.end_note != "")
        .values(end_note="").execution_options(synchronize_session=False)).rowcount or 0
    counts["sign_in"] = delete_rows(User.__table__, User.employee_id == person_id)
    counts["sign_in_attempts"] = delete_rows(LoginAttempt.__table__,
                                             LoginAttempt.email_key == func.lower(email))
    listed = func.lower(ImportBatch.content).contains(email.lower(), autoescape=True)
    counts["import_files"] = delete_rows(ImportBatch.__table__, listed)

    # Audit entries about them keep what happened and when, not who they were.
    entries = db.session.scalars(select(AuditEntry).where(or_(
        and_(AuditEntry.subject_type == "employee", AuditEntry.subject_id == person_id),
        and_(AuditEntry.subject_type == "touchpoint", AuditEntry.subject_id.in_(theirs)))))
    for entry in entries:
        entry.before, entry.after = _scrub_audit_values(entry.before), _scrub_audit_values(entry.after)
    counts["audit_entries"] = db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.subject_type == "employee", AuditEntry.subject_id == person_id)) or 0

    employee.full_name, employee.email = pseudonym(person_id), pseudonymous_email(person_id)
    employee.job_title, employee.location, employee.slack_user_id = "", "", None
    employee.quiet_hours_start = employee.quiet_hours_end = None
    employee.preferred_channel = Channel.IN_APP
    db.session.flush()
    # Whatever anyone typed: their full name and email, in any table's text, become the pseudonym.
    report.scrubbed = scrub_text({name: pseudonym(person_id), email: pseudonymous_email(person_id)})
    record(ERASED_ACTION, "employee", person_id, actor_id=actor.id,
           summary=f"Erased the personal data of {pseudonym(person_id)}",
           after={"removed": counts, "replaced_in": report.scrubbed})
    return report


def erased_ids(employee_ids: list[int]) -> set[int]:
    """Which of these people were erased (by the audit log), in one query."""
    if not employee_ids:
        return set()
    return set(db.session.scalars(select(AuditEntry.subject_id).where(
        AuditEntry.action == ERASED_ACTION, AuditEntry.subject_type == "employee",
        AuditEntry.subject_id.in_(employee_ids))))


def has_erasure_record(employee_id: int) -> bool:
    """Whether the audit log holds an erasure of this person."""
    return bool(db.session.scalar(select(exists().where(
        AuditEntry.action == ERASED_ACTION, AuditEntry.subject_type == "employee",
        AuditEntry.subject_id == employee_id))))
