"""Enrolment: putting people on a journey and materialising their touchpoints, in bulk and idempotently.

The same planning code serves one person enrolled by hand, 10,000 enrolled in one go, and the
daily horizon extension the scheduler runs: it reads the facts it needs in a fixed number of
set-based queries, computes due times in Python (cached: most people share dates and zones) and
writes rows with one multi-row insert. The unique key (enrolment, template, occurrence) makes
every run safe to repeat.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple

from flask import current_app
from sqlalchemy import Table, exists, func, or_, select, update

from touchpoints.audit.services import record
from touchpoints.auth.models import Role, User, UserRole
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.calendar import (
    WorkCalendar,
    cadence_rule,
    local_date,
    local_due_at,
    nth_occurrence,
    offset_date,
    series_dates,
)
from touchpoints.journeys.errors import JourneyError
from touchpoints.journeys.models import (
    OPEN_STATUSES,
    Anchor,
    Enrolment,
    EnrolmentStatus,
    JourneyStatus,
    JourneyTemplate,
    Mode,
    OffsetUnit,
    OwnerRole,
    SupportAssignment,
    Touchpoint,
    TouchpointKind,
    TouchpointStatus,
    TouchpointTemplate,
)
from touchpoints.journeys.outcomes import touchpoints_created
from touchpoints.people.models import Employee, LifecycleStatus, Team

CHUNK = 2000  # ids per IN (...) list: well under SQLite's and PostgreSQL's parameter limits
NOT_ENROLLABLE = (LifecycleStatus.ALUMNI,)


def _chunks(ids: Sequence[int], size: int = CHUNK) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def default_cadence_days() -> int:
    """The company's one-on-one cadence in days (DEFAULT_ONE_ON_ONE_CADENCE_DAYS)."""
    return int(current_app.config.get("DEFAULT_ONE_ON_ONE_CADENCE_DAYS", 14))


def horizon_days() -> int:
    """How far ahead recurring series are materialised (JOURNEY_HORIZON_DAYS)."""
    return int(current_app.config.get("JOURNEY_HORIZON_DAYS", 90))


def cadence_days_for(employee: Employee) -> int:
    """One-on-one cadence for a person: their own setting, else their team's, else the company's."""
    if employee.one_on_one_cadence_days:
        return employee.one_on_one_cadence_days
    if employee.team is not None and employee.team.one_on_one_cadence_days:
        return employee.team.one_on_one_cadence_days
    return default_cadence_days()


class PersonFacts(NamedTuple):
    """What planning needs to know about one person, read in bulk."""

    id: int
    manager_id: int | None
    team_id: int | None
    hire_date: date | None
    start_date: date | None
    exit_date: date | None
    timezone: str
    country_code: str
    subdivision: str
    work_start: time
    work_end: time
    work_days: str
    status: LifecycleStatus
    cadence_days: int | None
    team_cadence_days: int | None
    team_hr_partner_id: int | None
    deactivated: bool

    @property
    def calendar(self) -> WorkCalendar:
        return WorkCalendar(self.country_code or "", self.subdivision or "", self.work_days or "12345")

    def anchor_date(self, anchor: Anchor, enrolled_on: date) -> date | None:
        """The date an anchor stands for; a missing hire date falls back to the start date."""
        if anchor is Anchor.ENROLMENT:
            return enrolled_on
        if anchor is Anchor.HIRE_DATE:
            return self.hire_date or self.start_date
        if anchor is Anchor.START_DATE:
            return self.start_date or self.hire_date
        return self.exit_date


_FACT_COLUMNS = (
    Employee.id, Employee.manager_id, Employee.team_id, Employee.hire_date, Employee.start_date,
    Employee.exit_date, Employee.timezone, Employee.country_code, Employee.subdivision,
    Employee.work_start, Employee.work_end, Employee.work_days, Employee.status,
    Employee.one_on_one_cadence_days, Team.one_on_one_cadence_days, Team.hr_partner_id,
    Employee.deactivated_at.is_not(None),
)


