"""Read models for the pages: a person's timeline and HR's journey map, each in a fixed number of queries."""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.access import HR_ONLY_KINDS, is_report
from touchpoints.journeys.models import (
    HUMAN_MODES,
    OPEN_STATUSES,
    AgendaItem,
    Confirmation,
    Enrolment,
    EnrolmentStatus,
    HumanTouchLevel,
    JourneyTemplate,
    LifecycleEvent,
    OffsetUnit,
    OwnerRole,
    PrivateNote,
    Touchpoint,
    TouchpointStatus,
    TouchpointTemplate,
)
from touchpoints.people.models import Employee

# ---------------------------------------------------------------- the employee timeline


@dataclass
class Timeline:
    """A person's touchpoints (past and upcoming), their lifecycle events and journeys, for one viewer."""

    employee: Employee
    viewer: object
    now: datetime
    past: list[Touchpoint]
    upcoming: list[Touchpoint]
    notes: dict[int, PrivateNote]
    events: list[LifecycleEvent]
    enrolments: list[Enrolment]
    viewer_is_line: bool

    def note_for(self, touchpoint: Touchpoint) -> PrivateNote | None:
        """The viewer's own private note on this touchpoint (never anyone else's)."""
        return self.notes.get(touchpoint.id)

    def can_manage(self, touchpoint: Touchpoint) -> bool:
        """Whether the viewer may log, reschedule or mark this touchpoint missed (no query)."""
        viewer = self.viewer
        if viewer.is_hr or touchpoint.owner_id == viewer.employee_id:
            return True
        if touchpoint.employee_id == viewer.employee_id:
            return touchpoint.owner_role is OwnerRole.EMPLOYEE
        return self.viewer_is_line and touchpoint.kind not in HR_ONLY_KINDS

    def can_confirm(self, touchpoint: Touchpoint) -> bool:
        """Whether the viewer is the person asked to confirm this touchpoint took place."""
        return touchpoint.employee_id == self.viewer.employee_id and \
            touchpoint.status is TouchpointStatus.DONE and touchpoint.confirmation is Confirmation.PENDING

    def is_overdue(self, touchpoint: Touchpoint) -> bool:
        return touchpoint.is_overdue(self.now)

    @property
    def overdue(self) -> list[Touchpoint]:
        return [t for t in self.past if t.is_open]

    @property
    def awaiting_confirmation(self) -> list[Touchpoint]:
        return [t for t in self.past if self.can_confirm(t)]


def employee_timeline(employee: Employee, *, viewer, now: datetime | None = None,
                      past_limit: int = 200) -> Timeline:
    """Everything on one person's timeline that this viewer may see, in six queries whatever its size.

    The caller checks the viewer may see the person at all (people.access.can_view_employee).
    Upcoming holds open touchpoints due from now on; past holds the rest, newest first, with
    overdue ones (open and due) at its top.
    """
    now = now or utcnow()
    viewer_is_line = viewer.employee_id != employee.id and not viewer.is_hr \
        and is_report(viewer, employee.id)
    query = (
        select(Touchpoint)
        .options(joinedload(Touchpoint.owner), joinedload(Touchpoint.logged_by),
                 selectinload(Touchpoint.agenda_items).joinedload(AgendaItem.author))
        .where(Touchpoint.employee_id == employee.id)
    )
    if not viewer.is_hr and viewer.employee_id != employee.id:
        # The line never sees grievances; anyone else only those they run.
        not_grievance = Touchpoint.kind.not_in(HR_ONLY_KINDS)
        query = query.where(not_grievance if viewer_is_line else
                            or_(not_grievance, Touchpoint.owner_id == viewer.employee_id))
    upcoming = list(db.session.scalars(
        query.where(Touchpoint.status.in_(OPEN_STATUSES), Touchpoint.due_at >= now)
        .order_by(Touchpoint.due_at, Touchpoint.id)).unique())
    past = list(db.session.scalars(
        query.where(or_(Touchpoint.status.not_in(OPEN_STATUSES), Touchpoint.due_at < now))
        .order_by(case((Touchpoint.status.in_(OPEN_STATUSES), 0), else_=1),
                  Touchpoint.due_at.desc(), Touchpoint.id.desc())
        .limit(past_limit)).unique())
    ids = [t.id for t in upcoming] + [t.id for t in past]
    notes = {n.touchpoint_id: n for n in db.session.scalars(
        select(PrivateNote).where(PrivateNote.author_id == viewer.employee_id,
                                  PrivateNote.touchpoint_id.in_(ids)))} if ids else {}
    events = list(db.session.scalars(
        select(LifecycleEvent).where(LifecycleEvent.employee_id == employee.id)
        .order_by(LifecycleEvent.effective_on.desc(), LifecycleEvent.id.desc())))
    enrolments = list(db.session.scalars(
        select(Enrolment).options(joinedload(Enrolment.journey)).where(Enrolment.employee_id == employee.id)
        .order_by(Enrolment.enrolled_at.desc())))
    return Timeline(employee, viewer, now, past, upcoming, notes, events, enrolments, viewer_is_line)


# ---------------------------------------------------------------- the journey map


@dataclass
class MapPoint:
    """One moment of the journey on the map, with its figures across the company."""

    template: TouchpointTemplate
    day: int  # roughly how many days from the anchor date, for laying points out along time
    total: int = 0
    done: int = 0
    missed: int = 0
    overdue: int = 0
    human: int = 0

    @property
    def level(self) -> HumanTouchLevel:
        return self.template.planned_mode.human_touch_level

    @property
    def completion_rate(self) -> float | None:
        due = self.done + self.missed + self.overdue
        return self.done / due if due else None


