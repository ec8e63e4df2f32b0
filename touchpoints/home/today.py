"""What needs me today: the read models behind the three home pages.

Each home page composes the capabilities' own read models (the manager's week and the timeline
from journeys, open invitations from surveys, compliance snapshots from policies) and adds only
the company-wide glances no capability had yet. Every function here runs a fixed number of
queries whatever the size of the company, and lists are capped: a home page says what needs
attention and links to the page that holds the rest.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ScalarSelect, and_, case, exists, func, literal, or_, select, union_all
from sqlalchemy.orm import joinedload, selectinload

from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.access import HR_ONLY_KINDS
from touchpoints.journeys.calendar import local_date
from touchpoints.journeys.models import (
    HUMAN_MODES,
    OPEN_STATUSES,
    AgendaItem,
    Confirmation,
    Enrolment,
    EnrolmentStatus,
    JourneyTemplate,
    OwnerRole,
    SupportAssignment,
    SupportKind,
    Touchpoint,
    TouchpointKind,
    TouchpointStatus,
)
from touchpoints.journeys.team_overview import TeamWeek, team_week
from touchpoints.nudges.delivery_page import describe_nudge
from touchpoints.nudges.models import PROBLEM_STATUSES, Nudge, NudgeKind, NudgeStatus
from touchpoints.people.access import report_ids_query, visible_employees
from touchpoints.people.models import Employee, LifecycleStatus
from touchpoints.policies.compliance import COMPANY, TrendPoint, week_start
from touchpoints.policies.models import ComplianceSnapshot, Policy
from touchpoints.privacy.erasure import departed_query
from touchpoints.rituals.services import Viewer, team_rituals_ahead, unlogged_occurrences
from touchpoints.surveys.engagement import RECENT_ONE_ON_ONE_DAYS, WINDOW_DAYS, TeamTouch
from touchpoints.surveys.models import RoundStatus, Survey, SurveyParticipation, SurveyRound
from touchpoints.surveys.services import WORKING_STATUSES, OpenInvitation, answered_rounds, open_invitations

LIST_LIMIT = 8  # rows a home page section shows before "see all"
WEEK_DAYS = 7
TREND_WEEKS = 8
SURVEY_LOOKAHEAD_DAYS = 7


def _aware(value: datetime | str | None) -> datetime | None:
    """An aggregate's moment as an aware UTC datetime (SQLite hands back text or naive values)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# ---------------------------------------------------------------- which home


class HomeView(enum.StrEnum):
    """The three home pages; a person with several roles switches between them."""

    HR = "hr"
    MANAGER = "manager"
    ME = "me"

    @property
    def label(self) -> str:
        return {"hr": "HR view", "manager": "Manager view", "me": "My view"}[self.value]


def views_for(user) -> list[HomeView]:
    """The home pages this person's roles open to them, the broadest first."""
    views = []
    if user.is_hr:
        views.append(HomeView.HR)
    if user.is_manager:
        views.append(HomeView.MANAGER)
    views.append(HomeView.ME)
    return views


def choose_view(user, wanted: str | None) -> HomeView:
    """The view asked for when the person may have it, otherwise their broadest one."""
    available = views_for(user)
    try:
        view = HomeView(wanted) if wanted else None
    except ValueError:
        view = None
    return view if view in available else available[0]


# ---------------------------------------------------------------- HR partner


@dataclass(frozen=True)
class PolicyFigure:
    """One policy's people and violations in the latest compliance snapshot."""

    policy_id: int
    name: str
    people: int
    violations: int


@dataclass
class ComplianceGlance:
    """The company's human-touch compliance from the scheduler's snapshots (not evaluated live:
    evaluation over a whole company takes too long for a home page)."""

    trend: list[TrendPoint]
    latest: ComplianceSnapshot | None
    previous: ComplianceSnapshot | None
    policies: list[PolicyFigure]
    working: int

    @property
    def people(self) -> int | None:
        return self.latest.people if self.latest else None

    @property
    def change(self) -> int | None:
        """People out of compliance now against the week before (negative is better)."""
        if self.latest is None or self.previous is None:
            return None
        return self.latest.people - self.previous.people

    @property
    def share_in_compliance(self) -> float | None:
        if self.latest is None or not self.working:
            return None
        return max(0.0, 1 - self.latest.people / self.working)