def load_facts(employee_ids: Sequence[int]) -> dict[int, PersonFacts]:
    """Facts for many people, one query per few thousand."""
    out: dict[int, PersonFacts] = {}
    for chunk in _chunks(list(employee_ids)):
        rows = db.session.execute(
            select(*_FACT_COLUMNS).outerjoin(Team, Team.id == Employee.team_id)
            .where(Employee.id.in_(chunk))
        )
        for row in rows:
            out[row[0]] = PersonFacts(*row)
    return out


class OwnerResolver:
    """Turns owner roles into people for a batch of employees, in a fixed number of queries.

    Manager, buddy and mentor fall to the team's HR partner when missing or gone, and the team's
    HR partner falls to any HR partner; nobody owns their own exit interview.
    """

    def __init__(self, facts: dict[int, PersonFacts], *, today: date):
        self.facts = facts
        ids = list(facts)
        self.support: dict[tuple[int, str], int] = {}
        for chunk in _chunks(ids):
            rows = db.session.execute(
                select(SupportAssignment.employee_id, SupportAssignment.kind, SupportAssignment.partner_id)
                .where(SupportAssignment.employee_id.in_(chunk), SupportAssignment.started_on <= today,
                       or_(SupportAssignment.ended_on.is_(None), SupportAssignment.ended_on >= today))
                .order_by(SupportAssignment.started_on, SupportAssignment.id)
            )
            for employee_id, kind, partner_id in rows:
                self.support[(employee_id, kind.value)] = partner_id  # latest wins
        referenced = {f.manager_id for f in facts.values()} | {f.team_hr_partner_id for f in facts.values()}
        referenced |= set(self.support.values())
        referenced.discard(None)
        self.active: set[int] = set()
        for chunk in _chunks(sorted(referenced)):
            self.active.update(db.session.scalars(
                select(Employee.id).where(Employee.id.in_(chunk), Employee.deactivated_at.is_(None),
                                          Employee.status != LifecycleStatus.ALUMNI)
            ))
        self.hr_partners: list[int] = list(db.session.scalars(
            select(Employee.id).join(User, User.employee_id == Employee.id)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == Role.HR_PARTNER.value, Employee.deactivated_at.is_(None),
                   Employee.status != LifecycleStatus.ALUMNI)
            .order_by(Employee.id)
        ))

    def hr_partner(self, person: PersonFacts) -> int | None:
        """The team's HR partner, else the first HR partner who is not the person themself."""
        partner = person.team_hr_partner_id
        if partner is not None and partner != person.id and partner in self.active:
            return partner
        for candidate in self.hr_partners:
            if candidate != person.id:
                return candidate
        return None

    def owner(self, person: PersonFacts, role: OwnerRole) -> int | None:
        """The person who owns a touchpoint of this role for this employee."""
        if role is OwnerRole.EMPLOYEE:
            return person.id
        if role is OwnerRole.MANAGER:
            if person.manager_id is not None and person.manager_id in self.active:
                return person.manager_id
            return self.hr_partner(person)
        if role in (OwnerRole.BUDDY, OwnerRole.MENTOR):
            partner = self.support.get((person.id, role.value))
            if partner is not None and partner in self.active:
                return partner
            return self.hr_partner(person)
        return self.hr_partner(person)


