"""Buddy and mentor programmes: their settings, suggestions with reasons, making and ending pairs, figures.

A pair is a SupportAssignment (so owner resolution hands the buddy or mentor their touchpoints)
plus an enrolment of the person supported in the programme's journey, both written with the
ProgrammeMatch that ties them together. Services take plain arguments and the acting user; the
caller commits or rolls back.
"""
from __future__ import annotations

import heapq
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload

from touchpoints.audit.services import record
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.calendar import zone
from touchpoints.journeys.models import (
    HUMAN_MODES,
    Enrolment,
    EnrolmentStatus,
    JourneyStatus,
    JourneyTemplate,
    OwnerRole,
    SupportAssignment,
    SupportKind,
    Touchpoint,
    TouchpointStatus,
    TouchpointTemplate,
)
from touchpoints.journeys.services import (
    JourneyError,
    JourneyValidationError,
    active_journey,
    assign_support,
    end_enrolment,
    end_support,
    enrol,
)
from touchpoints.nudges.models import DeliveryChannel, NudgeKind
from touchpoints.nudges.services import enqueue
from touchpoints.people.models import Employee, LifecycleStatus, Team
from touchpoints.programmes.models import EndedBy, EndReason, MatchStatus, Programme, ProgrammeMatch

SUGGESTION_LIMIT = 10
MAX_LOAD_CAP = 20
MAX_TENURE_MONTHS = 240
NOTE_LIMIT = 280
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class ProgrammeError(Exception):
    """Something about a programme or pair that cannot happen now; the message says why."""

    status = 409


class ProgrammeValidationError(ProgrammeError, ValueError):
    """Input that cannot be saved; `errors` maps each field name to its reason."""

    status = 422

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class NotAllowed(ProgrammeError):
    """The acting person may not do this (the message says who may)."""

    status = 403


# ---------------------------------------------------------------- programmes


PROGRAMME_FIELDS = ("key", "name", "kind", "description", "journey_key", "load_cap", "min_tenure_months",
                    "active")


def _whole(value: Any, name: str, low: int, high: int, errors: dict[str, str]) -> int | None:
    if isinstance(value, bool) or value is None or value == "":
        errors[name] = "Give a whole number."
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors[name] = "Give a whole number."
        return None
    if not low <= number <= high:
        errors[name] = f"Give a number from {low} to {high}."
        return None
    return number


