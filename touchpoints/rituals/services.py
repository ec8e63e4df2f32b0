"""Team rituals: who may run and see them, planning their series, logging attendance, reminders.

A ritual's series is materialised to the same horizon as the journeys' series, with the journeys'
RRULE code (validate_rrule, series_dates) and due times computed in the ritual's own time zone, so a
meeting at 10:00 stays at 10:00 local across daylight-saving changes. Every function here takes
plain values and never reads Flask's request: the pages, the API and the scheduler share them.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload

from touchpoints.audit.services import record
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.calendar import (
    RecurrenceError,
    WorkCalendar,
    local_due_at,
    series_dates,
    validate_rrule,
    zone,
)
from touchpoints.journeys.enrolment import horizon_days
from touchpoints.journeys.models import Mode, TouchpointKind
from touchpoints.people import fields
from touchpoints.people.access import report_ids_query
from touchpoints.people.models import Employee, LifecycleStatus, Team
from touchpoints.rituals.models import (
    RITUAL_KINDS,
    Audience,
    OccurrenceStatus,
    Presence,
    Ritual,
    RitualAttendance,
    RitualOccurrence,
)

MEMBER_STATUSES = (LifecycleStatus.ONBOARDING, LifecycleStatus.ACTIVE, LifecycleStatus.ON_LEAVE,
                   LifecycleStatus.OFFBOARDING)
MAX_DURATION = 7 * 24 * 60  # a retreat may last a week
REMINDER_LEAD = timedelta(hours=24)
LOG_AHEAD = timedelta(hours=12)  # a meeting later today can be logged once it is over
# An occurrence nobody logged: the organiser hears about it at nine the next morning, their time.
LOG_REMINDER_AT = time(9, 0)
# Older than this at the first run, an unlogged occurrence is left to the ritual's page (no nudge).
LOG_REMINDER_LOOKBACK = timedelta(days=14)
LOG_REMINDER_LIFETIME = timedelta(days=7)  # a reminder that could not go out in a week is stale
WHOLE_DAY = (time(0, 0), time(23, 59))  # rituals keep their time: no clamping to working hours


class RitualValidationError(ValueError):
    """A ritual or a log that cannot be saved; `errors` maps each field to its reason."""

    def __init__(self, errors: Mapping[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


# ---------------------------------------------------------------- teams and who may do what


@dataclass
class TeamTree:
    """Every team's parent and manager, loaded in one query (there are tens, not thousands)."""

    parent: dict[int, int | None]
    manager: dict[int, int | None]
    names: dict[int, str]
    children: dict[int | None, list[int]] = field(init=False)

    def __post_init__(self) -> None:
        # Built once: subtree() is asked for every team a manager leads.
        self.children = defaultdict(list)
        for child, parent in self.parent.items():
            self.children[parent].append(child)

    @classmethod
    def load(cls) -> TeamTree:
        parent, manager, names = {}, {}, {}
        for team_id, parent_id, manager_id, name in db.session.execute(
                select(Team.id, Team.parent_id, Team.manager_id, Team.name)):
            parent[team_id], manager[team_id], names[team_id] = parent_id, manager_id, name
        return cls(parent, manager, names)

    def ancestors(self, team_id: int | None) -> list[int]:
        """The team and every team above it (a cycle stops the walk)."""
        found: list[int] = []
        while team_id is not None and team_id not in found and team_id in self.parent:
            found.append(team_id)
            team_id = self.parent[team_id]
        return found

    def subtree(self, team_id: int) -> set[int]:
        """The team and every team below it, at any depth."""
        found: set[int] = set()
        to_visit = [team_id]
        while to_visit:
            current = to_visit.pop()
            if current in found:
                continue
            found.add(current)
            to_visit.extend(self.children.get(current, ()))
        return found


def managed_team_ids(user, tree: TeamTree | None = None) -> set[int]:
    """Teams whose rituals a manager runs: teams they or their reports lead, and their sub-teams."""
    if not user.is_manager:
        return set()
    tree = tree or TeamTree.load()
    leaders = {user.employee_id}
    if any(m is not None and m != user.employee_id for m in tree.manager.values()):
        leaders |= set(db.session.scalars(report_ids_query(user.employee_id)))
    led = {team_id for team_id, manager_id in tree.manager.items() if manager_id in leaders}
    return set().union(*(tree.subtree(t) for t in led)) if led else set()


def audience_team_ids(ritual: Ritual, tree: TeamTree) -> set[int] | None:
    """The teams a ritual is for; None means everyone."""
    if ritual.audience is Audience.EVERYONE or ritual.team_id is None:
        return None
    if ritual.audience is Audience.TEAM_AND_SUBTEAMS:
        return tree.subtree(ritual.team_id)
    return {ritual.team_id}