@dataclass(frozen=True)
class TemplatePlan:
    """A touchpoint template reduced to plain values, so planning 100,000 rows touches no ORM."""

    id: int
    key: str
    kind: TouchpointKind
    title: str
    planned_mode: Mode
    owner_role: OwnerRole
    anchor: Anchor
    offset: int
    offset_unit: OffsetUnit
    time_of_day: time
    rrule: str | None
    follows_cadence: bool
    series_length: int | None
    until_anchor: Anchor | None
    duration_minutes: int
    sensitive: bool

    @property
    def is_recurring(self) -> bool:
        return bool(self.rrule) or self.follows_cadence

    @classmethod
    def of(cls, t: TouchpointTemplate) -> TemplatePlan:
        return cls(t.id, t.key, t.kind, t.title, t.planned_mode, t.owner_role, t.anchor, t.offset,
                   t.offset_unit, t.time_of_day, t.rrule, t.follows_cadence, t.series_length, t.until_anchor,
                   t.duration_minutes, t.sensitive or t.kind.is_sensitive)

    def rule_for(self, person: PersonFacts, default_cadence: int) -> str | None:
        if self.follows_cadence:
            return cadence_rule(person.cadence_days or person.team_cadence_days or default_cadence)
        return self.rrule

    def first_date(self, person: PersonFacts, enrolled_on: date) -> date | None:
        anchor_day = person.anchor_date(self.anchor, enrolled_on)
        if anchor_day is None:
            return None
        return offset_date(anchor_day, self.offset, self.offset_unit, person.calendar, self.anchor)

    def due_at(self, person: PersonFacts, day: date) -> datetime:
        return local_due_at(day, self.time_of_day, self.duration_minutes, person.timezone,
                            person.work_start, person.work_end)

    def occurrence_date(self, person: PersonFacts, enrolled_on: date, occurrence: int,
                        default_cadence: int) -> date | None:
        """Where occurrence `occurrence` of this template falls for this person today."""
        first = self.first_date(person, enrolled_on)
        if first is None:
            return None
        if not self.is_recurring:
            return first
        until = person.anchor_date(self.until_anchor, enrolled_on) if self.until_anchor else None
        day = nth_occurrence(first, self.rule_for(person, default_cadence), person.calendar, occurrence)
        if day is None or (until is not None and day > until) or \
                (self.series_length is not None and occurrence > self.series_length):
            return None
        return day


def plans_for(journey_ids: Iterable[int]) -> dict[int, list[TemplatePlan]]:
    """The touchpoint templates of these journey versions, in one query."""
    out: dict[int, list[TemplatePlan]] = defaultdict(list)
    ids = list(set(journey_ids))
    if not ids:
        return out
    templates = db.session.scalars(
        select(TouchpointTemplate).where(TouchpointTemplate.journey_id.in_(ids))
        .order_by(TouchpointTemplate.journey_id, TouchpointTemplate.position, TouchpointTemplate.id)
    )
    for t in templates:
        out[t.journey_id].append(TemplatePlan.of(t))
    return out


def plan_rows(person: PersonFacts, enrolment_id: int, enrolled_on: date, plans: Sequence[TemplatePlan],
              *, through: date, existing: dict[str, int], owners: OwnerResolver, now: datetime,
              default_cadence: int) -> list[dict[str, Any]]:
    """The touchpoint rows still missing for one enrolment, up to `through` for recurring series.

    `existing` maps a template key to the highest occurrence already stored for it (keys, not
    ids, so a touchpoint logged under an earlier version of the journey is not planned again).
    One-offs due before the enrolment are skipped when their anchor is in the past too (enrolling a
    long-serving person in onboarding does not invent a welcome call two years ago), and brought
    forward to the enrolment day when the anchor is still ahead (an exit date set three days out
    still gets its interview).
    """
    rows: list[dict[str, Any]] = []
    calendar = person.calendar
    for plan in plans:
        done_up_to = existing.get(plan.key, -1)
        anchor_day = person.anchor_date(plan.anchor, enrolled_on)
        if anchor_day is None:
            continue  # e.g. no exit date yet: materialised when one is set
        first = offset_date(anchor_day, plan.offset, plan.offset_unit, calendar, plan.anchor)
        if not plan.is_recurring:
            if done_up_to >= 0:
                continue
            if first < enrolled_on:
                if anchor_day < enrolled_on:
                    continue
                first = calendar.roll(enrolled_on)
            rows.append(_row(plan, person, enrolment_id, 0, plan.due_at(person, first), owners, now))
            continue
        until = person.anchor_date(plan.until_anchor, enrolled_on) if plan.until_anchor else None
        rule = plan.rule_for(person, default_cadence)
        for index, day in series_dates(first, rule, calendar, until=until, count=plan.series_length,
                                       through=through):
            if index <= done_up_to or day < enrolled_on:
                continue
            rows.append(_row(plan, person, enrolment_id, index, plan.due_at(person, day), owners, now))
    return rows


