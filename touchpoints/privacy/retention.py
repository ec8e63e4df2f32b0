"""How long personal data is kept, and the nightly job that deletes what has run out.

The periods are documented on the privacy page and in the README from RULES below, so what
people read is what the job does. Each can be changed in the configuration (days).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, select

from touchpoints.audit.models import AuditEntry
from touchpoints.auth.models import PasswordResetToken
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.models import Touchpoint, TouchpointKind
from touchpoints.people.models import Employee, ImportBatch
from touchpoints.privacy.rows import delete_rows

GRIEVANCE_KINDS = (TouchpointKind.GRIEVANCE_MEETING,)


@dataclass(frozen=True)
class RetentionRule:
    """One kind of record, how long it is kept and what happens then."""

    key: str
    what: str
    kept: str
    config_key: str
    default_days: int

    def days(self) -> int:
        """The configured period in days (the default unless the configuration says otherwise)."""
        return int(current_app.config.get(self.config_key, self.default_days))


GRIEVANCES = RetentionRule(
    "grievances", "Grievance records: grievance meetings, their agendas and notes, overrides and "
    "messages about them", "two years after the person's exit date, then deleted",
    "RETENTION_GRIEVANCE_DAYS", 730)
IMPORT_UPLOADS = RetentionRule(
    "import_uploads", "Uploaded people CSV files (as uploaded, before and after import)",
    "30 days after upload, then deleted", "RETENTION_IMPORT_DAYS", 30)
RESET_LINKS = RetentionRule(
    "reset_links", "Password reset links (only their hash is ever stored)",
    "30 days after they expire, then deleted", "RETENTION_RESET_LINK_DAYS", 30)
RULES = (GRIEVANCES, IMPORT_UPLOADS, RESET_LINKS)

# Kept for documentation beside RULES: periods other capabilities enforce with their own jobs.
OTHER_PERIODS = (
    ("Sign-in attempts (email and address, for throttling)", "one day, then deleted by the hourly "
     "sign-in job"),
    ("A departed person's record", "until an HR partner erases it: then names, contact details and "
     "private notes go, and what remains is kept under a pseudonym for the company's figures"),
    ("Pulse survey answers", "kept without any name, so they are never personal data; only groups of "
     "five or more are ever shown"),
)


def purge_grievances(now: datetime, days: int) -> int:
    """Delete grievance meetings of people who left more than `days` ago; returns how many.

    Their agenda items, private notes, policy overrides and nudges go with them (the database
    cascades), and so do the audit entries about those touchpoints.
    """
    cutoff = (now - timedelta(days=days)).date()
    ids = list(db.session.scalars(
        select(Touchpoint.id).join(Employee, Employee.id == Touchpoint.employee_id)
        .where(Touchpoint.kind.in_(GRIEVANCE_KINDS), Employee.exit_date.is_not(None),
               Employee.exit_date < cutoff)))
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        delete_rows(AuditEntry.__table__, and_(AuditEntry.subject_type == "touchpoint",
                                               AuditEntry.subject_id.in_(chunk)))
        delete_rows(Touchpoint.__table__, Touchpoint.id.in_(chunk))
    return len(ids)


def purge_import_uploads(now: datetime, days: int) -> int:
    """Delete uploaded CSV files older than `days`."""
    return delete_rows(ImportBatch.__table__, ImportBatch.created_at < now - timedelta(days=days))


def purge_reset_links(now: datetime, days: int) -> int:
    """Delete password reset links that expired more than `days` ago."""
    expired = PasswordResetToken.expires_at < now - timedelta(days=days)
    return delete_rows(PasswordResetToken.__table__, expired)


def run_retention(now: datetime | None = None) -> dict[str, int]:
    """The nightly job: delete what has outlived its retention period. Idempotent; commits."""
    now = now or utcnow()
    try:
        done = {
            GRIEVANCES.key: purge_grievances(now, GRIEVANCES.days()),
            IMPORT_UPLOADS.key: purge_import_uploads(now, IMPORT_UPLOADS.days()),
            RESET_LINKS.key: purge_reset_links(now, RESET_LINKS.days()),
        }
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return done