@dataclass
class Viewer:
    """What one signed-in person may do with rituals, worked out once per request."""

    user: Any
    tree: TeamTree
    managed: set[int]
    own_team_id: int | None

    @classmethod
    def of(cls, user) -> Viewer:
        tree = TeamTree.load()
        return cls(user, tree, managed_team_ids(user, tree), user.employee.team_id)

    def can_manage(self, ritual: Ritual) -> bool:
        """HR, the organiser, and managers of the ritual's team (company-wide: HR and organiser)."""
        if self.user.is_hr or ritual.organiser_id == self.user.employee_id:
            return True
        return ritual.audience is not Audience.EVERYONE and ritual.team_id in self.managed

    def is_member(self, ritual: Ritual) -> bool:
        """Whether the ritual is for this person's team."""
        teams = audience_team_ids(ritual, self.tree)
        return teams is None or (self.own_team_id is not None and self.own_team_id in teams)

    def can_view(self, ritual: Ritual) -> bool:
        return self.can_manage(ritual) or self.is_member(ritual)

    def can_create_for(self, team_id: int | None) -> bool:
        """HR for any audience; managers for the teams they run."""
        return self.user.is_hr or (team_id is not None and team_id in self.managed)

    def visible_query(self) -> Select:
        """A select of the rituals this person may see."""
        query = select(Ritual)
        if self.user.is_hr:
            return query
        my_teams = self.tree.ancestors(self.own_team_id)
        conditions = [Ritual.organiser_id == self.user.employee_id, Ritual.audience == Audience.EVERYONE]
        if self.managed:
            conditions.append(Ritual.team_id.in_(self.managed))
        if self.own_team_id is not None:
            conditions.append(Ritual.team_id == self.own_team_id)
            conditions.append(and_(Ritual.audience == Audience.TEAM_AND_SUBTEAMS,
                                   Ritual.team_id.in_(my_teams)))
        return query.where(or_(*conditions))

    def running_query(self) -> Select:
        """A select of the rituals this person runs: those they organise and their teams' own.

        Narrower than `can_manage` for HR on purpose: an HR partner may log any ritual, but is asked
        to log only the ones they organise or whose team they lead.
        """
        conditions = [Ritual.organiser_id == self.user.employee_id]
        if self.managed:
            conditions.append(and_(Ritual.team_id.in_(self.managed), Ritual.audience != Audience.EVERYONE))
        return select(Ritual).where(or_(*conditions))

    def team_choices(self) -> list[tuple[int, str]]:
        """Teams this person may create rituals for, by name."""
        ids = self.tree.names if self.user.is_hr else self.managed
        return sorted(((i, self.tree.names[i]) for i in ids), key=lambda pair: pair[1].lower())


def members_query(ritual: Ritual, tree: TeamTree) -> Select:
    """The people a ritual is for (at work or on leave; not before their start, not after leaving)."""
    query = select(Employee).where(Employee.deactivated_at.is_(None), Employee.status.in_(MEMBER_STATUSES))
    teams = audience_team_ids(ritual, tree)
    if teams is not None:
        query = query.where(Employee.team_id.in_(teams))
    return query.order_by(Employee.full_name, Employee.id)


# ---------------------------------------------------------------- creating and changing rituals


RITUAL_FIELDS = ("team_id", "audience", "kind", "title", "description", "planned_mode", "rrule",
                 "starts_on", "ends_on", "time_of_day", "timezone", "duration_minutes", "location",
                 "organiser_id", "active")


def _snapshot(ritual: Ritual) -> dict[str, Any]:
    values = {name: getattr(ritual, name) for name in RITUAL_FIELDS}
    return {k: (v.isoformat() if isinstance(v, date | time) else v.value if hasattr(v, "value") else v)
            for k, v in values.items()}