def _row(plan: TemplatePlan, person: PersonFacts, enrolment_id: int, occurrence: int, due_at: datetime,
         owners: OwnerResolver, now: datetime) -> dict[str, Any]:
    # Every column is given explicitly: no per-row Python defaults during a bulk insert.
    return {
        "employee_id": person.id, "enrolment_id": enrolment_id, "template_id": plan.id,
        "occurrence": occurrence, "kind": plan.kind, "title": plan.title,
        "planned_mode": plan.planned_mode, "owner_role": plan.owner_role,
        "owner_id": owners.owner(person, plan.owner_role), "anchor": plan.anchor, "due_at": due_at,
        "duration_minutes": plan.duration_minutes, "sensitive": plan.sensitive,
        "status": TouchpointStatus.PLANNED, "status_reason": "", "confirmation_comment": "",
        "sequence": 0, "created_at": now, "updated_at": now,
    }


def bulk_insert(table: Table, rows: list[dict[str, Any]], *, skip_conflicts: bool = False) -> int:
    """Write many rows with the driver's executemany, converting values as the column types would.

    The ORM's bulk insert spends most of its time converting each value of each row; here every
    column's converter runs once per distinct value (most values repeat: enums, dates, owners),
    and the driver gets plain tuples. With skip_conflicts, rows that would break a unique key are
    skipped (ON CONFLICT DO NOTHING), so two scheduler processes never double a touchpoint.
    """
    if not rows:
        return 0
    db.session.flush()  # pending ORM changes first: the rows may refer to them
    connection = db.session.connection()
    dialect = connection.dialect
    names = list(rows[0])
    columns = [table.c[name] for name in names]
    compiled = table.insert().inline().compile(dialect=dialect, column_keys=names)
    sql = str(compiled)
    if skip_conflicts and dialect.name in ("postgresql", "sqlite"):
        sql += " ON CONFLICT DO NOTHING"
    converters = []
    for column in columns:
        # The dialect's own variant of the type: on SQLite that is what formats timestamps as text.
        process = column.type.dialect_impl(dialect).bind_processor(dialect)
        converters.append(_memoised(process) if process is not None else None)
    positional = compiled.positional
    order = compiled.positiontup if positional else None
    if positional and order != [c.key for c in columns]:
        index = {name: i for i, name in enumerate(names)}
        picks = [index[key] for key in order]
    else:
        picks = None
    params: list[Any] = []
    for row in rows:
        values = [row[name] if convert is None else convert(row[name])
                  for name, convert in zip(names, converters, strict=True)]
        if positional:
            params.append(tuple(values) if picks is None else tuple(values[i] for i in picks))
        else:
            params.append(dict(zip(names, values, strict=True)))
    connection.exec_driver_sql(sql, params)
    return len(rows)


def _memoised(process: Any) -> Any:
    cache: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        try:
            return cache[value]
        except KeyError:
            cache[value] = converted = process(value)
            return converted
        except TypeError:  # unhashable: convert every time
            return process(value)

    return convert


def insert_touchpoints(rows: list[dict[str, Any]], *, skip_conflicts: bool) -> int:
    """Write planned touchpoints in one bulk insert; conflicts on the unique key are skipped if asked."""
    return bulk_insert(Touchpoint.__table__, rows, skip_conflicts=skip_conflicts)


@dataclass
class EnrolmentResult:
    """What a (bulk) enrolment did."""

    journey_id: int
    enrolment_ids: list[int] = field(default_factory=list)
    already_enrolled: list[int] = field(default_factory=list)
    not_enrollable: dict[int, str] = field(default_factory=dict)
    touchpoints_created: int = 0

    @property
    def enrolled(self) -> int:
        return len(self.enrolment_ids)


