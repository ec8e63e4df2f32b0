"""On/off delivery choices: a person's calendar invitations by email, a team's digest in Teams.

Each change is also an audit entry (who, when, from what to what), as HR expects of settings that
decide who is told what.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from touchpoints.audit.services import record
from touchpoints.extensions import db
from touchpoints.nudges.models import DeliveryProfile, TeamChannel
from touchpoints.nudges.services import profile_for


def invites_turned_off(employee_ids: Iterable[int]) -> set[int]:
    """Which of these people turned calendar invitations off (one query)."""
    wanted = sorted(set(employee_ids))
    if not wanted:
        return set()
    return set(db.session.scalars(select(DeliveryProfile.employee_id).where(
        DeliveryProfile.employee_id.in_(wanted), DeliveryProfile.calendar_invites.is_(False))))


def set_invites(employee_id: int, wanted: bool, *, actor_id: int | None) -> bool:
    """Turn a person's calendar invitations on or off; False when nothing changed. Caller commits."""
    profile = profile_for(employee_id)
    if profile.calendar_invites == wanted:
        return False
    profile.calendar_invites = wanted
    record("nudges.calendar_invites", "employee", employee_id, actor_id=actor_id,
           summary=f"Calendar invitations by email turned {'on' if wanted else 'off'}",
           before={"calendar_invites": not wanted}, after={"calendar_invites": wanted})
    return True


def set_teams_digest(team_id: int, on: bool, *, actor_id: int | None) -> bool:
    """Turn a team's weekly digest in Teams on or off; False when nothing changed. Caller commits."""
    channel = db.session.get(TeamChannel, team_id)
    if channel is None:
        channel = TeamChannel(team_id=team_id)
        db.session.add(channel)
    if channel.teams_digest == on:
        return False
    channel.teams_digest = on
    record("nudges.team_teams_digest", "team", team_id, actor_id=actor_id,
           summary=f"Weekly team digest in Teams turned {'on' if on else 'off'}",
           before={"teams_digest": not on}, after={"teams_digest": on})
    return True