def compliance_glance(now: datetime, *, working: int, weeks: int = TREND_WEEKS) -> ComplianceGlance:
    """The latest company snapshot, the week before it, the worst policies and the trend (two queries)."""
    this_week = week_start(now.date())
    first = this_week - timedelta(weeks=weeks - 1)
    snapshots = list(db.session.scalars(
        select(ComplianceSnapshot).where(ComplianceSnapshot.subject == COMPANY,
                                         ComplianceSnapshot.week_start >= first)
        .order_by(ComplianceSnapshot.week_start)))
    by_week = {s.week_start: s for s in snapshots}
    trend = []
    for index in range(weeks):
        week = first + timedelta(weeks=index)
        row = by_week.get(week)
        trend.append(TrendPoint(week, row.people if row else None, row.violations if row else None))
    latest = snapshots[-1] if snapshots else None
    previous = by_week.get(latest.week_start - timedelta(weeks=1)) if latest else None
    # The latest week in the window, found by the database: the same query whether or not there is one.
    latest_week = (select(func.max(ComplianceSnapshot.week_start))
                   .where(ComplianceSnapshot.subject == COMPANY, ComplianceSnapshot.week_start >= first)
                   .scalar_subquery())
    policies = [PolicyFigure(*row) for row in db.session.execute(
        select(ComplianceSnapshot.policy_id, Policy.name, ComplianceSnapshot.people,
               ComplianceSnapshot.violations)
        .join(Policy, Policy.id == ComplianceSnapshot.policy_id)
        .where(ComplianceSnapshot.week_start == latest_week, ComplianceSnapshot.people > 0)
        .order_by(ComplianceSnapshot.people.desc(), Policy.name).limit(5))]
    return ComplianceGlance(trend, latest, previous, policies, working)


@dataclass
class OverdueGlance:
    """Open touchpoints whose moment has passed, across the company, the longest overdue first.

    Escalated ones are those the nudges capability has told an HR partner about.
    """

    total: int
    escalated: int
    escalated_to_me: int
    oldest: list[Touchpoint]
    escalated_ids: set[int]
    now: datetime

    def days_overdue(self, touchpoint: Touchpoint) -> int:
        return max(0, (self.now - touchpoint.due_at).days)


def _escalation_of(recipient_id: int | None = None):
    """Whether an overdue-escalation nudge exists for the touchpoint (optionally to one person)."""
    condition = [Nudge.touchpoint_id == Touchpoint.id, Nudge.kind == NudgeKind.ESCALATION]
    if recipient_id is not None:
        condition.append(Nudge.recipient_id == recipient_id)
    return exists().where(*condition)


def _oldest_open(where, *, limit: int, order=None):
    """Ids of the first open touchpoints matching `where`, one index-ordered scan per open status.

    Neither SQLite nor PostgreSQL orders an IN over two statuses by the (status, due_at) index, so
    one LIMITed select per status, joined by UNION ALL, reads a few index entries instead of
    sorting every overdue touchpoint in the company.
    """
    order = order or (Touchpoint.due_at, Touchpoint.id)
    parts = [select(Touchpoint.id, Touchpoint.due_at).where(Touchpoint.status == status, *where)
             .order_by(*order).limit(limit).subquery() for status in OPEN_STATUSES]
    merged = union_all(*[select(part.c.id, part.c.due_at) for part in parts]).subquery()
    return select(merged.c.id).order_by(merged.c.due_at, merged.c.id).limit(limit)