def _existing_active(employee_ids: Sequence[int], journey_key: str) -> set[int]:
    found: set[int] = set()
    for chunk in _chunks(list(employee_ids)):
        found.update(db.session.scalars(
            select(Enrolment.employee_id).where(Enrolment.employee_id.in_(chunk),
                                                Enrolment.journey_key == journey_key,
                                                Enrolment.status == EnrolmentStatus.ACTIVE)
        ))
    return found


def enrol_many(employee_ids: Iterable[int], journey: JourneyTemplate, *, actor_id: int | None,
               source: str = "bulk", enrolled_at: datetime | None = None, today: date | None = None,
               horizon: int | None = None, audit: bool = True) -> EnrolmentResult:
    """Enrol many people in a journey in one bulk operation; people already on it are left alone.

    Inserts the enrolments, then every touchpoint due (one-offs) or inside the horizon (recurring
    series), with owners resolved. The caller commits.
    """
    if journey.status is not JourneyStatus.ACTIVE:
        raise JourneyError(f"{journey.label} is {journey.status.label.lower()}: only an active journey "
                           "takes enrolments.")
    ids = list(dict.fromkeys(employee_ids))
    result = EnrolmentResult(journey_id=journey.id)
    now = utcnow()
    enrolled_at = enrolled_at or now
    today = today or now.date()
    through = today + timedelta(days=horizon if horizon is not None else horizon_days())
    already = _existing_active(ids, journey.key)
    result.already_enrolled = [i for i in ids if i in already]
    facts = load_facts([i for i in ids if i not in already])
    for employee_id in ids:
        person = facts.get(employee_id)
        if employee_id in already:
            continue
        if person is None:
            result.not_enrollable[employee_id] = "No such person."
        elif person.status in NOT_ENROLLABLE or person.deactivated:
            result.not_enrollable[employee_id] = "Has left the company."
    facts = {k: v for k, v in facts.items() if k not in result.not_enrollable}
    if not facts:
        return result

    people = [facts[i] for i in ids if i in facts]
    enrolment_rows = [
        {"employee_id": p.id, "journey_id": journey.id, "journey_key": journey.key,
         "status": EnrolmentStatus.ACTIVE, "enrolled_at": enrolled_at, "enrolled_by_id": actor_id,
         "source": source, "materialised_until": through, "end_reason": ""}
        for p in people
    ]
    # A plain executemany, then the ids read back through the one-live-enrolment index: RETURNING
    # with many rows would turn into one statement per row on SQLite.
    bulk_insert(Enrolment.__table__, enrolment_rows)
    enrolment_of: dict[int, int] = {}
    for chunk in _chunks([p.id for p in people]):
        found = db.session.execute(
            select(Enrolment.employee_id, Enrolment.id).where(
                Enrolment.employee_id.in_(chunk), Enrolment.journey_key == journey.key,
                Enrolment.status == EnrolmentStatus.ACTIVE))
        enrolment_of.update((employee_id, enrolment_id) for employee_id, enrolment_id in found)
    result.enrolment_ids = [enrolment_of[p.id] for p in people]

    plans = plans_for([journey.id])[journey.id]
    owners = OwnerResolver(facts, today=today)
    cadence = default_cadence_days()
    rows: list[dict[str, Any]] = []
    for person in people:
        rows.extend(plan_rows(person, enrolment_of[person.id], local_date(enrolled_at, person.timezone),
                              plans, through=through, existing={}, owners=owners, now=now,
                              default_cadence=cadence))
    result.touchpoints_created = insert_touchpoints(rows, skip_conflicts=False)
    if rows:
        touchpoints_created(result.enrolment_ids, now)  # calendar invitations, in this transaction
    if audit:
        record("journey.enrolled", "journey", journey.id, actor_id=actor_id,
               summary=f"Enrolled {result.enrolled} {'person' if result.enrolled == 1 else 'people'} "
                       f"in {journey.label} ({source})",
               after={"employee_ids": [p.id for p in people][:1000], "enrolled": result.enrolled,
                      "touchpoints": result.touchpoints_created, "source": source})
    return result


