"""Evaluating human-touch policies over the whole company with set-based queries.

Each rule kind runs one or a few queries whatever the company size (aggregates, a window function,
anti-joins), never one per employee; what remains per person is date arithmetic in their own time
zone. The dry run calls exactly this code with a candidate version in place of the active one, so
its figures are the figures HR will see after activating.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from sqlalchemy import Select, String, and_, func, or_, select, type_coerce
from sqlalchemy.orm import aliased, joinedload

from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.calendar import WorkCalendar, zone
from touchpoints.journeys.models import (
    HUMAN_MODES,
    OPEN_STATUSES,
    Mode,
    OwnerRole,
    SupportAssignment,
    SupportKind,
    Touchpoint,
    TouchpointKind,
    TouchpointStatus,
)
from touchpoints.people.models import Employee, LifecycleStatus, Team, WorkPattern
from touchpoints.policies.models import Policy, PolicyOverride, PolicyVersion, Severity, VersionStatus
from touchpoints.policies.rules import (
    MODE_PHRASES,
    AutomationStreak,
    ChannelGuidelines,
    FirstDaysContact,
    FollowUpPairing,
    MaximumGap,
    QuietHours,
    RequiredModes,
    Rule,
    Scope,
    TeamMeetsInPerson,
    join_words,
    rule_from_version,
    scope_from_data,
)

HUMAN = tuple(HUMAN_MODES)
NOT_HUMAN = tuple(m for m in Mode if m not in HUMAN_MODES)
DONE = TouchpointStatus.DONE


# ---------------------------------------------------------------- what is evaluated


@dataclass(frozen=True)
class ActivePolicy:
    """A policy version ready to evaluate: its rule and scope parsed once."""

    policy_id: int
    version_id: int
    number: int
    key: str
    name: str
    severity: Severity
    rule: Rule
    scope: Scope

    @classmethod
    def from_version(cls, version: PolicyVersion) -> ActivePolicy:
        """The evaluable form of a stored version (its policy loaded with it)."""
        return cls(policy_id=version.policy_id, version_id=version.id, number=version.number,
                   key=version.policy.key, name=version.name, severity=version.severity,
                   rule=rule_from_version(version.rule_kind, version.params),
                   scope=scope_from_data(version.scope))

    @property
    def rule_kind(self) -> str:
        return self.rule.kind


def active_policies(kinds: Iterable[str] | None = None) -> list[ActivePolicy]:
    """The active version of every policy (optionally of some rule kinds), in one query."""
    query = (select(PolicyVersion).options(joinedload(PolicyVersion.policy))
             .where(PolicyVersion.status == VersionStatus.ACTIVE)
             .order_by(PolicyVersion.name, PolicyVersion.id))
    if kinds is not None:
        query = query.where(PolicyVersion.rule_kind.in_(list(kinds)))
    return [ActivePolicy.from_version(v) for v in db.session.scalars(query)]


@dataclass(slots=True)
class Person:
    """What evaluation needs to know about one employee."""

    id: int
    full_name: str
    status: LifecycleStatus
    team_id: int | None
    team_name: str | None
    manager_id: int | None
    manager_name: str | None
    location: str
    timezone: str
    country_code: str
    subdivision: str
    work_days: str
    start_date: date | None
    hire_date: date | None
    created_at: datetime

    def covered_by(self, scope: Scope) -> bool:
        return scope.covers_employee(status=self.status, team_name=self.team_name, location=self.location)

    @property
    def calendar(self) -> WorkCalendar:
        return WorkCalendar(self.country_code or "GB", self.subdivision or "", self.work_days or "12345")


@dataclass(slots=True)
class Violation:
    """One way one person is out of compliance with one policy, since a day (in their own zone)."""

    policy_id: int
    version_id: int
    policy_key: str
    policy_name: str
    severity: Severity
    rule_kind: str
    employee_id: int
    touchpoint_id: int | None
    touchpoint_kind: TouchpointKind | None
    detail: str
    since: date
    hr_only: bool = False


@dataclass(slots=True)
class TeamViolation:
    """One team out of compliance with a team rule (team_meets_in_person), since a day."""

    policy_id: int
    version_id: int
    policy_key: str
    policy_name: str
    severity: Severity
    rule_kind: str
    team_id: int
    team_name: str
    detail: str
    since: date
    last_in_person: date | None


GroupRow = tuple[int | None, str, int, int]


@dataclass
class ComplianceReport:
    """The violations of a set of policies at one moment, with the people they concern."""

    now: datetime
    policies: list[ActivePolicy]
    violations: list[Violation]
    people: dict[int, Person]
    in_scope: dict[int, int] = field(default_factory=dict)
    # Findings of the rules that judge teams rather than people (team_meets_in_person).
    team_violations: list[TeamViolation] = field(default_factory=list)

    @property
    def people_out_of_compliance(self) -> int:
        return len({v.employee_id for v in self.violations})

    def of_policy(self, policy_id: int) -> list[Violation]:
        return [v for v in self.violations if v.policy_id == policy_id]

    def teams_of_policy(self, policy_id: int) -> list[TeamViolation]:
        return [t for t in self.team_violations if t.policy_id == policy_id]

    def only_policy(self, policy_id: int) -> ComplianceReport:
        """The report narrowed to one policy's findings (people and teams)."""
        return ComplianceReport(self.now, self.policies, self.of_policy(policy_id), self.people,
                                self.in_scope, self.teams_of_policy(policy_id))

    def people_of_policy(self, policy_id: int) -> int:
        return len({v.employee_id for v in self.violations if v.policy_id == policy_id})

    def without_hr_only(self) -> ComplianceReport:
        """The report with grievance-related findings and policies left out (what a manager may see)."""
        return ComplianceReport(self.now, [p for p in self.policies if not p.scope.hr_only],
                                [v for v in self.violations if not v.hr_only], self.people, self.in_scope,
                                self.team_violations)

    def restricted_to(self, employee_ids: set[int]) -> ComplianceReport:
        """The findings about these people, and about the teams they are in."""
        teams = {p.team_id for i, p in self.people.items() if i in employee_ids}
        return ComplianceReport(self.now, self.policies,
                                [v for v in self.violations if v.employee_id in employee_ids],
                                {i: p for i, p in self.people.items() if i in employee_ids}, self.in_scope,
                                [t for t in self.team_violations if t.team_id in teams])

    def by_policy(self) -> list[tuple[ActivePolicy, int, int]]:
        """(policy, violations, people) for every policy evaluated, most people first."""
        counts: dict[int, list] = {p.policy_id: [0, set()] for p in self.policies}
        for v in self.violations:
            counts[v.policy_id][0] += 1
            counts[v.policy_id][1].add(v.employee_id)
        for t in self.team_violations:  # a team finding counts as a violation, naming no person
            counts[t.policy_id][0] += 1
        rows = [(p, counts[p.policy_id][0], len(counts[p.policy_id][1])) for p in self.policies]
        return sorted(rows, key=lambda row: (-row[2], -row[1], row[0].name))

    def _grouped(self, key: Callable[[Person], tuple[int | None, str]]) -> list[GroupRow]:
        groups: dict[tuple[int | None, str], list] = defaultdict(lambda: [0, set()])
        for v in self.violations:
            person = self.people.get(v.employee_id)
            if person is None:
                continue
            group = groups[key(person)]
            group[0] += 1
            group[1].add(v.employee_id)
        rows = [(gid, name, count, len(people)) for (gid, name), (count, people) in groups.items()]
        return sorted(rows, key=lambda row: (-row[3], -row[2], row[1]))

    def by_team(self) -> list[GroupRow]:
        """(team id, team name, violations, people), most people first."""
        return self._grouped(lambda p: (p.team_id, p.team_name or "No team"))

    def by_manager(self) -> list[GroupRow]:
        """(manager id, manager name, violations, people) by each person's direct manager."""
        return self._grouped(lambda p: (p.manager_id, p.manager_name or "No manager"))

    def by_person(self) -> list[tuple[Person, list[Violation]]]:
        """Each person out of compliance with their violations, most violations first."""
        found: dict[int, list[Violation]] = defaultdict(list)
        for v in self.violations:
            found[v.employee_id].append(v)
        rows = [(self.people[eid], sorted(vs, key=lambda v: v.since)) for eid, vs in found.items()
                if eid in self.people]
        return sorted(rows, key=lambda row: (-len(row[1]), row[0].full_name))