@dataclass
class StageFigures:
    """A stage of the journey: its moments and how they are going across the company."""

    name: str
    points: list[MapPoint] = field(default_factory=list)
    people: int = 0  # people whose next open moment on this journey is in this stage
    people_never_met: int = 0  # of those, people with no human touchpoint logged at all
    median_days_since_human: float | None = None

    @property
    def total(self) -> int:
        return sum(p.total for p in self.points)

    @property
    def done(self) -> int:
        return sum(p.done for p in self.points)

    @property
    def overdue(self) -> int:
        return sum(p.overdue for p in self.points)

    @property
    def human_share(self) -> float | None:
        """Share of this stage's touchpoints (done as logged, otherwise as planned) that are human."""
        return sum(p.human for p in self.points) / self.total if self.total else None

    @property
    def completion_rate(self) -> float | None:
        """Done out of those whose moment has come (done, missed, or open and overdue)."""
        due = sum(p.done + p.missed + p.overdue for p in self.points)
        return self.done / due if due else None

    @property
    def levels(self) -> dict[HumanTouchLevel, int]:
        """How many of the stage's moments are planned at each human-touch level."""
        counts = dict.fromkeys(HumanTouchLevel, 0)
        for p in self.points:
            counts[p.level] += 1
        return counts


@dataclass
class JourneyMap:
    journey: JourneyTemplate
    stages: list[StageFigures]
    now: datetime
    enrolled: int

    @property
    def points(self) -> list[MapPoint]:
        return [p for s in self.stages for p in s.points]


def _approximate_days(template: TouchpointTemplate) -> int:
    if template.offset_unit is OffsetUnit.WORKING_DAYS:
        return round(template.offset * 7 / 5)
    return template.offset


def journey_map_figures(journey: JourneyTemplate, *, now: datetime | None = None) -> JourneyMap:
    """The journey's stages and moments with company-wide figures, in three queries whatever the size.

    Figures count touchpoints of every version of the journey (matched by the moment's key), so a
    new version does not reset the picture; cancelled touchpoints are left out.
    """
    now = now or utcnow()
    templates = list(db.session.scalars(
        select(TouchpointTemplate).where(TouchpointTemplate.journey_id == journey.id)
        .order_by(TouchpointTemplate.position, TouchpointTemplate.id)))
    points = {t.key: MapPoint(t, _approximate_days(t)) for t in templates}
    stages: dict[str, StageFigures] = {}
    for t in templates:
        name = t.phase or "Journey"
        stages.setdefault(name, StageFigures(name)).points.append(points[t.key])

    is_open = Touchpoint.status.in_(OPEN_STATUSES)
    mode = func.coalesce(Touchpoint.actual_mode, Touchpoint.planned_mode)
    human_values = [m.value for m in HUMAN_MODES]
    rows = db.session.execute(
        select(TouchpointTemplate.key, func.count(),
               func.sum(case((Touchpoint.status == TouchpointStatus.DONE, 1), else_=0)),
               func.sum(case((Touchpoint.status == TouchpointStatus.MISSED, 1), else_=0)),
               func.sum(case((and_(is_open, Touchpoint.due_at < now), 1), else_=0)),
               func.sum(case((mode.in_(human_values), 1), else_=0)))
        .join(TouchpointTemplate, TouchpointTemplate.id == Touchpoint.template_id)
        .join(JourneyTemplate, JourneyTemplate.id == TouchpointTemplate.journey_id)
        .where(JourneyTemplate.key == journey.key, Touchpoint.status != TouchpointStatus.CANCELLED)
        .group_by(TouchpointTemplate.key)
    ).all()
    for key, total, done, missed, overdue, human in rows:
        point = points.get(key)
        if point is not None:  # moments removed in this version are history, not on today's map
            point.total, point.done, point.missed = total, int(done or 0), int(missed or 0)
            point.overdue, point.human = int(overdue or 0), int(human or 0)

    next_key = (
        select(TouchpointTemplate.key)
        .join(Touchpoint, Touchpoint.template_id == TouchpointTemplate.id)
        .where(Touchpoint.enrolment_id == Enrolment.id, is_open)
        .order_by(Touchpoint.due_at).limit(1).correlate(Enrolment).scalar_subquery()
    )
    last_human = (
        select(func.max(Touchpoint.happened_at))
        .where(Touchpoint.employee_id == Enrolment.employee_id, Touchpoint.status == TouchpointStatus.DONE,
               Touchpoint.actual_mode.in_(human_values))
        .correlate(Enrolment).scalar_subquery()
    )
    people = db.session.execute(
        select(next_key, last_human).where(Enrolment.journey_key == journey.key,
                                           Enrolment.status == EnrolmentStatus.ACTIVE)
    ).all()
    phase_of = {t.key: (t.phase or "Journey") for t in templates}
    last_stage = (templates[-1].phase or "Journey") if templates else None
    gaps: dict[str, list[float]] = {}
    for key, last in people:
        stage = stages.get(phase_of.get(key, last_stage)) if last_stage else None
        if stage is None:
            continue
        stage.people += 1
        if last is None:
            stage.people_never_met += 1
            continue
        if isinstance(last, str):  # an aggregate on SQLite may come back as text
            last = datetime.fromisoformat(last)
        if last.tzinfo is None:
            last = last.replace(tzinfo=UTC)
        gaps.setdefault(stage.name, []).append((now - last).total_seconds() / 86400)
    for name, values in gaps.items():
        stages[name].median_days_since_human = round(statistics.median(values), 1)
    return JourneyMap(journey, list(stages.values()), now, len(people))