def enrol(employee: Employee, journey: JourneyTemplate, *, actor_id: int | None, source: str = "hand",
          enrolled_at: datetime | None = None, today: date | None = None) -> Enrolment:
    """Enrol one person; returns their live enrolment (the existing one when already enrolled)."""
    result = enrol_many([employee.id], journey, actor_id=actor_id, source=source,
                        enrolled_at=enrolled_at, today=today, audit=False)
    if result.not_enrollable:
        raise JourneyError(f"{employee.full_name} cannot be enrolled: "
                           f"{result.not_enrollable[employee.id].lower()}")
    enrolment = db.session.scalar(
        select(Enrolment).where(Enrolment.employee_id == employee.id, Enrolment.journey_key == journey.key,
                                Enrolment.status == EnrolmentStatus.ACTIVE)
    )
    if result.enrolment_ids:
        record("enrolment.created", "employee", employee.id, actor_id=actor_id,
               summary=f"Enrolled {employee.full_name} in {journey.label} ({source})",
               after={"journey_id": journey.id, "enrolment_id": enrolment.id,
                      "touchpoints": result.touchpoints_created})
    return enrolment


def employee_ids_for(*, team_id: int | None = None, statuses: Sequence[LifecycleStatus] | None = None,
                     manager_id: int | None = None, location: str | None = None) -> list[int]:
    """The ids of people matching a bulk-enrolment filter (active records only)."""
    query = select(Employee.id).where(Employee.deactivated_at.is_(None))
    if team_id is not None:
        query = query.where(Employee.team_id == team_id)
    if statuses:
        query = query.where(Employee.status.in_(list(statuses)))
    if manager_id is not None:
        query = query.where(Employee.manager_id == manager_id)
    if location:
        query = query.where(func.lower(Employee.location) == location.strip().lower())
    return list(db.session.scalars(query.order_by(Employee.id)))


def materialise(enrolment_ids: Sequence[int], *, today: date | None = None,
                horizon: int | None = None) -> int:
    """Add every touchpoint these enrolments are missing up to the horizon; returns how many.

    Idempotent: what exists (by enrolment, template and occurrence) is never created again.
    """
    now = utcnow()
    today = today or now.date()
    through = today + timedelta(days=horizon if horizon is not None else horizon_days())
    cadence = default_cadence_days()
    created = 0
    for chunk in _chunks(list(enrolment_ids), 1000):
        enrolments = db.session.execute(
            select(Enrolment.id, Enrolment.employee_id, Enrolment.journey_id, Enrolment.enrolled_at)
            .where(Enrolment.id.in_(chunk), Enrolment.status == EnrolmentStatus.ACTIVE)
        ).all()
        if not enrolments:
            continue
        plans = plans_for(e.journey_id for e in enrolments)
        facts = load_facts([e.employee_id for e in enrolments])
        owners = OwnerResolver(facts, today=today)
        existing: dict[int, dict[str, int]] = defaultdict(dict)
        for enrolment_id, key, highest in db.session.execute(
            select(Touchpoint.enrolment_id, TouchpointTemplate.key, func.max(Touchpoint.occurrence))
            .join(TouchpointTemplate, TouchpointTemplate.id == Touchpoint.template_id)
            .where(Touchpoint.enrolment_id.in_([e.id for e in enrolments]))
            .group_by(Touchpoint.enrolment_id, TouchpointTemplate.key)
        ):
            existing[enrolment_id][key] = highest
        rows: list[dict[str, Any]] = []
        for e in enrolments:
            person = facts.get(e.employee_id)
            if person is None or person.status in (LifecycleStatus.ON_LEAVE, LifecycleStatus.ALUMNI) \
                    or person.deactivated:
                continue  # on leave: series pause; gone: nothing new
            rows.extend(plan_rows(person, e.id, local_date(e.enrolled_at, person.timezone),
                                  plans[e.journey_id], through=through, existing=existing[e.id],
                                  owners=owners, now=now, default_cadence=cadence))
        created += insert_touchpoints(rows, skip_conflicts=True)
        if rows:
            touchpoints_created(sorted({row["enrolment_id"] for row in rows}), now)
        db.session.execute(
            update(Enrolment).where(Enrolment.id.in_([e.id for e in enrolments]),
                                    or_(Enrolment.materialised_until.is_(None),
                                        Enrolment.materialised_until < through))
            .values(materialised_until=through)
        )
    return created


