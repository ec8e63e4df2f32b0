"""Connection analytics, aggregated only: cross-team connections per month, the share of people who
had a human, non-work touchpoint lately (per team and company-wide), and the pulse survey's
"I feel connected to the people I work with" beside it, only where the survey's anonymity rules
let a team's results show (read through the surveys' own query layer, never re-implemented).

A fixed number of queries, whatever the size of the company.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select, union
from sqlalchemy.orm import aliased

from touchpoints.coffee.models import CoffeeRound
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.models import (
    HUMAN_MODES,
    SupportAssignment,
    Touchpoint,
    TouchpointKind,
    TouchpointStatus,
)
from touchpoints.people.models import Employee, LifecycleStatus, Team
from touchpoints.surveys import anonymity
from touchpoints.surveys.models import RoundStatus, SurveyQuestion, SurveyRound

MONTHS = 12
RECENT_DAYS = 30
NON_WORK_KINDS = (TouchpointKind.COFFEE_CHAT, TouchpointKind.BUDDY_INTRO, TouchpointKind.MENTORING)
CONNECTION_QUESTION_KEY = "connected-to-people"
AT_WORK = (LifecycleStatus.ONBOARDING, LifecycleStatus.ACTIVE, LifecycleStatus.OFFBOARDING)


@dataclass
class Month:
    start: date
    coffee: int = 0
    support: int = 0

    @property
    def total(self) -> int:
        return self.coffee + self.support

    @property
    def label(self) -> str:
        return f"{self.start:%b %Y}"


@dataclass
class TeamConnection:
    team_id: int | None
    name: str
    members: int
    connected: int
    pulse: float | None = None  # the connection question's mean, when the team's results may show
    pulse_respondents: int | None = None

    @property
    def share(self) -> float | None:
        return self.connected / self.members if self.members else None


@dataclass
class Connections:
    months: list[Month]
    teams: list[TeamConnection]
    company_members: int
    company_connected: int
    company_pulse: float | None
    survey_round: SurveyRound | None
    threshold: int | None
    hidden_teams: int = 0
    since: date = field(default_factory=date.today)

    @property
    def company_share(self) -> float | None:
        return self.company_connected / self.company_members if self.company_members else None

    @property
    def max_month(self) -> int:
        return max((m.total for m in self.months), default=0)


def _month_starts(today: date, count: int) -> list[date]:
    starts = []
    year, month = today.year, today.month
    for _ in range(count):
        starts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return list(reversed(starts))


def cross_team_by_month(today: date, months: int = MONTHS) -> list[Month]:
    """Coffee groups across teams plus buddy and mentor assignments across teams, per month (two queries)."""
    starts = _month_starts(today, months)
    by_start = {s: Month(s) for s in starts}
    first = starts[0]
    for round_on, groups in db.session.execute(
        select(CoffeeRound.round_on, CoffeeRound.cross_team_groups).where(CoffeeRound.round_on >= first)
    ):
        key = date(round_on.year, round_on.month, 1)
        if key in by_start:
            by_start[key].coffee += groups
    person, partner = aliased(Employee), aliased(Employee)
    for started_on, count in db.session.execute(
        select(SupportAssignment.started_on, func.count())
        .join(person, person.id == SupportAssignment.employee_id)
        .join(partner, partner.id == SupportAssignment.partner_id)
        .where(
            SupportAssignment.started_on >= first,
            person.team_id.is_not(None),
            partner.team_id.is_not(None),
            person.team_id != partner.team_id,
        )
        .group_by(SupportAssignment.started_on)
    ):
        key = date(started_on.year, started_on.month, 1)
        if key in by_start:
            by_start[key].support += count
    return [by_start[s] for s in starts]


def connected_by_team(
    now: datetime, days: int = RECENT_DAYS
) -> tuple[dict[int | None, int], dict[int | None, int]]:
    """(people at work per team, of whom had a held human non-work touchpoint in the last `days`)."""
    since = now - timedelta(days=days)
    held = (
        Touchpoint.kind.in_(NON_WORK_KINDS),
        Touchpoint.status == TouchpointStatus.DONE,
        Touchpoint.actual_mode.in_(HUMAN_MODES),
        Touchpoint.happened_at >= since,
    )
    # Both sides of the conversation had it: the person and whoever it was with.
    people = union(
        select(Touchpoint.employee_id.label("pid")).where(*held),
        select(Touchpoint.owner_id.label("pid")).where(*held, Touchpoint.owner_id.is_not(None)),
    ).subquery()
    at_work = (Employee.deactivated_at.is_(None), Employee.status.in_(AT_WORK))
    members = dict(
        db.session.execute(
            select(Employee.team_id, func.count()).where(*at_work).group_by(Employee.team_id)
        ).all()
    )
    connected = dict(
        db.session.execute(
            select(Employee.team_id, func.count())
            .join(people, people.c.pid == Employee.id)
            .where(*at_work)
            .group_by(Employee.team_id)
        ).all()
    )
    return members, connected


def latest_connection_round() -> SurveyRound | None:
    """The latest closed round whose questions include 'I feel connected to the people I work with'."""
    return db.session.scalar(
        select(SurveyRound)
        .join(SurveyQuestion, SurveyQuestion.version_id == SurveyRound.version_id)
        .where(SurveyRound.status == RoundStatus.CLOSED, SurveyQuestion.key == CONNECTION_QUESTION_KEY)
        .order_by(SurveyRound.closes_at.desc(), SurveyRound.id.desc())
        .limit(1)
    )


def _question_mean(group: anonymity.GroupResult) -> float | None:
    for result in group.questions:
        if result.question.key == CONNECTION_QUESTION_KEY and result.shown:
            return result.mean
    return None


def connections_overview(now: datetime | None = None) -> Connections:
    """Everything the connections page shows, aggregated."""
    now = now or utcnow()
    months = cross_team_by_month(now.date())
    members, connected = connected_by_team(now)
    names = dict(db.session.execute(select(Team.id, Team.name)).all())
    survey_round = latest_connection_round()
    pulse: dict[int, anonymity.GroupResult] = {}
    company_pulse, threshold = None, None
    if survey_round is not None:
        results = anonymity.group_results(
            [survey_round], anonymity.COMPANY_SCOPE, breakdown="team", group_detail="figures"
        )
        threshold = results.threshold
        pulse = {g.team_id: g for g in results.groups if g.shown and g.team_id is not None}
        company_pulse = _question_mean(results.slice) if results.slice.shown else None
    teams = []
    for team_id, count in members.items():
        row = TeamConnection(
            team_id, names.get(team_id, "No team") if team_id else "No team", count, connected.get(team_id, 0)
        )
        if team_id in pulse:
            row.pulse = _question_mean(pulse[team_id])
            row.pulse_respondents = pulse[team_id].respondents
        teams.append(row)
    teams.sort(key=lambda t: (t.team_id is None, t.name.lower()))
    hidden = sum(1 for t in teams if t.team_id is not None and t.pulse is None) if survey_round else 0
    return Connections(
        months,
        teams,
        sum(members.values()),
        sum(connected.values()),
        company_pulse,
        survey_round,
        threshold,
        hidden,
        (now - timedelta(days=RECENT_DAYS)).date(),
    )