# ---------------------------------------------------------------- the evaluation


@lru_cache(maxsize=1024)
def _zone(name: str):
    return zone(name)


def local_day(moment: datetime, timezone: str) -> date:
    """The calendar day of a UTC moment in a person's zone."""
    return moment.astimezone(_zone(timezone)).date()


def _fmt(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


@dataclass
class _Context:
    now: datetime
    people: dict[int, Person]
    restrict: Select | None
    _today: dict[str, date] = field(default_factory=dict)

    def today(self, person: Person) -> date:
        """Today's date where the person is."""
        if person.timezone not in self._today:
            self._today[person.timezone] = local_day(self.now, person.timezone)
        return self._today[person.timezone]

    def limit(self, query: Select, column) -> Select:
        """Keep a touchpoint query to the people evaluated (a manager's reports, say)."""
        return query if self.restrict is None else query.where(column.in_(self.restrict))


def load_people(restrict: Select | None = None) -> dict[int, Person]:
    """Everyone who can be in a policy's scope (not deactivated, not alumni), in one query."""
    manager = aliased(Employee)
    query = (
        select(Employee.id, Employee.full_name, Employee.status, Employee.team_id, Team.name,
               Employee.manager_id, manager.full_name, Employee.location, Employee.timezone,
               Employee.country_code, Employee.subdivision, Employee.work_days, Employee.start_date,
               Employee.hire_date, Employee.created_at)
        .outerjoin(Team, Team.id == Employee.team_id)
        .outerjoin(manager, manager.id == Employee.manager_id)
        .where(Employee.deactivated_at.is_(None), Employee.status != LifecycleStatus.ALUMNI)
    )
    if restrict is not None:
        query = query.where(Employee.id.in_(restrict))
    return {row[0]: Person(*row) for row in _rows(query)}


def evaluate(policies: list[ActivePolicy] | None = None, *, now: datetime | None = None,
             restrict: Select | None = None) -> ComplianceReport:
    """Every violation of these policies (default: the active ones) at `now`, over everyone in scope.

    `restrict` (a select of employee ids) limits the evaluation to some people, e.g. a manager's
    reports; the figures for them are the same as in the company-wide evaluation.
    """
    now = now or utcnow()
    policies = active_policies() if policies is None else policies
    people = load_people(restrict)
    ctx = _Context(now, people, restrict)
    violations: list[Violation] = []
    in_scope: dict[int, int] = {}
    covered_by_scope: dict[Scope, set[int]] = {}
    mode_batch: list[tuple[ActivePolicy, set[int]]] = []
    team_violations: list[TeamViolation] = []
    for policy in policies:
        if policy.rule.judges_teams:
            found, in_scope[policy.policy_id] = _team_meeting_violations(policy, ctx)
            team_violations.extend(found)
            continue
        covered = covered_by_scope.get(policy.scope)
        if covered is None:
            test = policy.scope.employee_test()
            covered = {pid for pid, p in people.items() if test(p.status, p.team_name, p.location)}
            covered_by_scope[policy.scope] = covered
        in_scope[policy.policy_id] = len(covered)
        if not covered:
            continue
        if isinstance(policy.rule, RequiredModes | ChannelGuidelines):
            mode_batch.append((policy, covered))  # judged together below, in one scan
            continue
        evaluator = EVALUATORS.get(type(policy.rule))
        if evaluator is not None:
            violations.extend(evaluator(policy, ctx, covered))
    violations.extend(_mode_violations(mode_batch, ctx))
    violations.sort(key=lambda v: (v.policy_name, v.since, v.employee_id, v.touchpoint_id or 0))
    if restrict is not None:  # a manager's evaluation: the teams their people are in
        teams = {p.team_id for p in people.values()}
        team_violations = [t for t in team_violations if t.team_id in teams]
    team_violations.sort(key=lambda t: (t.policy_name, t.since, t.team_name))
    return ComplianceReport(now, policies, violations, people, in_scope, team_violations)


def _violation(policy: ActivePolicy, person: Person, detail: str, since: date, *,
               touchpoint_id: int | None = None, kind: TouchpointKind | None = None) -> Violation:
    hr_only = policy.scope.hr_only or (kind is not None and kind.hr_only)
    return Violation(policy.policy_id, policy.version_id, policy.key, policy.name, policy.severity,
                     policy.rule_kind, person.id, touchpoint_id, kind, detail, since, hr_only)


def _raw(column):
    """A column read without its type's conversion (timestamps and enums are converted only when needed:
    the evaluation reads tens of thousands of them and keeps few)."""
    return type_coerce(column, String).label(column.key)


def _rows(query: Select):
    """Run a read-only select at the Core level: no ORM bookkeeping per row (10,000s of rows here)."""
    return db.session.connection().execute(query)


def _kind_filter(query: Select, kinds: Iterable[TouchpointKind], column=None) -> Select:
    kinds = list(kinds)
    column = Touchpoint.kind if column is None else column
    return query.where(column.in_(kinds)) if kinds else query


# -- required modes and channel guidelines: a touchpoint done or planned in a way the policy forbids


def _mode_violations(batch: list[tuple[ActivePolicy, set[int]]], ctx: _Context) -> list[Violation]:
    """Every required-modes and channel-guidelines policy at once: one scan of the touchpoints."""
    batch = [(p, covered) for p, covered in batch if any(not p.rule.allows(m) for m in Mode)]
    if not batch:
        return []
    kinds = sorted({k for p, _ in batch for k in p.scope.kinds})
    forbidden = sorted({m for p, _ in batch for m in Mode if not p.rule.allows(m)})
    since = ctx.now - timedelta(days=max(p.rule.lookback_days for p, _ in batch))
    query = select(Touchpoint.id, Touchpoint.employee_id, Touchpoint.kind, Touchpoint.status,
                   Touchpoint.planned_mode, Touchpoint.actual_mode, Touchpoint.happened_at,
                   Touchpoint.due_at, Touchpoint.created_at).where(
        Touchpoint.kind.in_(kinds),
        or_(and_(Touchpoint.status == DONE, Touchpoint.actual_mode.in_(forbidden),
                 Touchpoint.happened_at >= since, Touchpoint.happened_at <= ctx.now),
            and_(Touchpoint.status.in_(OPEN_STATUSES), Touchpoint.planned_mode.in_(forbidden),
                 Touchpoint.due_at >= since, Touchpoint.created_at <= ctx.now)))
    rows = list(_rows(ctx.limit(query, Touchpoint.employee_id)))
    overridden = set(_rows(select(PolicyOverride.policy_id, PolicyOverride.touchpoint_id).where(
        PolicyOverride.policy_id.in_([p.policy_id for p, _ in batch])))) if rows else set()
    found = []
    for policy, covered in batch:
        rule = policy.rule
        assert isinstance(rule, RequiredModes | ChannelGuidelines)
        policy_since = ctx.now - timedelta(days=rule.lookback_days)
        requirement = rule.predicate()
        for tp_id, employee_id, kind, status, planned, actual, happened_at, due_at, created_at in rows:
            if employee_id not in covered or kind not in policy.scope.kinds or \
                    (policy.policy_id, tp_id) in overridden:
                continue
            person = ctx.people[employee_id]
            if status is DONE:
                if rule.allows(actual) or happened_at < policy_since:
                    continue
                day = local_day(happened_at, person.timezone)
                detail = f"{kind.label} logged {MODE_PHRASES[actual]} on {_fmt(day)}; it {requirement}."
            else:
                if rule.allows(planned) or due_at < policy_since:
                    continue
                day = local_day(created_at, person.timezone)
                detail = (f"{kind.label} planned {MODE_PHRASES[planned]} for "
                          f"{_fmt(local_day(due_at, person.timezone))}; it {requirement}.")
            found.append(_violation(policy, person, detail, day, touchpoint_id=tp_id, kind=kind))
    return found


# -- maximum gap: the last human touchpoint (or the start) is more than N days ago


def _last_human_touch(ctx: _Context, kinds: Iterable[TouchpointKind]) -> dict[int, datetime]:
    query = (select(Touchpoint.employee_id, _raw(func.max(Touchpoint.happened_at).label("last")))
             .where(Touchpoint.status == DONE, Touchpoint.actual_mode.in_(HUMAN),
                    Touchpoint.happened_at <= ctx.now)
             .group_by(Touchpoint.employee_id))
    query = ctx.limit(_kind_filter(query, kinds), Touchpoint.employee_id)
    return {employee_id: _as_utc(last) for employee_id, last in _rows(query)}


def _start_of(person: Person) -> date:
    return person.start_date or person.hire_date or local_day(person.created_at, person.timezone)


def _gap_violations(policy: ActivePolicy, ctx: _Context, covered: set[int]) -> list[Violation]:
    rule = policy.rule
    assert isinstance(rule, MaximumGap)
    last = _last_human_touch(ctx, policy.scope.kinds)
    what = join_words([k.label.lower() for k in TouchpointKind if k in policy.scope.kinds]) \
        or "human touchpoint"
    found = []
    # Within N - 1 days of now is within N calendar days in any zone: no need to convert those.
    surely_fine = ctx.now - timedelta(days=rule.days - 1)
    for employee_id in covered:
        touched = last.get(employee_id)
        if touched is not None and touched >= surely_fine:
            continue
        person = ctx.people[employee_id]
        today, start = ctx.today(person), _start_of(person)
        if start > today:
            continue  # not started yet: nothing is owed
        last_day = local_day(touched, person.timezone) if touched else None
        reference = max(last_day, start) if last_day else start
        gap = (today - reference).days
        if gap <= rule.days:
            continue
        if last_day and last_day >= start:
            detail = (f"No {what} in person or live for {gap} days (last on {_fmt(last_day)}); "
                      f"the policy asks for one at least every {rule.days} days.")
        else:
            detail = (f"No {what} in person or live in the {gap} days since starting on {_fmt(start)}; "
                      f"the policy asks for one at least every {rule.days} days.")
        found.append(_violation(policy, person, detail, reference + timedelta(days=rule.days + 1)))
    return found


# -- first-days contact: a new hire met their manager and a buddy within N working days


def first_days_deadline(start: date, working_days: int, calendar: WorkCalendar) -> date:
    """The last day of a new hire's first N working days (the start day counts as day one)."""
    first = calendar.roll(start)
    return calendar.add_working_days(first, working_days - 1) if working_days > 1 else first


def _first_days_violations(policy: ActivePolicy, ctx: _Context, covered: set[int]) -> list[Violation]:
    rule = policy.rule
    assert isinstance(rule, FirstDaysContact)
    due: dict[int, date] = {}
    for employee_id in covered:
        person = ctx.people[employee_id]
        today = ctx.today(person)
        if person.start_date is None or not \
                today - timedelta(days=rule.lookback_days) <= person.start_date <= today:
            continue
        deadline = first_days_deadline(person.start_date, rule.days, person.calendar)
        if today > deadline:
            due[employee_id] = deadline
    if not due:
        return []
    earliest = min(ctx.people[i].start_date for i in due)
    starters = select(Employee.id).where(Employee.start_date >= earliest,
                                         Employee.start_date <= ctx.now.date() + timedelta(days=1))
    touches = (select(Touchpoint.employee_id, Touchpoint.owner_id, Touchpoint.owner_role,
                      Touchpoint.happened_at)
               .where(Touchpoint.status == DONE, Touchpoint.actual_mode.in_(HUMAN),
                      Touchpoint.happened_at <= ctx.now, Touchpoint.employee_id.in_(starters)))
    touches = _kind_filter(touches, policy.scope.kinds)
    buddies: dict[int, set[int]] = defaultdict(set)
    if "buddy" in rule.meet:
        for employee_id, partner_id in _rows(
                select(SupportAssignment.employee_id, SupportAssignment.partner_id)
                .where(SupportAssignment.kind == SupportKind.BUDDY,
                       SupportAssignment.employee_id.in_(starters))):
            buddies[employee_id].add(partner_id)
    met: dict[int, set[str]] = defaultdict(set)
    for employee_id, owner_id, owner_role, happened_at in _rows(touches):
        if employee_id not in due:
            continue
        person = ctx.people[employee_id]
        if local_day(happened_at, person.timezone) > due[employee_id]:
            continue
        if owner_role is OwnerRole.MANAGER or (owner_id is not None and owner_id == person.manager_id):
            met[employee_id].add("manager")
        if owner_role is OwnerRole.BUDDY or owner_id in buddies.get(employee_id, ()):
            met[employee_id].add("buddy")
    found = []
    for employee_id, deadline in due.items():
        missing = [who for who in rule.meet if who not in met[employee_id]]
        if not missing:
            continue
        person = ctx.people[employee_id]
        words = []
        for who in missing:
            if who == "buddy" and not buddies.get(employee_id):
                words.append("a buddy (none is assigned)")
            elif who == "manager" and person.manager_id is None:
                words.append("a manager (none is on record)")
            else:
                words.append(f"their {who}")
        detail = (f"Started on {_fmt(person.start_date)} and had not met {join_words(words, 'or')} "
                  f"in person or live by {_fmt(deadline)} ({rule.days} working days).")
        found.append(_violation(policy, person, detail, deadline + timedelta(days=1)))
    return found


# -- follow-up pairing: a digital moment followed by a live one within N days


def _follow_up_violations(policy: ActivePolicy, ctx: _Context, covered: set[int]) -> list[Violation]:
    rule = policy.rule
    assert isinstance(rule, FollowUpPairing)
    window_start = ctx.now - timedelta(days=rule.lookback_days)
    # Only moments whose deadline may have passed: N days ago, give or take a day of time zone.
    latest = ctx.now - timedelta(days=max(rule.days - 1, 0))
    follow = aliased(Touchpoint)
    # The first human follow-up at or after each digital moment, by a correlated MIN on the
    # (employee_id, ...) index: one query, however many moments there are.
    first_follow_up = _kind_filter(
        select(func.min(follow.happened_at))
        .where(follow.employee_id == Touchpoint.employee_id, follow.status == DONE,
               follow.actual_mode.in_(HUMAN), follow.happened_at >= Touchpoint.happened_at,
               follow.happened_at <= ctx.now, follow.kind.not_in(list(policy.scope.kinds))),
        rule.follow_up_kinds, follow.kind).scalar_subquery()
    query = (select(Touchpoint.id, Touchpoint.employee_id, _raw(Touchpoint.kind),
                    _raw(Touchpoint.actual_mode), _raw(Touchpoint.happened_at),
                    _raw(first_follow_up.label("follow_up")))
             .where(Touchpoint.kind.in_(list(policy.scope.kinds)), Touchpoint.status == DONE,
                    Touchpoint.actual_mode.in_(NOT_HUMAN), Touchpoint.happened_at >= window_start,
                    Touchpoint.happened_at <= latest))
    follow_words = join_words([k.label.lower() for k in TouchpointKind if k in rule.follow_up_kinds]) \
        or "human touchpoint"
    found = []
    # A follow-up within N - 1 days is within N calendar days in any zone: no conversion needed.
    surely_in_time = timedelta(days=rule.days - 1)
    for tp_id, employee_id, kind, mode, happened_at, follow_up in \
            _rows(ctx.limit(query, Touchpoint.employee_id)):
        if employee_id not in covered:
            continue
        happened_at, follow_up = _as_utc(happened_at), _as_utc(follow_up)
        if follow_up is not None and follow_up - happened_at <= surely_in_time:
            continue
        person = ctx.people[employee_id]
        done_on = local_day(happened_at, person.timezone)
        deadline = done_on + timedelta(days=rule.days)
        if ctx.today(person) <= deadline:
            continue  # still time
        if follow_up is not None and local_day(follow_up, person.timezone) <= deadline:
            continue
        kind, mode = TouchpointKind(kind), Mode(mode)
        detail = (f"{kind.label} done {MODE_PHRASES[mode]} on {_fmt(done_on)}; no "
                  f"{follow_words} in person or live followed within {rule.days} days (by {_fmt(deadline)}).")
        found.append(_violation(policy, person, detail, deadline + timedelta(days=1),
                                touchpoint_id=tp_id, kind=kind))
    return found


# -- automation streak: more than N automated or digital touchpoints since the last human one


def _streak_violations(policy: ActivePolicy, ctx: _Context, covered: set[int]) -> list[Violation]:
    rule = policy.rule
    assert isinstance(rule, AutomationStreak)
    kinds = policy.scope.kinds
    last_human = ctx.limit(_kind_filter(
        select(Touchpoint.employee_id.label("employee_id"), func.max(Touchpoint.happened_at).label("last"))
        .where(Touchpoint.status == DONE, Touchpoint.actual_mode.in_(HUMAN),
               Touchpoint.happened_at <= ctx.now)
        .group_by(Touchpoint.employee_id), kinds), Touchpoint.employee_id).subquery()
    streak = ctx.limit(_kind_filter(
        select(Touchpoint.employee_id, Touchpoint.happened_at, last_human.c.last,
               func.row_number().over(partition_by=Touchpoint.employee_id,
                                      order_by=(Touchpoint.happened_at, Touchpoint.id)).label("position"),
               func.count().over(partition_by=Touchpoint.employee_id).label("length"))
        .outerjoin(last_human, last_human.c.employee_id == Touchpoint.employee_id)
        .where(Touchpoint.status == DONE, Touchpoint.actual_mode.in_(NOT_HUMAN),
               Touchpoint.happened_at <= ctx.now,
               or_(last_human.c.last.is_(None), Touchpoint.happened_at > last_human.c.last)), kinds),
        Touchpoint.employee_id).subquery()
    query = select(streak.c.employee_id, streak.c.happened_at, streak.c.last, streak.c.length).where(
        streak.c.length > rule.max_in_a_row, streak.c.position == rule.max_in_a_row + 1)
    found = []
    for employee_id, happened_at, last, length in _rows(query):
        if employee_id not in covered:
            continue
        person = ctx.people[employee_id]
        # The subquery's column loses the UTC type on some backends: read it back as UTC.
        last = _as_utc(last)
        since_words = f"since the last one in person or live on {_fmt(local_day(last, person.timezone))}" \
            if last else "and none in person or live yet"
        detail = (f"{length} automated or digital touchpoints in a row {since_words}; the policy allows "
                  f"{rule.max_in_a_row}.")
        found.append(_violation(policy, person, detail, local_day(_as_utc(happened_at), person.timezone)))
    return found


def _as_utc(value) -> datetime | None:
    """A timestamp read raw: SQLite hands back text (naive UTC), PostgreSQL an aware datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# -- teams meet in person: each team in scope held a team ritual in person within the period


QUARTER_MONTHS = {1: "January to March", 4: "April to June", 7: "July to September",
                  10: "October to December"}


def period_start(day: date, period: str) -> date:
    """The first day of the month, quarter or year a day is in."""
    if period == "year":
        return date(day.year, 1, 1)
    if period == "quarter":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return date(day.year, day.month, 1)


def period_label(start: date, period: str) -> str:
    """'Q3 2026 (July to September)', 'October 2026', '2025'."""
    if period == "year":
        return str(start.year)
    if period == "quarter":
        return f"Q{(start.month - 1) // 3 + 1} {start.year} ({QUARTER_MONTHS[start.month]})"
    return f"{start:%B %Y}"


def _team_meeting_violations(policy: ActivePolicy, ctx: _Context) -> tuple[list[TeamViolation], int]:
    """Teams of the policy's work patterns whose last in-person ritual is too long ago. Two queries.

    A calendar period is judged once it is over: a team that met in person in the last complete
    period, or already in the current one, is in compliance. A team is not judged for a period that
    began before the team was added.
    """
    from touchpoints.rituals.services import last_in_person_by_team

    rule = policy.rule
    assert isinstance(rule, TeamMeetsInPerson)
    names = {n.lower() for n in policy.scope.teams}
    teams = [(team_id, name, pattern, _as_utc(created)) for team_id, name, pattern, created in _rows(
        select(Team.id, Team.name, Team.work_pattern, _raw(Team.created_at))
        .where(Team.work_pattern.in_(list(rule.work_patterns))))
        if not names or name.lower() in names]
    if not teams:
        return [], 0
    share = rule.min_in_person_share / 100 if rule.min_in_person_share else None
    last = last_in_person_by_team([t[0] for t in teams], kinds=policy.scope.kinds, min_share=share,
                                  now=ctx.now)
    today = ctx.now.astimezone(UTC).date()
    what = join_words([k.label.lower() for k in TouchpointKind if k in policy.scope.kinds]) or "team ritual"
    share_words = f" with at least {rule.min_in_person_share}% there in person" if share else ""
    found = []
    for team_id, name, pattern, created in teams:
        added = created.astimezone(UTC).date()
        met = last.get(team_id)
        met_day = met.astimezone(UTC).date() if met else None
        last_words = (f"the last {what} in person{share_words} was on {_fmt(met_day)}" if met_day
                      else f"there is no {what} in person{share_words} on record")
        label = f"{name} ({WorkPattern(pattern).label.lower()})"
        if rule.days:
            reference = max(met_day, added) if met_day else added
            gap = (today - reference).days
            if gap <= rule.days:
                continue
            detail = (f"{label} has not met in person for {gap} days: {last_words}. The policy asks for "
                      f"one {rule.period_words()}.")
            since = reference + timedelta(days=rule.days + 1)
        else:
            current = period_start(today, rule.every)
            previous = period_start(current - timedelta(days=1), rule.every)
            if added > previous or (met_day is not None and met_day >= previous):
                continue
            detail = (f"{label} did not meet in person in {period_label(previous, rule.every)}: "
                      f"{last_words}. The policy asks for one {rule.period_words()}.")
            since = current
        found.append(TeamViolation(policy.policy_id, policy.version_id, policy.key, policy.name,
                                   policy.severity, policy.rule_kind, team_id, name, detail, since, met_day))
    return found, len(teams)


def _no_violations(policy: ActivePolicy, ctx: _Context, covered: set[int]) -> list[Violation]:
    """Quiet hours govern delivery (the nudges consult them); past data cannot break them."""
    return []


EVALUATORS: dict[type[Rule], Callable[[ActivePolicy, _Context, set[int]], list[Violation]]] = {
    MaximumGap: _gap_violations,
    FirstDaysContact: _first_days_violations,
    FollowUpPairing: _follow_up_violations,
    AutomationStreak: _streak_violations,
    QuietHours: _no_violations,
}


def policy_names() -> dict[int, str]:
    """Every policy's id and current name (for labels of past snapshots)."""
    return dict(db.session.execute(select(Policy.id, Policy.name)).all())
