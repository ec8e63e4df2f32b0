"""Delivery choices kept as audit entries until the delivery tables have columns for them.

A person's calendar invitations by email and a team's weekly digest in Teams are on/off choices
that arrived after the nudges tables were released. Each change is an audit entry (who, when, from
what to what); the latest entry about a person or team is the choice in force. One query reads
the choices of any number of people or teams.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from touchpoints.audit.models import AuditEntry
from touchpoints.audit.services import record
from touchpoints.extensions import db


def choices(action: str, subject_type: str, key: str, ids: Iterable[int]) -> dict[int, bool]:
    """The latest recorded value of one choice for each of these subjects that ever set it."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = db.session.execute(
        select(AuditEntry.subject_id, AuditEntry.after)
        .where(
            AuditEntry.action == action,
            AuditEntry.subject_type == subject_type,
            AuditEntry.subject_id.in_(wanted),
        )
        .order_by(AuditEntry.id)
    ).all()
    latest: dict[int, bool] = {}
    for subject_id, after in rows:
        if isinstance(after, dict) and key in after:
            latest[subject_id] = bool(after[key])
    return latest


def set_choice(
    action: str, subject_type: str, key: str, subject_id: int, value: bool, *, default: bool,
    actor_id: int | None, summary: str,
) -> bool:
    """Record a new value of a choice; False when it already had it. The caller commits."""
    current = choices(action, subject_type, key, [subject_id]).get(subject_id, default)
    if current == value:
        return False
    record(action, subject_type, subject_id, actor_id=actor_id, summary=summary,
           before={key: current}, after={key: value})
    return True


# ---------------------------------------------------------------- a team's digest in Teams

TEAMS_DIGEST_ACTION = "nudges.team_teams_digest"


def teams_digest_teams(team_ids: Iterable[int]) -> set[int]:
    """Which of these teams want the weekly digest in their Teams channel (off unless turned on)."""
    found = choices(TEAMS_DIGEST_ACTION, "team", "teams_digest", team_ids)
    return {team_id for team_id, on in found.items() if on}


def set_teams_digest(team_id: int, on: bool, *, actor_id: int | None) -> bool:
    """Turn a team's weekly digest in Teams on or off; False when nothing changed. Caller commits."""
    return set_choice(
        TEAMS_DIGEST_ACTION, "team", "teams_digest", team_id, on, default=False, actor_id=actor_id,
        summary=f"Weekly team digest in Teams turned {'on' if on else 'off'}",
    )