def check_programme(data: dict[str, Any], *, programme: Programme | None = None) -> dict[str, Any]:
    """Validated programme fields; ProgrammeValidationError names each field at fault."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    unknown = [name for name in data if name not in PROGRAMME_FIELDS]
    for name in unknown:
        errors[name] = "Unknown field."
    if programme is None or "key" in data:
        key = str(data.get("key") or "").strip().lower()
        if not KEY_PATTERN.match(key):
            errors["key"] = "Use lower-case letters, digits, hyphens or underscores (up to 64)."
        elif programme is not None and key != programme.key:
            errors["key"] = "A programme's key never changes."
        elif programme is None and db.session.scalar(select(Programme.id).where(Programme.key == key)):
            errors["key"] = f"'{key}' is already used by another programme."
        clean["key"] = key
    if programme is None or "name" in data:
        name = " ".join(str(data.get("name") or "").split())
        if not name:
            errors["name"] = "Give the programme a name people will recognise."
        elif len(name) > 120:
            errors["name"] = "Keep the name under 120 characters."
        clean["name"] = name
    if programme is None or "kind" in data:
        try:
            kind = SupportKind(str(data.get("kind") or ""))
        except ValueError:
            errors["kind"] = "Choose buddy or mentor."
        else:
            if programme is not None and kind is not programme.kind and _has_matches(programme):
                errors["kind"] = "Pairs exist already: a programme with pairs keeps its kind."
            clean["kind"] = kind
    if "description" in data:
        description = str(data.get("description") or "").strip()
        if len(description) > 2000:
            errors["description"] = "Keep the description under 2,000 characters."
        clean["description"] = description
    if programme is None or "journey_key" in data:
        journey_key = str(data.get("journey_key") or "").strip()
        journey = active_journey(journey_key) if journey_key else None
        kind_now = clean.get("kind") or (programme.kind if programme is not None else None)
        if journey is None:
            errors["journey_key"] = "Choose an active journey for the pair's meetings."
        elif kind_now is not None and not _owns_moments(journey, kind_now):
            errors["journey_key"] = (f"{journey.label} has no touchpoint owned by the {kind_now.value}: "
                                     f"the pair would have nothing to meet for. Choose a journey "
                                     f"with {kind_now.value} touchpoints.")
        else:
            clean["journey_key"] = journey_key
    if programme is None or "load_cap" in data:
        clean["load_cap"] = _whole(data.get("load_cap"), "load_cap", 1, MAX_LOAD_CAP, errors)
    if programme is None or "min_tenure_months" in data:
        clean["min_tenure_months"] = _whole(data.get("min_tenure_months", 0), "min_tenure_months", 0,
                                            MAX_TENURE_MONTHS, errors)
    if "active" in data:
        if not isinstance(data["active"], bool):
            errors["active"] = "Send true or false."
        clean["active"] = bool(data["active"])
    if errors:
        raise ProgrammeValidationError(errors)
    return clean


def _owns_moments(journey: JourneyTemplate, kind: SupportKind) -> bool:
    """Whether a journey has touchpoints its buddy (or mentor) owns."""
    role = OwnerRole.BUDDY if kind is SupportKind.BUDDY else OwnerRole.MENTOR
    return db.session.scalar(select(TouchpointTemplate.id).where(TouchpointTemplate.journey_id == journey.id,
                                                                 TouchpointTemplate.owner_role == role)
                             .limit(1)) is not None


def _has_matches(programme: Programme) -> bool:
    return db.session.scalar(select(ProgrammeMatch.id).where(ProgrammeMatch.programme_id == programme.id)
                             .limit(1)) is not None


def create_programme(data: dict[str, Any], *, actor_id: int | None) -> Programme:
    """Create a programme from validated fields."""
    clean = check_programme(data)
    programme = Programme(**clean, created_by_id=actor_id)
    db.session.add(programme)
    db.session.flush()
    record("programme.created", "programme", programme.id, actor_id=actor_id,
           summary=f"Created the programme {programme.name}", after=_audit_view(programme))
    return programme


def update_programme(programme: Programme, data: dict[str, Any], *, actor_id: int | None) -> Programme:
    """Change a programme's settings; pairs already made keep going (a lower cap makes no one leave)."""
    clean = check_programme(data, programme=programme)
    before = _audit_view(programme)
    for name, value in clean.items():
        setattr(programme, name, value)
    db.session.flush()
    record("programme.updated", "programme", programme.id, actor_id=actor_id,
           summary=f"Changed the programme {programme.name}", before=before, after=_audit_view(programme))
    return programme


def _audit_view(programme: Programme) -> dict[str, Any]:
    return {"key": programme.key, "name": programme.name, "kind": programme.kind.value,
            "journey_key": programme.journey_key, "load_cap": programme.load_cap,
            "min_tenure_months": programme.min_tenure_months, "active": programme.active}


def list_programmes(*, active_only: bool = False) -> list[Programme]:
    """Every programme, buddies first, then by name."""
    query = select(Programme)
    if active_only:
        query = query.where(Programme.active.is_(True))
    return list(db.session.scalars(query.order_by(Programme.kind, Programme.name)))


def journey_choices() -> list[tuple[str, str]]:
    """Active journeys a programme may use, as (key, label)."""
    rows = db.session.scalars(select(JourneyTemplate).where(JourneyTemplate.status == JourneyStatus.ACTIVE)
                              .order_by(JourneyTemplate.name))
    return [(j.key, j.label) for j in rows]


# ---------------------------------------------------------------- who may do what


def match_refusal(user, programme: Programme, employee_id: int, *, manager_of: bool) -> str | None:
    """Why this user may not pick a partner for this person in this programme, or None when they may.

    HR partners pick for anyone; a manager picks buddies (never mentors) for their own reports.
    `manager_of` says whether the user manages the person (directly or further up).
    """
    if user.is_hr:
        return None
    if employee_id == user.employee_id:
        return "You cannot pick your own buddy or mentor: ask your manager or HR partner."
    if not (user.is_manager and manager_of):
        return "Only HR partners, and managers for their own reports, may pick a buddy or mentor."
    if programme.kind is not SupportKind.BUDDY:
        return "Managers pick buddies for their reports; mentors are matched by an HR partner."
    return None


def manages(user, employee_id: int) -> bool:
    """Whether this user manages the person, directly or further up the line."""
    from touchpoints.people.access import report_ids_query

    if not user.is_manager:
        return False
    reports = report_ids_query(user.employee_id).subquery()
    return db.session.scalar(select(reports.c.id).where(reports.c.id == employee_id)) is not None