def check_ritual(data: Mapping[str, Any], viewer: Viewer, ritual: Ritual | None) -> dict[str, Any]:
    """The values of a ritual, checked; RitualValidationError names each field at fault."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    current = _snapshot(ritual) if ritual is not None else {}

    def value(name: str, default: Any = None) -> Any:
        return data[name] if name in data else current.get(name, default)

    try:
        clean["audience"] = Audience(str(value("audience", "team")))
    except ValueError:
        errors["audience"] = "Choose the team, the team and its sub-teams, or everyone."
        clean["audience"] = Audience.TEAM
    raw_team = value("team_id")
    team_id = int(raw_team) if str(raw_team or "").isdigit() else None
    if clean["audience"] is Audience.EVERYONE:
        team_id = team_id if team_id in viewer.tree.names else None
        if not viewer.user.is_hr and (ritual is None or ritual.audience is not Audience.EVERYONE):
            errors["audience"] = "Only HR partners plan rituals for the whole company."
    elif team_id is None or team_id not in viewer.tree.names:
        errors["team_id"] = "Choose the team this ritual belongs to."
    elif not viewer.can_create_for(team_id) and not (ritual is not None and team_id == ritual.team_id):
        errors["team_id"] = "Choose a team you run: you may plan rituals only for your own teams."
    clean["team_id"] = team_id
    try:
        kind = TouchpointKind(str(value("kind", "team_meeting")))
        if kind not in RITUAL_KINDS:
            raise ValueError
        clean["kind"] = kind
    except ValueError:
        errors["kind"] = "Choose team meeting, town hall or team retreat."
    title = str(value("title", "") or "").strip()
    if not title:
        errors["title"] = "Give the ritual a title people recognise, like Monthly team day."
    elif len(title) > 200:
        errors["title"] = "Keep the title under 200 characters."
    clean["title"] = title
    description = str(value("description", "") or "").strip()
    if len(description) > 2000:
        errors["description"] = "Keep the description under 2,000 characters."
    clean["description"] = description
    try:
        clean["planned_mode"] = Mode(str(value("planned_mode", "in_person")))
    except ValueError:
        errors["planned_mode"] = "Choose how it is meant to happen: in person, video, phone …"
    rule = str(value("rrule", "") or "").strip()
    if rule:
        try:
            rule = validate_rrule(rule)
        except RecurrenceError as error:
            errors["rrule"] = str(error)
    clean["rrule"] = rule or None
    for name, required in (("starts_on", True), ("ends_on", False)):
        try:
            clean[name] = fields.parse_date(value(name))
        except fields.FieldError as error:
            errors[name] = str(error)
            clean[name] = None
        if required and clean[name] is None and name not in errors:
            errors[name] = "Say on which day the series starts (YYYY-MM-DD)."
    if clean.get("starts_on") and clean.get("ends_on") and clean["ends_on"] < clean["starts_on"]:
        errors["ends_on"] = "The last day cannot be before the first."
    try:
        clean["time_of_day"] = fields.parse_time(value("time_of_day", "10:00")) or time(10, 0)
    except fields.FieldError as error:
        errors["time_of_day"] = str(error)
    if "organiser_email" in data:
        email = str(data.get("organiser_email") or "").strip().lower()
        organiser = db.session.scalar(select(Employee).where(func.lower(Employee.email) == email)) \
            if email else None
        if email and organiser is None:
            errors["organiser_id"] = f"No one here has the work email {email}."
        organiser_id = organiser.id if organiser else None
    else:
        organiser_raw = value("organiser_id")
        organiser_id = int(organiser_raw) if str(organiser_raw or "").isdigit() else None
        organiser = db.session.get(Employee, organiser_id) if organiser_id else None
    if ritual is None and organiser_id is None and "organiser_id" not in errors:
        organiser_id = viewer.user.employee_id  # whoever plans it organises it, unless they name someone
        organiser = db.session.get(Employee, organiser_id)
    if organiser is not None and organiser.deactivated_at is not None:
        errors["organiser_id"] = "Choose someone who still works here as the organiser."
    clean["organiser_id"] = organiser_id
    try:
        tz = value("timezone") or (organiser.timezone if organiser else "Europe/London")
        clean["timezone"] = fields.parse_timezone(str(tz))
    except fields.FieldError as error:
        errors["timezone"] = str(error)
    duration = value("duration_minutes", 60)
    if isinstance(duration, bool) or not str(duration or "").strip().isdigit() or \
            not 5 <= int(str(duration).strip()) <= MAX_DURATION:
        errors["duration_minutes"] = f"Give the length in minutes, from 5 to {MAX_DURATION:,} (a week)."
    else:
        clean["duration_minutes"] = int(str(duration).strip())
    location = str(value("location", "") or "").strip()
    if len(location) > 200:
        errors["location"] = "Keep the place under 200 characters."
    clean["location"] = location
    clean["active"] = bool(value("active", True))
    if errors:
        raise RitualValidationError(errors)
    return clean


def save_ritual(ritual: Ritual | None, data: Mapping[str, Any], *, viewer: Viewer,
                today: date | None = None) -> Ritual:
    """Create (ritual None) or change a ritual and plan its occurrences; the caller commits.

    A change that moves the series re-plans the future occurrences nobody has logged yet; the past
    and every logged or cancelled occurrence stay as they were.
    """
    clean = check_ritual(data, viewer, ritual)
    actor_id = viewer.user.id
    before = _snapshot(ritual) if ritual is not None else None
    if ritual is None:
        ritual = Ritual(created_by_id=actor_id)
        db.session.add(ritual)
    for name, value in clean.items():
        setattr(ritual, name, value)
    db.session.flush()
    after = _snapshot(ritual)
    if before is None:
        record("ritual.created", "ritual", ritual.id, actor_id=actor_id,
               summary=f"Planned the ritual {ritual.title}", after=after)
    elif before != after:
        changed = {k for k in after if after[k] != before[k]}
        record("ritual.updated", "ritual", ritual.id, actor_id=actor_id,
               summary=f"Changed the ritual {ritual.title}",
               before={k: before[k] for k in changed}, after={k: after[k] for k in changed})
        if changed & {"rrule", "starts_on", "ends_on", "time_of_day", "timezone", "organiser_id", "active"}:
            _drop_unlogged_future(ritual)
    materialise([ritual.id], today=today)
    return ritual


def _drop_unlogged_future(ritual: Ritual) -> None:
    """Remove the planned occurrences still ahead that nobody has marked, so they are planned afresh."""
    marked = select(RitualAttendance.occurrence_id)
    db.session.execute(
        RitualOccurrence.__table__.delete().where(
            RitualOccurrence.ritual_id == ritual.id, RitualOccurrence.status == OccurrenceStatus.PLANNED,
            RitualOccurrence.due_at > utcnow(), RitualOccurrence.id.not_in(marked)))
    ritual.materialised_until = None


# ---------------------------------------------------------------- the series


def _insert():
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(RitualOccurrence)


def occurrence_times(ritual: Ritual, calendar: WorkCalendar, *, from_day: date,
                     through: date) -> list[datetime]:
    """The UTC due times of a ritual's occurrences between two days (its own zone, working days)."""
    if ritual.rrule is None:
        days = [calendar.roll(ritual.starts_on)] if from_day <= ritual.starts_on <= through else []
    else:
        days = [day for _, day in series_dates(ritual.starts_on, ritual.rrule, calendar,
                                               until=ritual.ends_on, through=through) if day >= from_day]
    return [local_due_at(day, ritual.time_of_day, ritual.duration_minutes, ritual.timezone, *WHOLE_DAY)
            for day in days]


