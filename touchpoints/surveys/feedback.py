"""The feedback loop: a team whose connection score falls gets a live conversation, not a form.

When a round closes, each team's connection score (only where the anonymity rules let it
show) is compared with the survey's floor and with the team's previous round. A team below the
floor, or down by the set amount, gets a touchpoint for its HR partner: hold a live team
conversation. The alert shows on the compliance dashboard and the survey's results.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from touchpoints.audit.services import record
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.models import OPEN_STATUSES, Mode, OwnerRole, Touchpoint, TouchpointKind
from touchpoints.people.models import Employee, Team
from touchpoints.surveys import anonymity
from touchpoints.surveys.models import ConnectionAlert, RoundStatus, SurveyRound

# A live conversation a week after the results, at a time most calendars still have free.
CONVERSATION_AFTER_DAYS = 7
CONVERSATION_TIME = time(10, 0)
CONVERSATION_MINUTES = 60
# Scores are compared at the precision they are shown with, so "3.5" is not "below 3.5".
PRECISION = 2


@dataclass(frozen=True)
class Change:
    team_id: int
    score: float
    previous: float | None
    reason: str


def assess(scores: dict[int, float], previous: dict[int, float], *, floor: float,
           drop: float) -> list[Change]:
    """The teams whose connection score is below the floor or fell by at least `drop`."""
    changes = []
    for team_id, raw in sorted(scores.items()):
        score = round(raw, PRECISION)
        before = round(previous[team_id], PRECISION) if team_id in previous else None
        below = score < floor
        fell = before is not None and round(before - score, PRECISION) >= drop
        if below or fell:
            reason = "below_and_drop" if below and fell else ("below" if below else "drop")
            changes.append(Change(team_id, score, before, reason))
    return changes


def previous_closed_round(round_: SurveyRound) -> SurveyRound | None:
    """The survey's closed round just before this one."""
    return db.session.scalar(
        select(SurveyRound).where(SurveyRound.survey_id == round_.survey_id,
                                  SurveyRound.status == RoundStatus.CLOSED,
                                  SurveyRound.results_built_at.is_not(None),
                                  SurveyRound.sequence < round_.sequence)
        .order_by(SurveyRound.sequence.desc()).limit(1))


def _connection_scores(round_: SurveyRound | None) -> dict[int, float]:
    if round_ is None:
        return {}
    return {team_id: group.connection for team_id, group in anonymity.team_connection(round_).items()
            if group.connection is not None}


def _conversation_due(hr_partner: Employee, now: datetime) -> datetime:
    zone = ZoneInfo(hr_partner.timezone)
    day = now.astimezone(zone).date() + timedelta(days=CONVERSATION_AFTER_DAYS)
    while str(day.isoweekday()) not in (hr_partner.work_days or "12345"):
        day += timedelta(days=1)
    return datetime.combine(day, CONVERSATION_TIME, zone).astimezone(ZoneInfo("UTC"))


def plan_team_conversation(team: Team, hr_partner: Employee, round_: SurveyRound,
                           now: datetime) -> Touchpoint:
    """A touchpoint for the HR partner: hold a live conversation with the team, in person."""
    touchpoint = Touchpoint(
        employee_id=hr_partner.id, owner_id=hr_partner.id, owner_role=OwnerRole.HR_PARTNER,
        kind=TouchpointKind.TEAM_MEETING, title=f"Hold a live team conversation with {team.name}"[:200],
        planned_mode=Mode.IN_PERSON, due_at=_conversation_due(hr_partner, now),
        duration_minutes=CONVERSATION_MINUTES,
        status_reason=(f"Pulse survey: connection score fell in {round_.label} of "
                       f"'{round_.survey.title}'")[:200],
    )
    db.session.add(touchpoint)
    return touchpoint


def raise_connection_alerts(round_: SurveyRound, *, now: datetime | None = None) -> list[ConnectionAlert]:
    """Compare a closed round's team scores with the floor and the previous round; plan conversations.

    Idempotent: a team gets at most one alert per round. The caller commits.
    """
    now = now or utcnow()
    survey = round_.survey
    changes = assess(_connection_scores(round_), _connection_scores(previous_closed_round(round_)),
                     floor=survey.alert_below, drop=survey.alert_drop)
    if not changes:
        return []
    team_ids = [c.team_id for c in changes]
    already = set(db.session.scalars(select(ConnectionAlert.team_id)
                                     .where(ConnectionAlert.round_id == round_.id)))
    # A conversation already planned and not yet held is not planned twice (blend, do not pile up).
    pending = dict(db.session.execute(
        select(ConnectionAlert.team_id, Touchpoint.id)
        .join(Touchpoint, Touchpoint.id == ConnectionAlert.touchpoint_id)
        .where(ConnectionAlert.team_id.in_(team_ids), Touchpoint.status.in_(OPEN_STATUSES))).all())
    teams = {t.id: t for t in db.session.scalars(
        select(Team).options(joinedload(Team.hr_partner)).where(Team.id.in_(team_ids)))}
    alerts = []
    for change in changes:
        team = teams.get(change.team_id)
        if team is None or change.team_id in already:
            continue
        alert = ConnectionAlert(round_id=round_.id, team_id=team.id, score=change.score,
                                previous_score=change.previous, reason=change.reason,
                                hr_partner_id=team.hr_partner_id, created_at=now)
        partner = team.hr_partner
        if change.team_id in pending:
            alert.touchpoint_id = pending[change.team_id]
        elif partner is not None and partner.deactivated_at is None:
            alert.touchpoint = plan_team_conversation(team, partner, round_, now)
        db.session.add(alert)
        alerts.append(alert)
        record("survey.connection_alert", "team", team.id, actor_id=None,
               summary=f"{team.name}: connection {change.score:.2f}"
                       + (f" (was {change.previous:.2f})" if change.previous is not None else "")
                       + f" in {round_.label} of '{survey.title}'; "
                       + ("the live team conversation already planned still stands"
                          if change.team_id in pending
                          else f"live team conversation planned with {partner.full_name}" if alert.touchpoint
                          else "no HR partner to plan a conversation with"))
    db.session.flush()
    return alerts


def recent_alerts(limit: int = 20, *, team_ids: set[int] | None = None) -> list[ConnectionAlert]:
    """The newest feedback-loop alerts with their team, round, HR partner and touchpoint loaded."""
    query = (select(ConnectionAlert)
             .options(joinedload(ConnectionAlert.team), joinedload(ConnectionAlert.hr_partner),
                      joinedload(ConnectionAlert.touchpoint),
                      joinedload(ConnectionAlert.round).joinedload(SurveyRound.survey))
             .order_by(ConnectionAlert.created_at.desc(), ConnectionAlert.id.desc()).limit(limit))
    if team_ids is not None:
        query = query.where(ConnectionAlert.team_id.in_(team_ids or {-1}))
    return list(db.session.scalars(query).unique())