def end_side(user, match: ProgrammeMatch) -> EndedBy | None:
    """Which side this user ends the pair as: either person, or HR; None when they may not."""
    if user.employee_id == match.employee_id:
        return EndedBy.EMPLOYEE
    if user.employee_id == match.partner_id:
        return EndedBy.PARTNER
    if user.is_hr:
        return EndedBy.HR
    return None


def can_see_match(user, match: ProgrammeMatch) -> bool:
    """The two people and HR see a pair (and its note); nobody else."""
    return user.is_hr or user.employee_id in (match.employee_id, match.partner_id)


# ---------------------------------------------------------------- load and eligibility


def _open_support(kind: SupportKind, today: date):
    return and_(SupportAssignment.kind == kind, SupportAssignment.started_on <= today,
                or_(SupportAssignment.ended_on.is_(None), SupportAssignment.ended_on > today))


def load_of(partner_id: int, kind: SupportKind, *, today: date | None = None) -> int:
    """How many people this person supports as a buddy (or mentor) now, in any programme or by hand."""
    today = today or utcnow().date()
    return db.session.scalar(select(func.count()).select_from(SupportAssignment).where(
        SupportAssignment.partner_id == partner_id, _open_support(kind, today))) or 0


def tenure_cutoff(programme: Programme, today: date) -> date:
    """People who started on or before this day have the tenure the programme asks of partners."""
    return today - relativedelta(months=programme.min_tenure_months)


def tenure_months(started: date | None, today: date) -> int:
    """Whole months since a start date (0 when unknown or ahead)."""
    if started is None or started > today:
        return 0
    # Plain arithmetic, not relativedelta: suggestions run this for every candidate in the company.
    return (today.year - started.year) * 12 + today.month - started.month - (today.day < started.day)


def duration_words(months: int) -> str:
    """'3 years', '1 year', '8 months', '1 month'."""
    if months >= 12:
        years = months // 12
        return "1 year" if years == 1 else f"{years} years"
    return "1 month" if months == 1 else f"{months} months"


def tenure_words(months: int) -> str:
    """'3 years' tenure', '1 year's tenure', '8 months' tenure'."""
    words = duration_words(months)
    return f"{words}' tenure" if words.endswith("s") else f"{words}'s tenure"


def partner_refusals(programme: Programme, employee: Employee, partner: Employee, *,
                     today: date) -> dict[str, str]:
    """Why this partner cannot be matched with this person (field errors), before load is counted."""
    errors: dict[str, str] = {}
    if employee.status is LifecycleStatus.ALUMNI or employee.deactivated_at is not None:
        errors["employee_id"] = f"{employee.full_name} has left the company."
    word = programme.partner_word
    if partner.id == employee.id:
        errors["partner_id"] = f"Nobody can be their own {word}."
    elif partner.status is not LifecycleStatus.ACTIVE or partner.deactivated_at is not None:
        errors["partner_id"] = (f"{partner.full_name} is {partner.status.label.lower()}: only people at "
                                f"work now can be a {word}.")
    elif partner.id == employee.manager_id:
        errors["partner_id"] = f"{partner.full_name} is {employee.full_name}'s manager: choose someone else."
    elif partner.manager_id == employee.id:
        errors["partner_id"] = f"{partner.full_name} reports to {employee.full_name}: choose someone else."
    else:
        started = partner.start_date or partner.hire_date
        if started is None or started > tenure_cutoff(programme, today):
            errors["partner_id"] = (f"{programme.name} asks for at least {programme.min_tenure_months} "
                                    f"months' tenure; {partner.full_name} has been here "
                                    f"{duration_words(tenure_months(started, today))}.")
    return errors


# ---------------------------------------------------------------- suggestions


@dataclass
class Suggestion:
    """A possible buddy or mentor, with a score and the reasons behind it in plain words."""

    employee_id: int
    full_name: str
    job_title: str
    team: str
    location: str
    timezone: str
    load: int
    cap: int
    tenure_months: int
    score: float
    reasons: list[str] = field(default_factory=list)


def _work_window_utc(day: date, tz: str, start: time, end: time) -> tuple[datetime, datetime]:
    where = zone(tz)
    begin = datetime.combine(day, start, tzinfo=where).astimezone(UTC)
    finish = datetime.combine(day, end, tzinfo=where).astimezone(UTC)
    if finish <= begin:  # a night shift runs past midnight
        finish += timedelta(days=1)
    return begin, finish


