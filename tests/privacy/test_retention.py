"""The nightly retention job: grievance records two years after exit, old uploads and reset links."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from tests.privacy.conftest import mark_departed
from touchpoints.audit.models import AuditEntry
from touchpoints.audit.services import record
from touchpoints.auth.models import PasswordResetToken
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.models import PrivateNote, Touchpoint
from touchpoints.nudges.models import Nudge
from touchpoints.people.models import ImportBatch
from touchpoints.privacy.retention import run_retention
from touchpoints.scheduling.scheduler import job_specs


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_grievance_records_go_two_years_after_exit_with_everything_about_them(life):
    mark_departed(life.subject, exit_on=date.today() - timedelta(days=2 * 365 + 10))
    mark_departed(life.colleague, exit_on=date.today() - timedelta(days=365))
    record("touchpoint.logged", "touchpoint", life.grievance_id, actor_id=None, summary="Logged the meeting")
    db.session.commit()
    done = run_retention()
    assert done["grievances"] == 1
    assert db.session.get(Touchpoint, life.grievance_id) is None
    assert count(PrivateNote, PrivateNote.body == "ZOE HR grievance note") == 0
    assert count(AuditEntry, AuditEntry.subject_type == "touchpoint",
                 AuditEntry.subject_id == life.grievance_id) == 0
    # Their other touchpoints stay (the figures), and the colleague's grievance is within its period.
    assert db.session.get(Touchpoint, life.touchpoint_id) is not None
    assert count(PrivateNote, PrivateNote.body == "CARL HR grievance note") == 1
    # Running again finds nothing more: the job is idempotent.
    assert run_retention()["grievances"] == 0


def test_people_still_here_keep_their_grievance_records(life):
    assert run_retention(utcnow() + timedelta(days=5 * 365))["grievances"] == 0
    assert db.session.get(Touchpoint, life.grievance_id) is not None


def test_old_uploads_and_expired_reset_links_are_deleted(life):
    old = utcnow() - timedelta(days=31)
    db.session.execute(ImportBatch.__table__.update().where(ImportBatch.content.contains("zoe")).values(created_at=old))
    db.session.execute(PasswordResetToken.__table__.update().values(expires_at=old))
    db.session.commit()
    done = run_retention()
    assert done["import_uploads"] == 1 and count(ImportBatch) == 1
    assert done["reset_links"] == 2 and count(PasswordResetToken) == 0


def test_nudges_about_a_purged_grievance_go_with_it(life):
    from touchpoints.nudges.models import DeliveryChannel, NudgeKind

    db.session.add(Nudge(dedup_key="escalation:grievance", kind=NudgeKind.ESCALATION, recipient_id=life.hr.id,
                         touchpoint_id=life.grievance_id, channel=DeliveryChannel.IN_APP, payload={},
                         next_attempt_at=utcnow()))
    mark_departed(life.subject, exit_on=date.today() - timedelta(days=800))
    run_retention()
    assert count(Nudge, Nudge.touchpoint_id == life.grievance_id) == 0


def test_the_scheduler_runs_it_every_night():
    spec = job_specs()["privacy-retention"]
    assert spec.func is run_retention and spec.seconds == 24 * 3600