def overdue_glance(now: datetime, *, hr_employee_id: int, limit: int = LIST_LIMIT) -> OverdueGlance:
    """How many touchpoints are overdue and escalated, and the longest overdue ones (two queries)."""
    overdue = (Touchpoint.status.in_(OPEN_STATUSES), Touchpoint.due_at < now)
    # One walk of the (status, due_at) index counts the overdue and, against the set of escalated
    # touchpoints read once (a hashed subplan on PostgreSQL, an in-memory index on SQLite), the
    # escalated: no join of every escalation to its touchpoint, no DISTINCT, and no per-row EXISTS
    # (which PostgreSQL costs high enough to JIT-compile). The HR partner's own escalations start
    # from the (recipient_id, created_at) index instead.
    escalated_ids = select(Nudge.touchpoint_id).where(Nudge.kind == NudgeKind.ESCALATION)
    to_me: ScalarSelect = (
        select(func.count(func.distinct(Nudge.touchpoint_id)))
        .join(Touchpoint, Touchpoint.id == Nudge.touchpoint_id)
        .where(Nudge.recipient_id == hr_employee_id, Nudge.kind == NudgeKind.ESCALATION, *overdue)
        .scalar_subquery())
    total, escalated, mine = db.session.execute(
        select(func.count(), func.coalesce(func.sum(case((Touchpoint.id.in_(escalated_ids), 1), else_=0)), 0),
               to_me)
        .select_from(Touchpoint).where(*overdue)).one()
    rows = db.session.execute(
        select(Touchpoint, _escalation_of().label("escalated"))
        .options(joinedload(Touchpoint.employee), joinedload(Touchpoint.owner))
        .where(Touchpoint.id.in_(_oldest_open([Touchpoint.due_at < now], limit=limit)))
        .order_by(Touchpoint.due_at, Touchpoint.id)).all()
    return OverdueGlance(int(total or 0), int(escalated or 0), int(mine or 0), [tp for tp, _ in rows],
                         {tp.id for tp, flag in rows if flag}, now)


@dataclass
class OverduePage:
    """One page of the company's overdue touchpoints."""

    pagination: Pagination
    now: datetime

    def days_overdue(self, touchpoint: Touchpoint) -> int:
        return max(0, (self.now - touchpoint.due_at).days)


def overdue_page(now: datetime, *, page: int, per_page: int) -> OverduePage:
    """One page of every overdue touchpoint, the longest overdue first, with its people (two queries)."""
    query = (select(Touchpoint).options(joinedload(Touchpoint.employee), joinedload(Touchpoint.owner))
             .where(Touchpoint.status.in_(OPEN_STATUSES), Touchpoint.due_at < now)
             .order_by(Touchpoint.due_at, Touchpoint.id))
    return OverduePage(db.paginate(query, page=page, per_page=per_page, error_out=False), now)


@dataclass
class Movement:
    """Someone starting or leaving this week, and whether their journey is ready for them."""

    employee: Employee
    day: date
    journeys: list[str] = field(default_factory=list)
    buddy: Employee | None = None

    @property
    def missing(self) -> list[str]:
        """What HR should still arrange before the day (in words)."""
        gaps = []
        if not self.journeys:
            gaps.append("no journey")
        if self.employee.manager_id is None:
            gaps.append("no manager")
        return gaps


@dataclass
class WeekMovements:
    """Journeys starting this week: new starters, and people leaving (offboarding ends)."""

    first_day: date
    last_day: date
    starting: list[Movement]
    leaving: list[Movement]
    starting_total: int
    leaving_total: int


