"""Recording to the audit log; callers commit with the change they record."""
from __future__ import annotations

from typing import Any

from touchpoints.audit.models import AuditEntry
from touchpoints.extensions import db


def record(
    action: str,
    subject_type: str,
    subject_id: int | None,
    *,
    actor_id: int | None,
    summary: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    justification: str | None = None,
) -> AuditEntry:
    """Add an audit entry to the current transaction."""
    entry = AuditEntry(
        action=action, subject_type=subject_type, subject_id=subject_id, actor_id=actor_id,
        summary=summary, before=before, after=after, justification=justification,
    )
    db.session.add(entry)
    return entry