def materialise(ritual_ids: Iterable[int], *, today: date | None = None, horizon: int | None = None) -> int:
    """Plan the missing occurrences of these rituals from today up to the horizon. Idempotent.

    Occurrences are unique per ritual and due time, so a second run (or a second scheduler) adds
    nothing. Holidays and weekends follow the organiser's calendar (the next working day).
    Returns how many occurrences were added.
    """
    ids = list(ritual_ids)
    if not ids:
        return 0
    today = today or utcnow().date()
    through = today + timedelta(days=horizon if horizon is not None else horizon_days())
    rows = db.session.execute(
        select(Ritual, Employee.country_code, Employee.subdivision, Employee.work_days)
        .outerjoin(Employee, Employee.id == Ritual.organiser_id)
        .where(Ritual.id.in_(ids), Ritual.active.is_(True))
    ).all()
    now = utcnow()
    planned: list[dict[str, Any]] = []
    for ritual, country, subdivision, work_days in rows:
        calendar = WorkCalendar(country or "GB", subdivision or "", work_days or "12345")
        start = max(today, ritual.starts_on)
        for due_at in occurrence_times(ritual, calendar, from_day=start, through=through):
            planned.append({"ritual_id": ritual.id, "due_at": due_at, "status": OccurrenceStatus.PLANNED,
                            "location": ritual.location, "note": "", "created_at": now, "updated_at": now})
    added = 0
    for begin in range(0, len(planned), 500):
        statement = _insert().values(planned[begin:begin + 500]).on_conflict_do_nothing(
            index_elements=["ritual_id", "due_at"]).returning(RitualOccurrence.id)
        added += len(db.session.execute(statement).all())
    db.session.execute(update(Ritual).where(Ritual.id.in_([r.id for r, *_ in rows]))
                       .values(materialised_until=through).execution_options(synchronize_session=False))
    return added


def extend_ritual_series(*, today: date | None = None, horizon: int | None = None) -> dict[str, int]:
    """Scheduler job: extend every active ritual's series to the horizon. Idempotent; commits."""
    today = today or utcnow().date()
    through = today + timedelta(days=horizon if horizon is not None else horizon_days())
    ids = list(db.session.scalars(
        select(Ritual.id).where(Ritual.active.is_(True),
                                or_(Ritual.materialised_until.is_(None), Ritual.materialised_until < through),
                                or_(Ritual.ends_on.is_(None), Ritual.ends_on >= today))
        .order_by(Ritual.id)))
    added = materialise(ids, today=today, horizon=horizon)
    db.session.commit()
    return {"rituals": len(ids), "occurrences": added}


# ---------------------------------------------------------------- attendance


@dataclass
class AttendanceSheet:
    """An occurrence with its ritual, the people it is for and what is marked for each (3 queries)."""

    occurrence: RitualOccurrence
    members: list[Employee]
    marks: dict[int, RitualAttendance]

    @property
    def company_wide(self) -> bool:
        return self.occurrence.ritual.audience is Audience.EVERYONE

    @property
    def counts(self) -> dict[Presence, int]:
        found = {p: 0 for p in Presence}
        for mark in self.marks.values():
            found[mark.presence] += 1
        return found

    @property
    def unmarked(self) -> int:
        return sum(1 for m in self.members if m.id not in self.marks)


def load_occurrence(occurrence_id: int) -> RitualOccurrence | None:
    """An occurrence with its ritual, team and organiser (one query)."""
    return db.session.scalar(
        select(RitualOccurrence).where(RitualOccurrence.id == occurrence_id)
        .options(joinedload(RitualOccurrence.ritual).joinedload(Ritual.team),
                 joinedload(RitualOccurrence.ritual).joinedload(Ritual.organiser)))


def attendance_sheet(occurrence: RitualOccurrence, tree: TeamTree) -> AttendanceSheet:
    """The members and marks of an occurrence; people marked who have since left stay listed.

    A company-wide ritual lists only the people who marked themselves: a town hall's audience is
    the whole company, too many rows for one form, so people say for themselves whether they came.
    """
    company_wide = occurrence.ritual.audience is Audience.EVERYONE
    members = [] if company_wide else list(db.session.scalars(members_query(occurrence.ritual, tree)))
    marks = {m.employee_id: m for m in db.session.scalars(
        select(RitualAttendance).where(RitualAttendance.occurrence_id == occurrence.id))}
    missing = set(marks) - {m.id for m in members}
    if missing:
        members += list(db.session.scalars(select(Employee).where(Employee.id.in_(missing))
                                           .order_by(Employee.full_name)))
    return AttendanceSheet(occurrence, members, marks)