def week_movements(today: date, *, limit: int = LIST_LIMIT) -> WeekMovements:
    """People whose start or exit date falls in the seven days from today (four queries)."""
    last = today + timedelta(days=WEEK_DAYS - 1)
    starts = and_(Employee.start_date >= today, Employee.start_date <= last,
                  Employee.status.in_((LifecycleStatus.PRE_BOARDING, LifecycleStatus.ONBOARDING)))
    exits = and_(Employee.exit_date >= today, Employee.exit_date <= last,
                 Employee.status != LifecycleStatus.ALUMNI)
    # Neither date is indexed, so the company is read once, for the few who move this week (their
    # dates and names only); the totals and the first of each list are picked from those rows.
    moving = db.session.execute(
        select(Employee.id, Employee.full_name, Employee.start_date, Employee.exit_date,
               starts.label("starts"), exits.label("exits"))
        .where(Employee.deactivated_at.is_(None), or_(starts, exits))).all()
    starters = sorted((r for r in moving if r.starts), key=lambda r: (r.start_date, r.full_name, r.id))
    leavers = sorted((r for r in moving if r.exits), key=lambda r: (r.exit_date, r.full_name, r.id))
    start_ids = [r.id for r in starters[:limit]]
    leave_ids = [r.id for r in leavers[:limit]]
    # The same four queries whether or not anyone moves (an empty IN still asks the database).
    people = {e.id: e for e in db.session.scalars(
        select(Employee).options(joinedload(Employee.team), joinedload(Employee.manager))
        .where(Employee.id.in_(start_ids + leave_ids)))}
    movements = {i: Movement(people[i], people[i].start_date) for i in start_ids}
    leaving = {i: Movement(people[i], people[i].exit_date) for i in leave_ids}
    for employee_id, name in db.session.execute(
            select(Enrolment.employee_id, JourneyTemplate.name)
            .join(JourneyTemplate, JourneyTemplate.id == Enrolment.journey_id)
            .where(Enrolment.employee_id.in_(people), Enrolment.status == EnrolmentStatus.ACTIVE)
            .order_by(JourneyTemplate.name)):
        for group in (movements, leaving):
            if employee_id in group:
                group[employee_id].journeys.append(name)
    for assignment in db.session.scalars(
            select(SupportAssignment).options(joinedload(SupportAssignment.partner))
            .where(SupportAssignment.employee_id.in_(start_ids), SupportAssignment.kind == SupportKind.BUDDY,
                   or_(SupportAssignment.ended_on.is_(None), SupportAssignment.ended_on >= today))
            .order_by(SupportAssignment.started_on)):
        movements[assignment.employee_id].buddy = assignment.partner
    return WeekMovements(today, last, list(movements.values()), list(leaving.values()),
                         len(starters), len(leavers))


@dataclass
class DeliveryGlance:
    """Nudges that need a person's decision: failed (retrying), unknown (may have arrived) or dead."""

    counts: dict[NudgeStatus, int]
    latest: list[tuple[Nudge, str]]

    @property
    def problems(self) -> int:
        return sum(self.counts.get(status, 0) for status in PROBLEM_STATUSES)

    @property
    def dead(self) -> int:
        return self.counts.get(NudgeStatus.DEAD, 0)


def delivery_glance(*, limit: int = 5) -> DeliveryGlance:
    """Problem nudges by state and the latest few, described without sensitive content (two queries)."""
    counts = {NudgeStatus(status): n for status, n in db.session.execute(
        select(Nudge.status, func.count()).where(Nudge.status.in_(PROBLEM_STATUSES)).group_by(Nudge.status))}
    # The few latest ids first, then their people: joining every problem nudge's recipient, team
    # and touchpoint before the sort and LIMIT would read them all.
    newest = (Nudge.updated_at.desc(), Nudge.id.desc())
    latest_ids = select(Nudge.id).where(Nudge.status.in_(PROBLEM_STATUSES)).order_by(*newest).limit(limit)
    latest = list(db.session.scalars(
        select(Nudge).options(joinedload(Nudge.recipient), joinedload(Nudge.team),
                              joinedload(Nudge.touchpoint).joinedload(Touchpoint.employee))
        .where(Nudge.id.in_(latest_ids)).order_by(*newest)))
    return DeliveryGlance(counts, [(nudge, describe_nudge(nudge)) for nudge in latest])


@dataclass(frozen=True)
class RoundGlance:
    """A survey round open now (or opening within the week) and how many have answered."""

    round: SurveyRound
    title: str
    responded: int

    @property
    def rate(self) -> float | None:
        invited = self.round.invited_count
        return self.responded / invited if invited and self.round.is_open else None