def extend_horizon(*, today: date | None = None, horizon: int | None = None) -> int:
    """Materialise recurring series up to today + horizon for every live enrolment that needs it.

    The scheduler calls this daily; running it twice, late, or from two processes creates nothing
    twice. Returns the number of touchpoints created.
    """
    today = today or utcnow().date()
    through = today + timedelta(days=horizon if horizon is not None else horizon_days())
    recurring = select(TouchpointTemplate.journey_id).where(
        or_(TouchpointTemplate.rrule.is_not(None), TouchpointTemplate.follows_cadence.is_(True))
    )
    ids = list(db.session.scalars(
        select(Enrolment.id).join(Employee, Employee.id == Enrolment.employee_id)
        .where(Enrolment.status == EnrolmentStatus.ACTIVE, Enrolment.journey_id.in_(recurring),
               or_(Enrolment.materialised_until.is_(None), Enrolment.materialised_until < through),
               Employee.status.not_in([LifecycleStatus.ON_LEAVE, LifecycleStatus.ALUMNI]),
               Employee.deactivated_at.is_(None))
        .order_by(Enrolment.id)
    ))
    return materialise(ids, today=today, horizon=horizon)


def complete_finished_enrolments(*, now: datetime | None = None) -> int:
    """Mark enrolments complete when their journey has no series and nothing is left open."""
    now = now or utcnow()
    recurring = select(TouchpointTemplate.journey_id).where(
        or_(TouchpointTemplate.rrule.is_not(None), TouchpointTemplate.follows_cadence.is_(True))
    )
    open_left = exists().where(Touchpoint.enrolment_id == Enrolment.id,
                               Touchpoint.status.in_(OPEN_STATUSES))
    any_touchpoint = exists().where(Touchpoint.enrolment_id == Enrolment.id)
    result = db.session.execute(
        update(Enrolment).where(Enrolment.status == EnrolmentStatus.ACTIVE,
                                Enrolment.journey_id.not_in(recurring), any_touchpoint, ~open_left)
        .values(status=EnrolmentStatus.COMPLETED, ended_at=now, end_reason="All touchpoints closed")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def cancel_open(where: Any, *, reason: str, now: datetime | None = None) -> int:
    """Cancel the open touchpoints matching `where` (a SQL condition), bumping their sequence."""
    now = now or utcnow()
    result = db.session.execute(
        update(Touchpoint).where(Touchpoint.status.in_(OPEN_STATUSES), where)
        .values(status=TouchpointStatus.CANCELLED, status_reason=reason,
                sequence=Touchpoint.sequence + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def end_enrolment(enrolment: Enrolment, *, actor_id: int | None, reason: str) -> int:
    """Take a person off a journey: its open touchpoints are cancelled. Returns how many."""
    if enrolment.status is not EnrolmentStatus.ACTIVE:
        raise JourneyError("This enrolment has already ended.")
    cancelled = cancel_open(Touchpoint.enrolment_id == enrolment.id, reason="enrolment_ended")
    enrolment.status = EnrolmentStatus.ENDED
    enrolment.ended_at = utcnow()
    enrolment.end_reason = reason[:200]
    record("enrolment.ended", "employee", enrolment.employee_id, actor_id=actor_id,
           summary=f"Ended enrolment in {enrolment.journey.label}: {reason}",
           after={"enrolment_id": enrolment.id, "cancelled_touchpoints": cancelled})
    return cancelled


def replan_open_touchpoints(employee: Employee, anchors: set[Anchor], *, today: date | None = None) -> int:
    """Move the open touchpoints hanging on these anchors to where the person's dates now put them.

    A touchpoint whose occurrence no longer exists (a series that now ends earlier) is cancelled.
    Moved ones go back to planned and their sequence is bumped so calendar invites update.
    Returns how many moved or were cancelled.
    """
    db.session.flush()
    today = today or utcnow().date()
    touchpoints = list(db.session.scalars(
        select(Touchpoint).where(Touchpoint.employee_id == employee.id,
                                 Touchpoint.status.in_(OPEN_STATUSES),
                                 Touchpoint.template_id.is_not(None),
                                 Touchpoint.enrolment_id.is_not(None))
    ))
    if not touchpoints:
        return 0
    facts = load_facts([employee.id])[employee.id]
    templates = {t.id: TemplatePlan.of(t) for t in db.session.scalars(
        select(TouchpointTemplate).where(TouchpointTemplate.id.in_({t.template_id for t in touchpoints}))
    )}
    enrolled_on = {e.id: local_date(e.enrolled_at, facts.timezone) for e in db.session.scalars(
        select(Enrolment).where(Enrolment.id.in_({t.enrolment_id for t in touchpoints}))
    )}
    cadence = default_cadence_days()
    changed = 0
    now = utcnow()
    for tp in touchpoints:
        plan = templates.get(tp.template_id)
        if plan is None or not ({plan.anchor, plan.until_anchor} & anchors):
            continue
        day = plan.occurrence_date(facts, enrolled_on[tp.enrolment_id], tp.occurrence, cadence)
        if day is None:
            tp.status, tp.status_reason = TouchpointStatus.CANCELLED, "anchor_moved"
        else:
            due = plan.due_at(facts, day)
            if due == tp.due_at and tp.status is TouchpointStatus.PLANNED:
                continue
            tp.due_at, tp.status = due, TouchpointStatus.PLANNED
        tp.sequence += 1
        tp.updated_at = now
        changed += 1
    return changed


def reassign_owner(where: Any, new_owner_id: int | None, *, now: datetime | None = None) -> int:
    """Hand the open touchpoints matching `where` to another owner (set-based)."""
    now = now or utcnow()
    result = db.session.execute(
        update(Touchpoint).where(Touchpoint.status.in_(OPEN_STATUSES), where)
        .values(owner_id=new_owner_id, sequence=Touchpoint.sequence + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def resolve_owner(employee: Employee, role: OwnerRole, *, today: date | None = None) -> int | None:
    """Who owns a touchpoint of this role for this person right now."""
    facts = load_facts([employee.id])
    return OwnerResolver(facts, today=today or utcnow().date()).owner(facts[employee.id], role)


def active_journey(key: str) -> JourneyTemplate | None:
    """The active version of the journey with this key."""
    return db.session.scalar(
        select(JourneyTemplate).where(JourneyTemplate.key == key,
                                      JourneyTemplate.status == JourneyStatus.ACTIVE)
    )


def journeys_enrolling_on(trigger) -> list[JourneyTemplate]:
    """The active journeys that enrol people automatically on this lifecycle moment."""
    return list(db.session.scalars(
        select(JourneyTemplate).where(JourneyTemplate.status == JourneyStatus.ACTIVE,
                                      JourneyTemplate.enrols_on == trigger)
        .order_by(JourneyTemplate.id)
    ))


def enrolments_of(employee_id: int, *, active_only: bool = True) -> list[Enrolment]:
    """A person's enrolments with their journeys (newest first)."""
    from sqlalchemy.orm import joinedload

    query = select(Enrolment).options(joinedload(Enrolment.journey)).where(
        Enrolment.employee_id == employee_id)
    if active_only:
        query = query.where(Enrolment.status == EnrolmentStatus.ACTIVE)
    return list(db.session.scalars(query.order_by(Enrolment.enrolled_at.desc(), Enrolment.id.desc())))