def can_log_yet(occurrence: RitualOccurrence, now: datetime | None = None) -> bool:
    """An occurrence is logged once it has happened (or is happening today)."""
    return occurrence.due_at <= (now or utcnow()) + LOG_AHEAD


def log_occurrence(occurrence: RitualOccurrence, *, actual_mode: str | Mode | None, location: str = "",
                   note: str = "", presences: Mapping[int, str | Presence], member_ids: set[int],
                   actor, now: datetime | None = None) -> int:
    """Log an occurrence as held, with everyone's attendance, all or nothing; the caller commits.

    `member_ids` are the people the form listed; anyone else is refused, so nothing is written when
    one mark is wrong. A fixed number of statements whatever the team's size. Returns how many
    people were marked.
    """
    now = now or utcnow()
    errors: dict[str, str] = {}
    if occurrence.status is OccurrenceStatus.CANCELLED:
        errors["status"] = "This occurrence was cancelled; it cannot be logged as held."
    try:
        mode = Mode(str(actual_mode.value if isinstance(actual_mode, Mode) else actual_mode or ""))
    except ValueError:
        errors["actual_mode"] = "Say how it happened: in person, video call, phone …"
        mode = None
    if not can_log_yet(occurrence, now):
        errors["status"] = "This occurrence is still ahead: log it once it has happened."
    location = (location or "").strip()
    if len(location) > 200:
        errors["location"] = "Keep the place under 200 characters."
    note = (note or "").strip()
    if len(note) > 2000:
        errors["note"] = "Keep the note under 2,000 characters."
    clean: dict[int, Presence] = {}
    for employee_id, raw in presences.items():
        if employee_id not in member_ids:
            errors[f"attendance.{employee_id}"] = "This person is not in the ritual's audience."
            continue
        try:
            clean[employee_id] = Presence(str(raw.value if isinstance(raw, Presence) else raw))
        except ValueError:
            errors[f"attendance.{employee_id}"] = "Choose in person, remote or absent."
    if errors:
        raise RitualValidationError(errors)
    occurrence.status = OccurrenceStatus.HELD
    occurrence.actual_mode = mode
    occurrence.location = location or occurrence.location
    occurrence.note = note
    occurrence.logged_by_id = actor.id
    occurrence.logged_at = now
    if clean:
        # Replaced as a set: one delete and one multi-row insert, whatever the team's size.
        db.session.execute(RitualAttendance.__table__.delete().where(
            RitualAttendance.occurrence_id == occurrence.id, RitualAttendance.employee_id.in_(list(clean))))
        db.session.execute(RitualAttendance.__table__.insert(), [
            {"occurrence_id": occurrence.id, "employee_id": employee_id, "presence": presence.value,
             "marked_by_id": actor.id, "marked_at": now} for employee_id, presence in clean.items()])
    withdraw_log_reminder(occurrence.id)
    record("ritual.logged", "ritual", occurrence.ritual_id, actor_id=actor.id,
           summary=f"Logged {occurrence.ritual.title} as held ({mode.label.lower()}), "
                   f"{sum(p is not Presence.ABSENT for p in clean.values())} of {len(clean)} there",
           after={"occurrence_id": occurrence.id, "actual_mode": mode.value,
                  "attendance": {p.value: sum(v is p for v in clean.values()) for p in Presence}})
    return len(clean)


def mark_own_attendance(occurrence: RitualOccurrence, *, employee_id: int, presence: str | Presence,
                        actor, now: datetime | None = None) -> Presence:
    """A member says whether they were there (or will be absent); the caller commits."""
    now = now or utcnow()
    if occurrence.status is OccurrenceStatus.CANCELLED:
        raise RitualValidationError({"presence": "This occurrence was cancelled."})
    try:
        value = Presence(str(presence.value if isinstance(presence, Presence) else presence))
    except ValueError:
        raise RitualValidationError({"presence": "Choose in person, remote or absent."}) from None
    if value is not Presence.ABSENT and not can_log_yet(occurrence, now):
        raise RitualValidationError({"presence": "You can say you were there once it has started."})
    mark = db.session.get(RitualAttendance, (occurrence.id, employee_id))
    if mark is None:
        db.session.add(RitualAttendance(occurrence_id=occurrence.id, employee_id=employee_id, presence=value,
                                        marked_by_id=actor.id, marked_at=now))
    else:
        mark.presence, mark.marked_by_id, mark.marked_at = value, actor.id, now
    return value


def cancel_occurrence(occurrence: RitualOccurrence, *, reason: str, actor) -> None:
    """Call one occurrence off (the series goes on); the caller commits."""
    if occurrence.status is not OccurrenceStatus.PLANNED:
        raise RitualValidationError({"status": "Only a planned occurrence can be called off."})
    reason = (reason or "").strip()
    if len(reason) > 500:
        raise RitualValidationError({"note": "Keep the reason under 500 characters."})
    occurrence.status = OccurrenceStatus.CANCELLED
    occurrence.note = reason
    occurrence.logged_by_id, occurrence.logged_at = actor.id, utcnow()
    withdraw_log_reminder(occurrence.id)
    record("ritual.cancelled", "ritual", occurrence.ritual_id, actor_id=actor.id,
           summary=f"Called off {occurrence.ritual.title} on {occurrence.due_at:%Y-%m-%d}",
           after={"occurrence_id": occurrence.id, "reason": reason})