def survey_rounds_glance(now: datetime, *, limit: int = LIST_LIMIT) -> list[RoundGlance]:
    """Open rounds, soonest closing first, then rounds opening within a week (one query)."""
    soon = now + timedelta(days=SURVEY_LOOKAHEAD_DAYS)
    current = or_(SurveyRound.status == RoundStatus.OPEN,
                  and_(SurveyRound.status == RoundStatus.SCHEDULED, SurveyRound.opens_at <= soon))
    answered = (select(SurveyParticipation.round_id, func.count().label("n"))
                .where(SurveyParticipation.round_id.in_(
                    select(SurveyRound.id).where(SurveyRound.status == RoundStatus.OPEN)))
                .group_by(SurveyParticipation.round_id).subquery())
    rows = db.session.execute(
        select(SurveyRound, Survey.title, func.coalesce(answered.c.n, 0))
        .join(Survey, Survey.id == SurveyRound.survey_id)
        .outerjoin(answered, answered.c.round_id == SurveyRound.id)
        .where(current)
        .order_by(case((SurveyRound.status == RoundStatus.OPEN, 0), else_=1),
                  SurveyRound.closes_at, SurveyRound.opens_at, SurveyRound.id)
        .limit(limit)).all()
    return [RoundGlance(r, title, int(n)) for r, title, n in rows]


def lifecycle_counts(user) -> dict[LifecycleStatus, int]:
    """How many people this user may see are at each lifecycle stage (one query)."""
    scope = visible_employees(user).where(Employee.deactivated_at.is_(None)).subquery()
    rows = db.session.execute(select(scope.c.status, func.count()).group_by(scope.c.status)).all()
    return {LifecycleStatus(status): n for status, n in rows}


@dataclass
class HrToday:
    """The HR partner's home: compliance, what is overdue, who starts or leaves, surveys in flight."""

    now: datetime
    today: date
    stages: dict[LifecycleStatus, int]
    compliance: ComplianceGlance
    overdue: OverdueGlance
    delivery: DeliveryGlance
    movements: WeekMovements
    rounds: list[RoundGlance]
    departed: int  # people who left whose personal data is still held (privacy)

    @property
    def working(self) -> int:
        return sum(n for status, n in self.stages.items() if status in WORKING_STATUSES)


def hr_today(user, *, now: datetime | None = None) -> HrToday:
    """Everything the HR partner's home shows, in a fixed number of queries."""
    now = now or utcnow()
    today = local_date(now, user.employee.timezone)
    stages = lifecycle_counts(user)
    working = sum(n for status, n in stages.items() if status in WORKING_STATUSES)
    departed = db.session.scalar(select(func.count()).select_from(departed_query().subquery())) or 0
    return HrToday(now, today, stages, compliance_glance(now, working=working),
                   overdue_glance(now, hr_employee_id=user.employee_id), delivery_glance(),
                   week_movements(today), survey_rounds_glance(now), departed)


# ---------------------------------------------------------------- manager


def team_touch(user, *, now: datetime | None = None) -> TeamTouch:
    """The human-touch index of everyone who reports to this person, at any depth (two queries).

    The same definition as each team's index beside the pulse results (surveys.engagement):
    the share of done touchpoints in the last 90 days that were in person or live, and the share
    of people with a one-on-one in the last 30 days. Grievance meetings stay out of a manager's
    figures, as they stay out of the manager's lists.
    """
    now = now or utcnow()
    reports = report_ids_query(user.employee_id)
    working = (Employee.id.in_(reports), Employee.deactivated_at.is_(None),
               Employee.status.in_(WORKING_STATUSES))
    members = db.session.scalar(select(func.count()).select_from(Employee).where(*working)) or 0
    touch = TeamTouch(team_id=0, members=members)
    if not members:
        return touch
    since = now - timedelta(days=WINDOW_DAYS)
    recent = now - timedelta(days=RECENT_ONE_ON_ONE_DAYS)
    human = Touchpoint.actual_mode.in_(list(HUMAN_MODES))
    one_on_one = and_(Touchpoint.kind == TouchpointKind.ONE_ON_ONE, Touchpoint.happened_at >= recent,
                      Touchpoint.happened_at <= now)
    done, human_done, met = db.session.execute(
        select(func.count(), func.coalesce(func.sum(case((human, 1), else_=0)), 0),
               func.count(func.distinct(case((one_on_one, Touchpoint.employee_id), else_=literal(None)))))
        .join(Employee, Employee.id == Touchpoint.employee_id)
        .where(*working, Touchpoint.status == TouchpointStatus.DONE, Touchpoint.happened_at >= since,
               Touchpoint.kind.not_in(HR_ONLY_KINDS))).one()
    touch.done, touch.human, touch.with_recent_one_on_one = int(done), int(human_done), int(met)
    return touch