def overlap_hours(day: date, first: tuple[str, time, time], second: tuple[str, time, time]) -> float:
    """Hours two people's working days overlap on this day, each in their own time zone."""
    a_start, a_end = _work_window_utc(day, *first)
    b_start, b_end = _work_window_utc(day, *second)
    seconds = (min(a_end, b_end) - max(a_start, b_start)).total_seconds()
    return max(seconds, 0) / 3600


def _hours_words(hours: float) -> str:
    rounded = round(hours * 2) / 2
    text = f"{rounded:g}"
    return f"{text} hour of working-time overlap" if rounded == 1 else f"{text} hours of working-time overlap"


def suggestions_for(programme: Programme, person: Employee, *, limit: int = SUGGESTION_LIMIT,
                    today: date | None = None) -> list[Suggestion]:
    """The best buddies or mentors for a person, best first, each with its reasons.

    One query whatever the company's size: the eligible people with their team and current load.
    Left out: the person, their manager and direct reports, anyone not at work now (on leave,
    pre-boarding, leaving, gone), anyone newer than the programme's tenure, anyone at the cap.
    """
    today = today or utcnow().date()
    load = (select(SupportAssignment.partner_id, func.count().label("n"))
            .where(_open_support(programme.kind, today))
            .group_by(SupportAssignment.partner_id).subquery())
    current = func.coalesce(load.c.n, 0)
    started = func.coalesce(Employee.start_date, Employee.hire_date)
    query = (
        select(Employee.id, Employee.full_name, Employee.job_title, Employee.team_id, Team.name,
               Employee.location, Employee.timezone, Employee.work_start, Employee.work_end, started, current)
        .outerjoin(Team, Team.id == Employee.team_id)
        .outerjoin(load, load.c.partner_id == Employee.id)
        .where(Employee.id != person.id, Employee.status == LifecycleStatus.ACTIVE,
               Employee.deactivated_at.is_(None), started.is_not(None),
               started <= tenure_cutoff(programme, today), current < programme.load_cap,
               or_(Employee.manager_id.is_(None), Employee.manager_id != person.id))
    )
    if person.manager_id is not None:
        query = query.where(Employee.id != person.manager_id)
    mine = (person.timezone, person.work_start, person.work_end)
    my_place = (person.location or "").strip().casefold()
    my_team = person.team_id
    cap = programme.load_cap
    overlaps: dict[tuple[str, time, time], float] = {}
    # Score every candidate with plain numbers first; words only for the few that are shown.
    scored: list[tuple[float, int, str, int, Any, float | None, int]] = []
    for row in db.session.execute(query):
        cid, name, _, team_id, _, location, tz, work_start, work_end, since, n = row
        score = 3.0 if my_team is not None and team_id != my_team else 0.0
        hours: float | None = None
        if my_place and (location or "").strip().casefold() == my_place:
            score += 2
        else:
            window = (tz, work_start, work_end)
            hours = overlaps.get(window)
            if hours is None:
                hours = overlaps[window] = overlap_hours(today, mine, window)
            score += min(hours, 8) / 4 if hours >= 0.5 else -1
        months = tenure_months(since, today)
        score += min(months, 60) / 30 - 2 * n / cap
        # Best first: highest score, then the lightest load, then by name (the id makes each unique).
        scored.append((-round(score, 2), n, name.casefold(), cid, row, hours, months))
    return [_suggestion(programme, row, -negated, hours, months, my_team)
            for negated, _, _, _, row, hours, months in heapq.nsmallest(limit, scored)]


def _suggestion(programme: Programme, row: Any, score: float, hours: float | None, months: int,
                my_team: int | None) -> Suggestion:
    """A scored candidate with its reasons in words, in the order the score weighs them."""
    cid, name, title, team_id, team_name, location, tz, _, _, _, n = row
    reasons: list[str] = []
    if my_team is not None and team_id != my_team:
        reasons.append(f"other team ({team_name})" if team_name else "other team")
    elif my_team is not None:
        reasons.append("same team")
    if hours is None:
        reasons.append(f"same location ({location.strip()})")
    elif hours >= 0.5:
        reasons.append(_hours_words(hours))
    else:
        reasons.append("no working-time overlap")
    reasons.append(tenure_words(months))
    reasons.append(f"{programme.supports_verb} {n} of {programme.load_cap}")
    return Suggestion(cid, name, title or "", team_name or "", location or "", tz, n, programme.load_cap,
                      months, score, reasons)