# ---------------------------------------------------------------- lists


@dataclass
class RitualRow:
    """A ritual with its next occurrence and its last one held (for lists)."""

    ritual: Ritual
    next_due: datetime | None
    next_id: int | None
    last_held: datetime | None
    last_mode: Mode | None


def ritual_rows(query: Select, *, now: datetime | None = None) -> list[RitualRow]:
    """Rituals of a select with their next and last occurrences: three queries in all."""
    now = now or utcnow()
    rituals = list(db.session.scalars(
        query.options(joinedload(Ritual.team), joinedload(Ritual.organiser))
        .order_by(Ritual.title, Ritual.id)))
    ids = [r.id for r in rituals]
    if not ids:
        return []
    upcoming = (select(RitualOccurrence.ritual_id, RitualOccurrence.id, RitualOccurrence.due_at,
                       func.row_number().over(partition_by=RitualOccurrence.ritual_id,
                                              order_by=RitualOccurrence.due_at).label("n"))
                .where(RitualOccurrence.ritual_id.in_(ids),
                       RitualOccurrence.status == OccurrenceStatus.PLANNED,
                       RitualOccurrence.due_at >= now).subquery())
    nexts = {rid: (oid, due) for rid, oid, due in db.session.execute(
        select(upcoming.c.ritual_id, upcoming.c.id, upcoming.c.due_at).where(upcoming.c.n == 1))}
    held = (select(RitualOccurrence.ritual_id, RitualOccurrence.due_at, RitualOccurrence.actual_mode,
                   func.row_number().over(partition_by=RitualOccurrence.ritual_id,
                                          order_by=RitualOccurrence.due_at.desc()).label("n"))
            .where(RitualOccurrence.ritual_id.in_(ids), RitualOccurrence.status == OccurrenceStatus.HELD)
            .subquery())
    lasts = {rid: (due, mode) for rid, due, mode in db.session.execute(
        select(held.c.ritual_id, held.c.due_at, held.c.actual_mode).where(held.c.n == 1))}
    rows = []
    for ritual in rituals:
        next_id, next_due = nexts.get(ritual.id, (None, None))
        last_due, last_mode = lasts.get(ritual.id, (None, None))
        rows.append(RitualRow(ritual, _aware(next_due), next_id, _aware(last_due),
                              Mode(last_mode) if last_mode else None))
    return rows