@dataclass
class ManagerToday:
    """The manager's home: the week's touchpoints, overdue ones, each report's contact, the index."""

    week: TeamWeek
    touch: TeamTouch
    # Team rituals the manager runs that happened and nobody logged, newest first, and how many in all.
    rituals_to_log: list = field(default_factory=list)
    rituals_to_log_total: int = 0

    @property
    def long_gaps(self) -> int:
        """Direct reports without a human conversation for three weeks or more (or ever)."""
        return sum(1 for r in self.week.reports if r.days_since_human is None or r.days_since_human > 21)


def manager_today(user, *, now: datetime | None = None) -> ManagerToday:
    """Everything the manager's home shows: the journeys team week (direct reports and what they run,
    overdue further down counted per branch) and the human-touch index of everyone below them."""
    now = now or utcnow()
    to_log, to_log_total = unlogged_occurrences(Viewer.of(user).running_query(), now=now, limit=5)
    return ManagerToday(team_week(user, now=now), team_touch(user, now=now), to_log, to_log_total)


# ---------------------------------------------------------------- employee


@dataclass
class EmployeeToday:
    """The employee's home: what they are asked to do, their next touchpoints, open surveys."""

    employee: Employee
    now: datetime
    next: list[Touchpoint]
    to_confirm: list[Touchpoint]
    overdue_for_me: list[Touchpoint]
    invitations: list[OpenInvitation]
    answered: list[tuple[SurveyRound, Survey, date]]
    # The next team rituals (team days, town halls) for the person's team and the company.
    rituals: list = field(default_factory=list)


def employee_today(user, *, now: datetime | None = None, limit: int = 5) -> EmployeeToday:
    """The person's next touchpoints (with their agendas), what waits for their confirmation, their own
    overdue self-serve moments, and their surveys.

    What the journeys timeline shows, cut to what a home page needs: the timeline loads every
    touchpoint of a person's horizon, a home page the next five (three queries, and one for agendas).
    """
    now = now or utcnow()
    me = user.employee
    mine = (Touchpoint.employee_id == me.id,)
    with_people = (joinedload(Touchpoint.owner), joinedload(Touchpoint.logged_by))
    # One person's rows: the (employee_id, due_at) index finds them; the status is checked on the few read.
    upcoming = list(db.session.scalars(
        select(Touchpoint).options(*with_people, selectinload(Touchpoint.agenda_items)
                                   .joinedload(AgendaItem.author))
        .where(*mine, Touchpoint.status.in_(OPEN_STATUSES), Touchpoint.due_at >= now)
        .order_by(Touchpoint.due_at, Touchpoint.id).limit(limit)))
    to_confirm = list(db.session.scalars(
        select(Touchpoint).options(*with_people)
        # coalesce() keeps the planner on this person's rows (the employee index): without statistics,
        # SQLite would otherwise walk every done touchpoint of the company through the status index.
        .where(*mine, func.coalesce(Touchpoint.status, "") == TouchpointStatus.DONE.value,
               Touchpoint.confirmation == Confirmation.PENDING)
        .order_by(Touchpoint.due_at.desc(), Touchpoint.id.desc()).limit(limit)))
    overdue = list(db.session.scalars(
        select(Touchpoint).options(*with_people)
        .where(*mine, Touchpoint.status.in_(OPEN_STATUSES), Touchpoint.due_at < now,
               Touchpoint.owner_role == OwnerRole.EMPLOYEE)
        .order_by(Touchpoint.due_at, Touchpoint.id).limit(limit)))
    return EmployeeToday(me, now, upcoming, to_confirm, overdue, open_invitations(me.id, now),
                         answered_rounds(me.id, limit=1), team_rituals_ahead(me, now=now))
