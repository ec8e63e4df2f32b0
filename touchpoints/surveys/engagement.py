"""Human touch against engagement: each team's human-touch index beside its pulse scores.

The human-touch index of a team is the mean of the parts that are known, as a percentage:

- the share of its done touchpoints (last 90 days) that happened in person, by video or phone;
- the share of its members who had a one-on-one in the last 30 days;
- its human-touch policy compliance: the share of its members out of no active policy, from the
  policies capability's evaluation (left out while no policy is active).

Pulse scores come through the anonymity layer, so only teams whose results may show appear.
"""
from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, func, select

from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.models import HUMAN_MODES, Touchpoint, TouchpointKind, TouchpointStatus
from touchpoints.people.models import Employee
from touchpoints.surveys import anonymity
from touchpoints.surveys.anonymity import GroupResult
from touchpoints.surveys.models import SurveyRound
from touchpoints.surveys.services import WORKING_STATUSES

WINDOW_DAYS = 90
RECENT_ONE_ON_ONE_DAYS = 30
# Below this many teams a correlation is noise, so none is offered.
MIN_TEAMS_FOR_CORRELATION = 8


def policy_compliance(now: datetime) -> dict[int, float] | None:
    """Per team, the share of its people out of no active policy; None while no policy is active."""
    from touchpoints.policies.engine.evaluation import evaluate

    report = evaluate(now=now)
    if not report.policies:
        return None
    members = Counter(p.team_id for p in report.people.values()
                      if p.team_id is not None and p.status in WORKING_STATUSES)
    out = Counter(report.people[eid].team_id for eid in {v.employee_id for v in report.violations}
                  if eid in report.people and report.people[eid].status in WORKING_STATUSES)
    return {team_id: max(0.0, 1 - out[team_id] / n) for team_id, n in members.items() if n}


@dataclass
class TeamTouch:
    team_id: int
    members: int
    done: int = 0
    human: int = 0
    with_recent_one_on_one: int = 0
    median_days_since_one_on_one: float | None = None
    never_had_one_on_one: int = 0
    compliance: float | None = None

    @property
    def human_share(self) -> float | None:
        return self.human / self.done if self.done else None

    @property
    def recent_one_on_one_share(self) -> float | None:
        return self.with_recent_one_on_one / self.members if self.members else None

    @property
    def index(self) -> float | None:
        """The mean of the known parts, 0 to 100."""
        parts = [p for p in (self.human_share, self.recent_one_on_one_share, self.compliance)
                 if p is not None]
        return 100 * sum(parts) / len(parts) if parts else None


def human_touch_by_team(now: datetime | None = None) -> dict[int, TeamTouch]:
    """Each team's human-touch figures over the last 90 days (three grouped queries)."""
    now = now or utcnow()
    since = now - timedelta(days=WINDOW_DAYS)
    working = (Employee.deactivated_at.is_(None), Employee.status.in_(WORKING_STATUSES),
               Employee.team_id.is_not(None))
    teams = {team_id: TeamTouch(team_id, n) for team_id, n in db.session.execute(
        select(Employee.team_id, func.count()).where(*working).group_by(Employee.team_id))}
    human_mode = Touchpoint.actual_mode.in_(list(HUMAN_MODES))
    for team_id, done, human in db.session.execute(
            select(Employee.team_id, func.count(), func.sum(case((human_mode, 1), else_=0)))
            .join(Employee, Employee.id == Touchpoint.employee_id)
            .where(*working, Touchpoint.status == TouchpointStatus.DONE, Touchpoint.happened_at >= since)
            .group_by(Employee.team_id)):
        if team_id in teams:
            teams[team_id].done, teams[team_id].human = done, int(human or 0)
    days: dict[int, list[float]] = defaultdict(list)
    for team_id, last in db.session.execute(
            select(Employee.team_id, func.max(Touchpoint.happened_at))
            .join(Employee, Employee.id == Touchpoint.employee_id)
            .where(*working, Touchpoint.kind == TouchpointKind.ONE_ON_ONE,
                   Touchpoint.status == TouchpointStatus.DONE, Touchpoint.happened_at <= now)
            .group_by(Employee.team_id, Touchpoint.employee_id)):
        if team_id in teams and last is not None:
            last = _aware(last)
            days[team_id].append((now - last).total_seconds() / 86400)
    compliance = policy_compliance(now) or {}
    for team_id, touch in teams.items():
        seen = days.get(team_id, [])
        touch.with_recent_one_on_one = sum(1 for d in seen if d <= RECENT_ONE_ON_ONE_DAYS)
        touch.never_had_one_on_one = max(touch.members - len(seen), 0)
        touch.median_days_since_one_on_one = statistics.median(seen) if seen else None
        touch.compliance = compliance.get(team_id)
    return teams


def _aware(moment: datetime) -> datetime:
    # func.max over a UTC column comes back naive from SQLite.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class EngagementRow:
    name: str
    touch: TeamTouch
    pulse: GroupResult


@dataclass
class Engagement:
    round: SurveyRound | None
    rows: list[EngagementRow]
    correlation: float | None
    compliance_included: bool


def pearson(xs: list[float], ys: list[float]) -> float | None:
    """Pearson's r, or None with too few teams to mean anything, or no spread."""
    if len(xs) < MIN_TEAMS_FOR_CORRELATION:
        return None
    try:
        return statistics.correlation(xs, ys)
    except statistics.StatisticsError:
        return None


def human_touch_against_engagement(round_: SurveyRound | None, *, now: datetime | None = None) -> Engagement:
    """Teams whose pulse results may show in the round, with their human-touch index beside them."""
    if round_ is None:
        return Engagement(None, [], None, False)
    pulse = anonymity.group_results([round_], anonymity.COMPANY_SCOPE, breakdown="team",
                                    group_detail="summary")
    touch = human_touch_by_team(now)
    rows = [EngagementRow(group.label, touch[group.team_id], group) for group in pulse.groups
            if group.shown and group.team_id is not None and group.team_id in touch]
    rows.sort(key=lambda r: (r.touch.index is None, -(r.touch.index or 0), r.name))
    pairs = [(r.touch.index, r.pulse.connection) for r in rows
             if r.touch.index is not None and r.pulse.connection is not None]
    correlation = pearson([p[0] for p in pairs], [p[1] for p in pairs])
    return Engagement(round_, rows, correlation, any(t.compliance is not None for t in touch.values()))