def _aware(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # a window function's column comes back as text on SQLite
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def upcoming_occurrences(query: Select, *, now: datetime | None = None, limit: int = 5,
                         until: datetime | None = None) -> list[RitualOccurrence]:
    """The next planned occurrences of the rituals a select gives, soonest first (one query)."""
    now = now or utcnow()
    ids = query.with_only_columns(Ritual.id).where(Ritual.active.is_(True))
    statement = (select(RitualOccurrence).options(joinedload(RitualOccurrence.ritual).joinedload(Ritual.team))
                 .where(RitualOccurrence.ritual_id.in_(ids),
                        RitualOccurrence.status == OccurrenceStatus.PLANNED,
                        RitualOccurrence.due_at >= now - timedelta(hours=2))
                 .order_by(RitualOccurrence.due_at).limit(limit))
    if until is not None:
        statement = statement.where(RitualOccurrence.due_at <= until)
    return list(db.session.scalars(statement))


def team_rituals_ahead(employee: Employee, *, now: datetime | None = None, limit: int = 3,
                       days: int = 45) -> list[RitualOccurrence]:
    """The next occurrences of the rituals for a person's team and the company's (two queries)."""
    now = now or utcnow()
    tree = TeamTree.load()
    conditions = [Ritual.audience == Audience.EVERYONE]
    if employee.team_id is not None:
        conditions += [Ritual.team_id == employee.team_id,
                       and_(Ritual.audience == Audience.TEAM_AND_SUBTEAMS,
                            Ritual.team_id.in_(tree.ancestors(employee.team_id)))]
    return upcoming_occurrences(select(Ritual).where(or_(*conditions)), now=now, limit=limit,
                                until=now + timedelta(days=days))


def occurrences_of(ritual: Ritual, *, now: datetime | None = None, past: int = 12,
                   ahead: int = 12) -> tuple[list[RitualOccurrence], list[RitualOccurrence], dict[int, dict]]:
    """A ritual's recent past and coming occurrences, with attendance counts per occurrence (3 queries)."""
    now = now or utcnow()
    coming = list(db.session.scalars(
        select(RitualOccurrence)
        .where(RitualOccurrence.ritual_id == ritual.id, RitualOccurrence.due_at >= now)
        .order_by(RitualOccurrence.due_at).limit(ahead)))
    before = list(db.session.scalars(
        select(RitualOccurrence).where(RitualOccurrence.ritual_id == ritual.id, RitualOccurrence.due_at < now)
        .order_by(RitualOccurrence.due_at.desc()).limit(past)))
    ids = [o.id for o in coming + before]
    counts: dict[int, dict] = defaultdict(lambda: {p: 0 for p in Presence})
    if ids:
        for occurrence_id, presence, count in db.session.execute(
                select(RitualAttendance.occurrence_id, RitualAttendance.presence, func.count())
                .where(RitualAttendance.occurrence_id.in_(ids))
                .group_by(RitualAttendance.occurrence_id, RitualAttendance.presence)):
            counts[occurrence_id][presence] = count
    return before, coming, counts


def last_in_person_by_team(team_ids: Iterable[int] | None = None, *,
                           kinds: Iterable[TouchpointKind] = (), min_share: float | None = None,
                           now: datetime | None = None) -> dict[int, datetime]:
    """The last held in-person occurrence of each team's own rituals (one query).

    With `min_share`, an occurrence counts only when at least that share of the people marked for it
    were there in person (an occurrence with no attendance marked does not count then).
    """
    now = now or utcnow()
    in_person = func.sum(case((RitualAttendance.presence == Presence.IN_PERSON, 1), else_=0))
    marked = func.count(RitualAttendance.employee_id)
    per_occurrence = (
        select(Ritual.team_id.label("team_id"), RitualOccurrence.due_at.label("due_at"),
               in_person.label("in_person"), marked.label("marked"))
        .join(Ritual, Ritual.id == RitualOccurrence.ritual_id)
        .outerjoin(RitualAttendance, RitualAttendance.occurrence_id == RitualOccurrence.id)
        .where(RitualOccurrence.status == OccurrenceStatus.HELD,
               RitualOccurrence.actual_mode == Mode.IN_PERSON, RitualOccurrence.due_at <= now,
               Ritual.team_id.is_not(None))
        .group_by(RitualOccurrence.id, Ritual.team_id, RitualOccurrence.due_at)
    )
    kinds = list(kinds)
    if kinds:
        per_occurrence = per_occurrence.where(Ritual.kind.in_(kinds))
    if team_ids is not None:
        per_occurrence = per_occurrence.where(Ritual.team_id.in_(list(team_ids)))
    if min_share is not None:
        per_occurrence = per_occurrence.having(and_(marked > 0, in_person >= marked * min_share))
    sub = per_occurrence.subquery()
    rows = db.session.execute(select(sub.c.team_id, func.max(sub.c.due_at)).group_by(sub.c.team_id))
    return {team_id: _aware(last) for team_id, last in rows}


# ---------------------------------------------------------------- reminders


def remind_organisers(now: datetime | None = None) -> dict[str, int]:
    """Scheduler job: a reminder to the organiser (else the team's manager) a day before each occurrence,
    and the morning after one nobody logged (`remind_to_log_attendance`).

    De-duplicated by occurrence, recipient and due time, so running twice, late, or from two
    processes queues nothing twice; a moved occurrence is reminded again. Commits.
    """
    from touchpoints.nudges.models import NudgeKind
    from touchpoints.nudges.services import enqueue_many, preferred_channel

    now = now or utcnow()
    recipient_id = func.coalesce(Ritual.organiser_id, Team.manager_id)
    rows = db.session.execute(
        select(RitualOccurrence.id, RitualOccurrence.due_at, Ritual.id, Ritual.title, Ritual.location,
               RitualOccurrence.location, Ritual.planned_mode, Team.name, Employee.id, Employee.timezone,
               Employee.preferred_channel)
        .join(Ritual, Ritual.id == RitualOccurrence.ritual_id)
        .outerjoin(Team, Team.id == Ritual.team_id)
        .join(Employee, Employee.id == recipient_id)
        .where(RitualOccurrence.status == OccurrenceStatus.PLANNED, RitualOccurrence.due_at > now,
               RitualOccurrence.due_at <= now + REMINDER_LEAD, Ritual.active.is_(True),
               Employee.deactivated_at.is_(None))
    ).all()
    nudges = []
    for (occ_id, due_at, ritual_id, title, ritual_place, place, mode, team_name, person_id, tz,
         channel) in rows:
        local = due_at.astimezone(zone(tz))
        where = place or ritual_place
        nudges.append({
            "dedup_key": f"ritual:{occ_id}:{person_id}:{due_at:%Y%m%dT%H%M}",
            "kind": NudgeKind.RITUAL_REMINDER,
            "recipient_id": person_id,
            "channel": preferred_channel(channel),
            "next_attempt_at": now,
            "expires_at": due_at,
            "payload": {
                "headline": f"{title} is coming up: {local:%a %-d %b, %H:%M}",
                "detail": f"{team_name or 'Everyone'}, {Mode(mode).label.lower()}"
                          + (f", {where}" if where else "")
                          + ". Afterwards, log who was there in one form.",
                "link": f"/rituals/occurrences/{occ_id}",
                "at": now.isoformat(), "ritual_id": ritual_id,
            },
        })
    added = enqueue_many(nudges)
    db.session.commit()
    # The same job asks, the morning after, for the occurrences nobody logged.
    after = remind_to_log_attendance(now)
    return {"due": len(rows), "queued": added, "to_log": after["due"], "log_reminders": after["queued"]}


def log_reminder_key(occurrence_id: int) -> str:
    """The outbox key of an occurrence's reminder to log attendance: one per occurrence, ever."""
    return f"ritual-log:{occurrence_id}"


def log_reminder_moment(starts_at: datetime, ends_at: datetime, timezone: str) -> datetime:
    """Nine o'clock the morning after an occurrence, in this zone (in UTC).

    "The morning after" is the local day after it began, or after it ended when it ran past that
    morning (a retreat). Built from local calendar days, so it stays at nine across daylight saving.
    """
    where = zone(timezone)
    moment = datetime.combine(starts_at.astimezone(where).date() + timedelta(days=1), LOG_REMINDER_AT,
                              tzinfo=where)
    if moment <= ends_at:
        moment = datetime.combine(ends_at.astimezone(where).date() + timedelta(days=1), LOG_REMINDER_AT,
                                  tzinfo=where)
    return moment.astimezone(UTC)


def remind_to_log_attendance(now: datetime | None = None) -> dict[str, int]:
    """Ask the organiser (else the team's manager) to log an occurrence nobody logged.

    Queued once an occurrence is over, to go out the next morning in the recipient's zone (delivery
    holds it further through their quiet hours, like every nudge). Once per occurrence: the key
    holds across runs and processes; logging or calling the occurrence off withdraws it. Commits.
    """
    from touchpoints.nudges.models import NudgeKind
    from touchpoints.nudges.services import enqueue_many, preferred_channel

    now = now or utcnow()
    recipient_id = func.coalesce(Ritual.organiser_id, Team.manager_id)
    rows = db.session.execute(
        select(RitualOccurrence.id, RitualOccurrence.due_at, Ritual.id, Ritual.title, Ritual.duration_minutes,
               Team.name, Employee.id, Employee.timezone, Employee.preferred_channel)
        .join(Ritual, Ritual.id == RitualOccurrence.ritual_id)
        .outerjoin(Team, Team.id == Ritual.team_id)
        .join(Employee, Employee.id == recipient_id)
        .where(RitualOccurrence.status == OccurrenceStatus.PLANNED, RitualOccurrence.due_at <= now,
               RitualOccurrence.due_at >= now - LOG_REMINDER_LOOKBACK, Employee.deactivated_at.is_(None))
    ).all()
    nudges = []
    for occ_id, due_at, ritual_id, title, minutes, team_name, person_id, tz, channel in rows:
        ends_at = due_at + timedelta(minutes=minutes)
        if ends_at > now:
            continue  # still going on: asked the next morning, once it is over
        send_at = log_reminder_moment(due_at, ends_at, tz)
        local = due_at.astimezone(zone(tz))
        nudges.append({
            "dedup_key": log_reminder_key(occ_id),
            "kind": NudgeKind.RITUAL_REMINDER,
            "recipient_id": person_id,
            "channel": preferred_channel(channel),
            "next_attempt_at": max(send_at, now),
            "expires_at": max(send_at, now) + LOG_REMINDER_LIFETIME,
            "payload": {
                "headline": f"Who came to {title} on {local:%a %-d %b}?",
                "detail": f"{team_name or 'Everyone'}'s {title} is not logged yet. Log it as held and tick "
                          "who was there in one form, or say it was called off.",
                "link": f"/rituals/occurrences/{occ_id}#log",
                "at": now.isoformat(), "ritual_id": ritual_id, "occurrence_id": occ_id,
            },
        })
    added = enqueue_many(nudges)
    db.session.commit()
    return {"due": len(nudges), "queued": added}


def withdraw_log_reminder(occurrence_id: int) -> int:
    """Cancel an occurrence's reminder to log it if it has not gone out yet (it was logged or called off)."""
    from touchpoints.nudges.models import DUE_STATUSES, Nudge, NudgeStatus

    return db.session.execute(
        update(Nudge).where(Nudge.dedup_key == log_reminder_key(occurrence_id),
                            Nudge.status.in_(DUE_STATUSES))
        .values(status=NudgeStatus.CANCELLED, updated_at=utcnow(),
                last_error="Not needed any more: the occurrence was logged or called off.")
        .execution_options(synchronize_session=False)).rowcount or 0


def unlogged_occurrences(query: Select, *, now: datetime | None = None, limit: int = 10,
                         since: timedelta = timedelta(days=90)) -> tuple[list[RitualOccurrence], int]:
    """Occurrences of a select's rituals that have begun but were neither logged nor called off.

    Newest first, at most `limit`, with how many there are in all (two queries at most).
    """
    now = now or utcnow()
    ids = query.with_only_columns(Ritual.id)
    where = (RitualOccurrence.ritual_id.in_(ids), RitualOccurrence.status == OccurrenceStatus.PLANNED,
             RitualOccurrence.due_at <= now, RitualOccurrence.due_at >= now - since)
    found = list(db.session.scalars(
        select(RitualOccurrence).options(joinedload(RitualOccurrence.ritual).joinedload(Ritual.team))
        .where(*where).order_by(RitualOccurrence.due_at.desc(), RitualOccurrence.id.desc()).limit(limit)))
    total = len(found) if len(found) < limit else \
        db.session.scalar(select(func.count()).select_from(RitualOccurrence).where(*where)) or 0
    return found, total