# ---------------------------------------------------------------- making and ending pairs


def _lock_people(ids: list[int]) -> None:
    """Lock both people's rows (in id order, so two requests never deadlock) on PostgreSQL.

    A second request for the same partner waits here until the first commits, then counts again
    and sees the first pair. SQLite has one writer at a time: a racing second write fails rather
    than overbooking anyone.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(Employee.id).where(Employee.id.in_(sorted(set(ids))))
                           .order_by(Employee.id).with_for_update()).all()


def create_match(programme: Programme, employee: Employee, partner: Employee, *, actor,
                 today: date | None = None, enrolled_at: datetime | None = None) -> ProgrammeMatch:
    """Pair a person with a buddy or mentor: the support assignment, the enrolment and their meetings.

    All or nothing (the caller rolls back on any error). Refuses, with the field at fault, a
    partner at the programme's load cap, counted inside the transaction after locking the partner.
    `today` and `enrolled_at` date a pair in the past (the demo company's history); pages leave them.
    """
    today = today or utcnow().date()
    if not programme.active:
        raise ProgrammeError(f"{programme.name} is paused: switch it back on to make new pairs.")
    refusal = match_refusal(actor, programme, employee.id, manager_of=manages(actor, employee.id))
    if refusal:
        raise NotAllowed(refusal)
    errors = partner_refusals(programme, employee, partner, today=today)
    if errors:
        raise ProgrammeValidationError(errors)
    _lock_people([employee.id, partner.id])
    word = programme.partner_word
    existing = db.session.scalar(
        select(SupportAssignment).options(joinedload(SupportAssignment.partner))
        .where(SupportAssignment.employee_id == employee.id, _open_support(programme.kind, today))
        .order_by(SupportAssignment.id.desc()).limit(1))
    if existing is not None:
        raise ProgrammeValidationError({"employee_id": (
            f"{employee.full_name} already has a {word}, {existing.partner.full_name}: "
            "end that pair first.")})
    load = load_of(partner.id, programme.kind, today=today)
    if load >= programme.load_cap:
        raise ProgrammeValidationError({"partner_id": (
            f"{partner.full_name} already {programme.supports_verb} {load} "
            f"{'person' if load == 1 else 'people'}, the most {programme.name} allows at once "
            f"({programme.load_cap}). Choose someone else.")})
    journey = active_journey(programme.journey_key)
    if journey is None:
        raise ProgrammeError(f"{programme.name} has no active journey for the pair's meetings: "
                             "choose one on the programme's settings.")
    try:
        assignment = assign_support(employee, programme.kind, partner, actor_id=actor.id, started_on=today)
        enrolment = enrol(employee, journey, actor_id=actor.id, source="programme", enrolled_at=enrolled_at,
                          today=today if enrolled_at else None)
    except JourneyValidationError as error:
        raise ProgrammeValidationError(error.errors) from None
    except JourneyError as error:
        raise ProgrammeError(str(error)) from None
    match = ProgrammeMatch(programme_id=programme.id, employee_id=employee.id, partner_id=partner.id,
                           assignment_id=assignment.id, enrolment_id=enrolment.id, started_on=today,
                           status=MatchStatus.ACTIVE, created_by_id=actor.id)
    db.session.add(match)
    db.session.flush()
    record("programme.matched", "employee", employee.id, actor_id=actor.id,
           summary=f"{partner.full_name} is {employee.full_name}'s {word} in {programme.name}",
           after={"programme_id": programme.id, "match_id": match.id, "partner_id": partner.id,
                  "enrolment_id": enrolment.id, "load_before": load})
    _notify(match, employee, f"You have a {word}: {partner.full_name}",
            f"{partner.full_name} will be your {word} in {programme.name}. Your first meeting is on "
            "your timeline; say hello whenever you like.", "matched")
    _notify(match, partner, f"You are {employee.full_name}'s {word}",
            f"Thank you for being {employee.full_name}'s {word} in {programme.name}. Your meetings "
            "with them are on your list of touchpoints.", "matched")
    return match


def end_match(match: ProgrammeMatch, *, actor, reason: EndReason | str, note: str = "",
              today: date | None = None) -> ProgrammeMatch:
    """End a pair politely: its open meetings are cancelled and the other side gets a kind note."""
    today = today or utcnow().date()
    side = end_side(actor, match)
    if side is None:
        raise NotAllowed("Only the two people in a pair, or an HR partner, may end it.")
    if match.status is not MatchStatus.ACTIVE:
        raise ProgrammeError("This pair has already ended.")
    errors: dict[str, str] = {}
    try:
        reason = EndReason(reason)
    except ValueError:
        errors["reason"] = "Choose the reason that fits best."
    note = " ".join((note or "").split())
    if len(note) > NOTE_LIMIT:
        errors["note"] = f"Keep the note under {NOTE_LIMIT} characters ({len(note)} now)."
    if errors:
        raise ProgrammeValidationError(errors)
    programme = match.programme
    cancelled = _close_match(match, today=today, actor_id=actor.id,
                             why=f"pair ended ({reason.label.lower()})", reason=reason, ended_by=side)
    match.ended_by_id, match.end_note = actor.id, note
    db.session.flush()
    record("programme.match_ended", "employee", match.employee_id, actor_id=actor.id,
           summary=f"Ended the {programme.partner_word} pair of {match.employee.full_name} and "
                   f"{match.partner.full_name} in {programme.name} ({reason.label.lower()})",
           after={"match_id": match.id, "ended_by": side.value, "reason": reason.value,
                  "cancelled_touchpoints": cancelled})
    _send_goodbyes(match, side)
    return match


def _close_match(match: ProgrammeMatch, *, today: date, actor_id: int | None, why: str, reason: EndReason,
                 ended_by: EndedBy) -> int:
    """Mark a pair ended, cancel the open meetings of its journey and end its buddy or mentor
    assignment if still running; returns how many meetings were cancelled."""
    cancelled = 0
    enrolment = db.session.get(Enrolment, match.enrolment_id) if match.enrolment_id else None
    if enrolment is not None and enrolment.status is EnrolmentStatus.ACTIVE:
        cancelled = end_enrolment(enrolment, actor_id=actor_id, reason=f"{match.programme.name}: {why}")
    assignment = db.session.get(SupportAssignment, match.assignment_id) if match.assignment_id else None
    if assignment is not None and (assignment.ended_on is None or assignment.ended_on > today):
        end_support(assignment, actor_id=actor_id, ended_on=today)
    match.status, match.ended_on, match.ended_at = MatchStatus.ENDED, today, utcnow()
    match.ended_by, match.end_reason = ended_by, reason
    return cancelled


def _send_goodbyes(match: ProgrammeMatch, side: EndedBy) -> None:
    programme, word = match.programme, match.programme.partner_word
    person, partner = match.employee, match.partner
    note = f" Their note: “{match.end_note}”" if match.end_note else ""
    thanks = "Thank you for the time you gave each other."
    if side is EndedBy.EMPLOYEE:
        _notify(match, partner, f"{person.full_name} has closed your {word} pair",
                f"{person.full_name} has ended your pairing in {programme.name}. {thanks}{note}", "ended")
    elif side is EndedBy.PARTNER:
        _notify(match, person, f"{partner.full_name} has closed your {word} pair",
                f"{partner.full_name} has ended your pairing in {programme.name}. {thanks} If you would "
                f"like another {word}, your manager or HR partner can find one.{note}", "ended")
    else:
        for who, other in ((person, partner), (partner, person)):
            _notify(match, who, f"Your {word} pair with {other.full_name} has ended",
                    f"An HR partner has closed your pairing in {programme.name}. {thanks}{note}", "ended")


def _notify(match: ProgrammeMatch, recipient: Employee, headline: str, detail: str, what: str) -> None:
    # In the app only: a pairing note is personal, and the outbox's dedup key sends it once, ever.
    enqueue(dedup_key=f"programme-match:{match.id}:{what}:{recipient.id}", kind=NudgeKind.NOTICE,
            recipient=recipient, channel=DeliveryChannel.IN_APP,
            payload={"headline": headline, "detail": detail, "link": "/me/programmes"})


def close_departed_matches(*, today: date | None = None) -> int:
    """End the pairs in which someone has left or been deactivated (the daily job runs it)."""
    today = today or utcnow().date()
    gone = select(Employee.id).where(or_(Employee.status == LifecycleStatus.ALUMNI,
                                         Employee.deactivated_at.is_not(None)))
    matches = list(db.session.scalars(
        select(ProgrammeMatch).options(joinedload(ProgrammeMatch.programme))
        .where(ProgrammeMatch.status == MatchStatus.ACTIVE,
               or_(ProgrammeMatch.employee_id.in_(gone), ProgrammeMatch.partner_id.in_(gone)))))
    for match in matches:
        _close_match(match, today=today, actor_id=None, why="someone left", reason=EndReason.LEFT_COMPANY,
                     ended_by=EndedBy.HR)
    db.session.flush()
    return len(matches)


def close_orphaned_matches(*, today: date | None = None) -> int:
    """End the pairs whose buddy or mentor assignment was ended elsewhere (by hand on a journeys page).

    The pair's coming meetings are cancelled with it, so nobody keeps meetings with someone who is
    no longer their buddy or mentor.
    """
    today = today or utcnow().date()
    still_open = select(SupportAssignment.id).where(or_(SupportAssignment.ended_on.is_(None),
                                                        SupportAssignment.ended_on > today))
    matches = list(db.session.scalars(
        select(ProgrammeMatch).options(joinedload(ProgrammeMatch.programme))
        .where(ProgrammeMatch.status == MatchStatus.ACTIVE,
               or_(ProgrammeMatch.assignment_id.is_(None), ProgrammeMatch.assignment_id.not_in(still_open)))))
    for match in matches:
        _close_match(match, today=today, actor_id=None, why="pairing ended elsewhere", reason=EndReason.OTHER,
                     ended_by=EndedBy.HR)
    db.session.flush()
    return len(matches)


def run_programme_upkeep() -> int:
    """The scheduler's job: close pairs whose people have left or whose pairing ended elsewhere; commit."""
    closed = close_departed_matches() + close_orphaned_matches()
    db.session.commit()
    return closed


def waiting_for_a_buddy(*, limit: int = 20, today: date | None = None) -> tuple[list[Any], int]:
    """New colleagues (pre-boarding, onboarding) without a buddy, soonest start first, and how many in all."""
    today = today or utcnow().date()
    has_one = select(SupportAssignment.employee_id).where(_open_support(SupportKind.BUDDY, today))
    where = (Employee.status.in_([LifecycleStatus.PRE_BOARDING, LifecycleStatus.ONBOARDING]),
             Employee.deactivated_at.is_(None), Employee.id.not_in(has_one))
    rows = db.session.execute(
        select(Employee.id, Employee.full_name, Employee.status, Employee.start_date, Team.name)
        .outerjoin(Team, Team.id == Employee.team_id).where(*where)
        .order_by(Employee.start_date.is_(None), Employee.start_date, Employee.full_name).limit(limit)).all()
    total = len(rows) if len(rows) < limit else \
        db.session.scalar(select(func.count()).select_from(Employee).where(*where)) or 0
    return list(rows), total


# ---------------------------------------------------------------- reading pairs


def match_query():
    return select(ProgrammeMatch).options(joinedload(ProgrammeMatch.programme),
                                          joinedload(ProgrammeMatch.employee),
                                          joinedload(ProgrammeMatch.partner))


def get_match(match_id: int) -> ProgrammeMatch | None:
    """One pair with its programme and people."""
    return db.session.scalar(match_query().where(ProgrammeMatch.id == match_id))


def matches_of(employee_id: int, *, active_only: bool = False) -> list[ProgrammeMatch]:
    """A person's pairs on either side, live first, newest first."""
    query = match_query().where(or_(ProgrammeMatch.employee_id == employee_id,
                                     ProgrammeMatch.partner_id == employee_id))
    if active_only:
        query = query.where(ProgrammeMatch.status == MatchStatus.ACTIVE)
    rows = db.session.scalars(query.order_by(ProgrammeMatch.started_on.desc(), ProgrammeMatch.id.desc()))
    return sorted(rows, key=lambda m: m.status is not MatchStatus.ACTIVE)


def active_pairs(programme: Programme) -> list[ProgrammeMatch]:
    """The programme's live pairs, newest first."""
    return list(db.session.scalars(
        match_query().where(ProgrammeMatch.programme_id == programme.id,
                             ProgrammeMatch.status == MatchStatus.ACTIVE)
        .order_by(ProgrammeMatch.started_on.desc(), ProgrammeMatch.id.desc())))


@dataclass
class ProgrammeFigures:
    """What a programme's page shows at the top."""

    active_pairs: int
    meetings_this_month: int
    meetings_overall: int
    ended: int
    ended_by_reason: list[tuple[EndReason, int]]
    at_cap: list[tuple[int, str, int]]  # (employee id, name, load)


def month_start(now: datetime, timezone: str) -> datetime:
    """The first moment of this calendar month where the reader is, in UTC."""
    local = now.astimezone(zone(timezone))
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def programme_figures(programme: Programme, *, timezone: str, now: datetime | None = None,
                      today: date | None = None) -> ProgrammeFigures:
    """Active pairs, meetings held (in person or live) this month and overall, pairs ended and why, at cap."""
    now = now or utcnow()
    today = today or now.date()
    by_status = dict(db.session.execute(
        select(ProgrammeMatch.status, func.count()).where(ProgrammeMatch.programme_id == programme.id)
        .group_by(ProgrammeMatch.status)).all())
    enrolments = select(ProgrammeMatch.enrolment_id).where(ProgrammeMatch.programme_id == programme.id,
                                                           ProgrammeMatch.enrolment_id.is_not(None))
    held = and_(Touchpoint.enrolment_id.in_(enrolments), Touchpoint.status == TouchpointStatus.DONE,
                Touchpoint.actual_mode.in_(sorted(HUMAN_MODES)))
    since = month_start(now, timezone)
    overall, this_month = db.session.execute(
        select(func.count(), func.count().filter(Touchpoint.happened_at >= since))
        .select_from(Touchpoint).where(held)).one()
    reasons = Counter({reason: count for reason, count in db.session.execute(
        select(ProgrammeMatch.end_reason, func.count())
        .where(ProgrammeMatch.programme_id == programme.id, ProgrammeMatch.status == MatchStatus.ENDED)
        .group_by(ProgrammeMatch.end_reason)) if reason is not None})
    load = func.count(SupportAssignment.id)
    at_cap = [(pid, name, n) for pid, name, n in db.session.execute(
        select(Employee.id, Employee.full_name, load).join(SupportAssignment,
                                                           SupportAssignment.partner_id == Employee.id)
        .where(_open_support(programme.kind, today))
        .group_by(Employee.id, Employee.full_name).having(load >= programme.load_cap)
        .order_by(Employee.full_name))]
    return ProgrammeFigures(
        active_pairs=by_status.get(MatchStatus.ACTIVE, 0), meetings_this_month=this_month or 0,
        meetings_overall=overall or 0, ended=by_status.get(MatchStatus.ENDED, 0),
        ended_by_reason=[(r, reasons[r]) for r in EndReason if reasons[r]], at_cap=at_cap)


def meetings_held_by_match(match_ids: list[int]) -> dict[int, int]:
    """Meetings held (human modes) by each of these pairs, in one query."""
    if not match_ids:
        return {}
    rows = db.session.execute(
        select(ProgrammeMatch.id, func.count(Touchpoint.id))
        .join(Touchpoint, and_(Touchpoint.enrolment_id == ProgrammeMatch.enrolment_id,
                               Touchpoint.status == TouchpointStatus.DONE,
                               Touchpoint.actual_mode.in_(sorted(HUMAN_MODES))))
        .where(ProgrammeMatch.id.in_(match_ids)).group_by(ProgrammeMatch.id))
    return dict(rows.all())


@dataclass
class PersonSupport:
    """The buddy and mentor side of a person's page: live pairs, past ones, where the viewer may find one."""

    pairs: list[ProgrammeMatch]
    can_find_in: list[Programme]
    past: list[ProgrammeMatch] = field(default_factory=list)


def person_support(viewer, employee: Employee) -> PersonSupport:
    """A person's pairs (either side) and the programmes the viewer may match them in (two queries).

    Past pairs are for HR and the person themself; a manager sees who looks after their report now.
    """
    everything = matches_of(employee.id)
    pairs = [m for m in everything if m.is_active]
    own_or_hr = viewer.is_hr or viewer.employee_id == employee.id
    past = [m for m in everything if not m.is_active] if own_or_hr else []
    if employee.status is LifecycleStatus.ALUMNI or employee.deactivated_at is not None:
        return PersonSupport(pairs, [], past)
    managing = viewer.is_manager and not viewer.is_hr and viewer.employee_id != employee.id
    if not viewer.is_hr and not managing:
        return PersonSupport(pairs, [], past)
    has = {m.programme.kind for m in pairs if m.employee_id == employee.id}
    open_programmes = [p for p in list_programmes(active_only=True) if p.kind not in has]
    if not viewer.is_hr:
        open_programmes = [p for p in open_programmes if p.kind is SupportKind.BUDDY]
    return PersonSupport(pairs, open_programmes, past)
