"""Journey templates: create, edit as drafts, publish new versions, clone and retire.

Editing never rewrites history. An active journey is changed by starting a revision (a draft
copy with the next version number); publishing it supersedes the old version. HR first sees how
many open touchpoints would follow the new version (`revision_impact`) and chooses: move them
(`publish(..., move_open=True)`) or let people already on the journey finish the version they
started. Done, missed and cancelled touchpoints always stay with the version they happened under.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import time
from typing import Any

from sqlalchemy import func, select, update

from touchpoints.audit.services import record
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.calendar import RecurrenceError, local_date, validate_rrule
from touchpoints.journeys.enrolment import (
    OwnerResolver,
    TemplatePlan,
    cancel_open,
    default_cadence_days,
    load_facts,
    materialise,
)
from touchpoints.journeys.errors import JourneyError, JourneyValidationError
from touchpoints.journeys.models import (
    OPEN_STATUSES,
    Anchor,
    EnrolmentStatus,
    EnrolTrigger,
    JourneyStage,
    JourneyStatus,
    JourneyTemplate,
    Mode,
    OffsetUnit,
    OwnerRole,
    Touchpoint,
    TouchpointKind,
    TouchpointStatus,
    TouchpointTemplate,
)
from touchpoints.journeys.models import Enrolment as EnrolmentModel

KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
# Fields that decide when a touchpoint falls; changing them re-plans open touchpoints that move.
TIMING_FIELDS = ("anchor", "offset", "offset_unit", "time_of_day", "rrule", "follows_cadence",
                 "series_length", "until_anchor", "duration_minutes")
DESCRIPTIVE_FIELDS = ("kind", "title", "planned_mode", "owner_role", "duration_minutes", "sensitive",
                      "anchor")
MAX_OFFSET_DAYS = 3660


# ---------------------------------------------------------------- parsing and validation


def _enum_value(enum_cls, raw: Any, what: str):
    if isinstance(raw, enum_cls):
        return raw
    value = str(raw or "").strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return enum_cls(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum_cls)
        raise ValueError(f"'{raw}' is not a {what} ({allowed}).") from None


def _text(raw: Any, limit: int, *, required: bool = False, what: str = "This") -> str:
    value = ("" if raw is None else str(raw)).strip()
    if required and not value:
        raise ValueError(f"{what} is required.")
    if len(value) > limit:
        raise ValueError(f"Keep this under {limit} characters.")
    return value


def _key(raw: Any) -> str:
    value = str(raw or "").strip().lower()
    if not KEY_PATTERN.match(value):
        raise ValueError("Use 1 to 64 lower-case letters, digits, '-' or '_' (for example "
                         "'welcome-call'), starting with a letter or digit.")
    return value


def _int(raw: Any, low: int, high: int, what: str) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ValueError(f"'{raw}' is not a whole number.") from None
    if isinstance(raw, float) and raw != value:
        raise ValueError(f"'{raw}' is not a whole number.")
    if not low <= value <= high:
        raise ValueError(f"{what} must be between {low} and {high}.")
    return value


def _time(raw: Any) -> time:
    if isinstance(raw, time):
        return raw
    if isinstance(raw, int) and 0 <= raw < 24 * 60:  # YAML reads 10:00 as sexagesimal 600
        return time(raw // 60, raw % 60)
    try:
        return time.fromisoformat(str(raw).strip())
    except ValueError:
        raise ValueError(f"'{raw}' is not a time in the form HH:MM.") from None


def _bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    value = str(raw or "").strip().lower()
    if value in ("1", "true", "yes", "y", "on"):
        return True
    if value in ("", "0", "false", "no", "n", "off"):
        return False
    raise ValueError(f"'{raw}' is not yes or no.")


TOUCHPOINT_FIELDS = ("key", "phase", "title", "kind", "planned_mode", "owner_role", "anchor", "offset",
                     "offset_unit", "time_of_day", "rrule", "follows_cadence", "series_length",
                     "until_anchor", "duration_minutes", "description", "sensitive")
JOURNEY_FIELDS = ("key", "name", "stage", "description", "enrols_on", "touchpoints")


def parse_touchpoint_template(data: Mapping[str, Any], prefix: str = "") -> tuple[dict[str, Any],
                                                                                   dict[str, str]]:
    """Clean values for one touchpoint template, and errors keyed by `prefix` + field name."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    unknown = set(data) - set(TOUCHPOINT_FIELDS)
    for name in sorted(unknown):
        errors[prefix + name] = f"Unknown field; expected one of: {', '.join(TOUCHPOINT_FIELDS)}."

    def take(name: str, parse, default: Any = None, *, required: bool = False) -> None:
        raw = data.get(name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if required:
                errors[prefix + name] = "This field is required."
                return
            clean[name] = default
            return
        try:
            clean[name] = parse(raw)
        except ValueError as error:
            errors[prefix + name] = str(error)

    take("key", _key, required=True)
    take("title", lambda v: _text(v, 200), required=True)
    take("phase", lambda v: _text(v, 80), "")
    take("kind", lambda v: _enum_value(TouchpointKind, v, "touchpoint kind"), required=True)
    take("planned_mode", lambda v: _enum_value(Mode, v, "mode"), required=True)
    take("owner_role", lambda v: _enum_value(OwnerRole, v, "owner"), required=True)
    take("anchor", lambda v: _enum_value(Anchor, v, "anchor"), required=True)
    take("offset", lambda v: _int(v, -MAX_OFFSET_DAYS, MAX_OFFSET_DAYS, "The offset"), 0)
    take("offset_unit", lambda v: _enum_value(OffsetUnit, v, "unit"), OffsetUnit.CALENDAR_DAYS)
    take("time_of_day", _time, time(10, 0))
    take("rrule", _rrule, None)
    take("follows_cadence", _bool, False)
    take("series_length", lambda v: _int(v, 1, 1000, "The number of occurrences"), None)
    take("until_anchor", lambda v: _enum_value(Anchor, v, "anchor"), None)
    take("duration_minutes", lambda v: _int(v, 5, 8 * 60, "The duration"), 30)
    take("description", lambda v: _text(v, 4000), "")
    take("sensitive", _bool, None)
    if clean.get("rrule") and clean.get("follows_cadence"):
        errors[prefix + "rrule"] = ("Give either a recurrence rule or follow the one-on-one cadence, "
                                    "not both.")
    recurring = bool(clean.get("rrule")) or bool(clean.get("follows_cadence"))
    if not recurring and (clean.get("series_length") or clean.get("until_anchor")):
        errors[prefix + "series_length"] = ("Only a recurring touchpoint has a number of "
                                            "occurrences or an end.")
    if clean.get("until_anchor") in (Anchor.ENROLMENT,):
        errors[prefix + "until_anchor"] = "A series cannot end at the enrolment that starts it."
    if clean.get("kind") is TouchpointKind.GRIEVANCE_MEETING and clean.get("owner_role") not in (
            None, OwnerRole.HR_PARTNER):
        # Grievances are seen by HR and the person concerned only; any other owner would be the line.
        errors[prefix + "owner_role"] = ("A grievance meeting is owned by the HR partner: "
                                         "the line never sees it.")
    if "kind" in clean and clean.get("sensitive") is None:
        clean["sensitive"] = clean["kind"].is_sensitive
    return clean, errors


def _rrule(raw: Any) -> str:
    try:
        return validate_rrule(str(raw))
    except RecurrenceError as error:
        raise ValueError(str(error)) from None


def parse_journey(data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Clean values for a journey and its touchpoint templates, with errors naming each field."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for name in sorted(set(data) - set(JOURNEY_FIELDS)):
        errors[name] = f"Unknown field; expected one of: {', '.join(JOURNEY_FIELDS)}."
    for name, parse, required in (
        ("key", _key, True),
        ("name", lambda v: _text(v, 120), True),
        ("stage", lambda v: _enum_value(JourneyStage, v, "journey stage"), False),
        ("description", lambda v: _text(v, 4000), False),
        ("enrols_on", lambda v: _enum_value(EnrolTrigger, v, "enrolment rule"), False),
    ):
        raw = data.get(name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if required:
                errors[name] = "This field is required."
            clean[name] = {"stage": JourneyStage.OTHER, "description": ""}.get(name)
            continue
        try:
            clean[name] = parse(raw)
        except ValueError as error:
            errors[name] = str(error)
    touchpoints = data.get("touchpoints") or []
    if not isinstance(touchpoints, Sequence) or isinstance(touchpoints, str | bytes):
        errors["touchpoints"] = "Give a list of touchpoints."
        touchpoints = []
    if not touchpoints:
        errors.setdefault("touchpoints", "A journey needs at least one touchpoint.")
    clean_touchpoints: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, item in enumerate(touchpoints):
        prefix = f"touchpoints[{index}]."
        if not isinstance(item, Mapping):
            errors[prefix[:-1]] = "Each touchpoint is a set of fields."
            continue
        tp, tp_errors = parse_touchpoint_template(item, prefix)
        errors.update(tp_errors)
        if tp.get("key") in seen:
            errors[prefix + "key"] = f"'{tp['key']}' is used twice in this journey."
        seen.add(tp.get("key"))
        clean_touchpoints.append(tp)
    clean["touchpoints"] = clean_touchpoints
    return clean, errors


# ---------------------------------------------------------------- reading


def journey_to_data(journey: JourneyTemplate) -> dict[str, Any]:
    """A journey as plain data: the shape the API, the YAML files and `create_journey` share."""
    return {
        "key": journey.key, "name": journey.name, "stage": journey.stage.value,
        "description": journey.description,
        "enrols_on": journey.enrols_on.value if journey.enrols_on else None,
        "touchpoints": [touchpoint_template_to_data(t) for t in journey.touchpoint_templates],
    }


def touchpoint_template_to_data(t: TouchpointTemplate) -> dict[str, Any]:
    """One touchpoint template as plain data."""
    return {
        "key": t.key, "phase": t.phase, "title": t.title, "kind": t.kind.value,
        "planned_mode": t.planned_mode.value, "owner_role": t.owner_role.value,
        "anchor": t.anchor.value, "offset": t.offset, "offset_unit": t.offset_unit.value,
        "time_of_day": t.time_of_day.strftime("%H:%M"), "rrule": t.rrule,
        "follows_cadence": t.follows_cadence, "series_length": t.series_length,
        "until_anchor": t.until_anchor.value if t.until_anchor else None,
        "duration_minutes": t.duration_minutes, "description": t.description,
        "sensitive": t.sensitive,
    }


def latest_versions(*, include_retired: bool = True) -> list[JourneyTemplate]:
    """The newest version of every journey (drafts included), ordered by stage and name."""
    newest = select(JourneyTemplate.key, func.max(JourneyTemplate.version).label("version")) \
        .group_by(JourneyTemplate.key).subquery()
    query = select(JourneyTemplate).join(
        newest, (newest.c.key == JourneyTemplate.key) & (newest.c.version == JourneyTemplate.version))
    if not include_retired:
        query = query.where(JourneyTemplate.status != JourneyStatus.RETIRED)
    return list(db.session.scalars(query.order_by(JourneyTemplate.stage, JourneyTemplate.name)))


def versions_of(key: str) -> list[JourneyTemplate]:
    """Every version of a journey, newest first."""
    return list(db.session.scalars(
        select(JourneyTemplate).where(JourneyTemplate.key == key).order_by(JourneyTemplate.version.desc())
    ))


# ---------------------------------------------------------------- writing


def _apply_touchpoints(journey: JourneyTemplate, touchpoints: list[dict[str, Any]]) -> None:
    """Make the journey's touchpoint templates match the list, updating those with the same key."""
    by_key = {t.key: t for t in journey.touchpoint_templates}
    kept: list[TouchpointTemplate] = []
    for position, values in enumerate(touchpoints):
        template = by_key.pop(values["key"], None) or TouchpointTemplate()
        for name, value in values.items():
            setattr(template, name, value)
        template.position = position
        kept.append(template)
    journey.touchpoint_templates = kept


def create_journey(data: Mapping[str, Any], *, actor_id: int | None,
                   activate: bool = False) -> JourneyTemplate:
    """Create version 1 of a new journey (a draft unless activate); errors name each bad field."""
    clean, errors = parse_journey(data)
    if "key" in clean and clean["key"] and db.session.scalar(
            select(func.count()).select_from(JourneyTemplate).where(JourneyTemplate.key == clean["key"])):
        errors["key"] = f"A journey with the key '{clean['key']}' already exists."
    if errors:
        raise JourneyValidationError(errors)
    touchpoints = clean.pop("touchpoints")
    journey = JourneyTemplate(version=1, status=JourneyStatus.DRAFT, created_by_id=actor_id, **clean)
    _apply_touchpoints(journey, touchpoints)
    db.session.add(journey)
    db.session.flush()
    record("journey.created", "journey", journey.id, actor_id=actor_id,
           summary=f"Created journey {journey.label}", after=journey_to_data(journey))
    if activate:
        publish(journey, actor_id=actor_id, move_open=False)
    return journey


def update_draft(journey: JourneyTemplate, data: Mapping[str, Any], *,
                 actor_id: int | None) -> JourneyTemplate:
    """Change a draft in place (its key stays); active versions are changed through a revision."""
    if journey.status is not JourneyStatus.DRAFT:
        raise JourneyError(f"{journey.label} is {journey.status.label.lower()}; start a revision "
                           "to change it, so history stays as it was.")
    merged = {**journey_to_data(journey), **dict(data), "key": journey.key}
    clean, errors = parse_journey(merged)
    if errors:
        raise JourneyValidationError(errors)
    before = journey_to_data(journey)
    touchpoints = clean.pop("touchpoints")
    clean.pop("key")
    for name, value in clean.items():
        setattr(journey, name, value)
    _apply_touchpoints(journey, touchpoints)
    db.session.flush()
    record("journey.edited", "journey", journey.id, actor_id=actor_id,
           summary=f"Edited draft {journey.label}", before=before, after=journey_to_data(journey))
    return journey


def start_revision(journey: JourneyTemplate, *, actor_id: int | None) -> JourneyTemplate:
    """A draft copy of this journey with the next version number (the existing draft if there is one)."""
    existing = db.session.scalar(
        select(JourneyTemplate).where(JourneyTemplate.key == journey.key,
                                      JourneyTemplate.status == JourneyStatus.DRAFT)
    )
    if existing is not None:
        return existing
    version = db.session.scalar(
        select(func.max(JourneyTemplate.version)).where(JourneyTemplate.key == journey.key)) or 0
    data = journey_to_data(journey)
    touchpoints, _ = parse_journey(data)
    draft = JourneyTemplate(
        key=journey.key, name=journey.name, stage=journey.stage, description=journey.description,
        enrols_on=journey.enrols_on, version=version + 1, status=JourneyStatus.DRAFT,
        previous_version_id=journey.id, created_by_id=actor_id,
    )
    _apply_touchpoints(draft, touchpoints["touchpoints"])
    db.session.add(draft)
    db.session.flush()
    record("journey.revision_started", "journey", draft.id, actor_id=actor_id,
           summary=f"Started {draft.label} from version {journey.version}")
    return draft


def clone_journey(journey: JourneyTemplate, *, key: str, name: str,
                  actor_id: int | None) -> JourneyTemplate:
    """A new, independent journey (version 1, draft) copied from this one."""
    data = {**journey_to_data(journey), "key": key, "name": name}
    clone = create_journey(data, actor_id=actor_id)
    record("journey.cloned", "journey", clone.id, actor_id=actor_id,
           summary=f"Cloned {journey.label} as {clone.label}")
    return clone


def discard_draft(journey: JourneyTemplate, *, actor_id: int | None) -> None:
    """Throw away a draft that was never published."""
    if journey.status is not JourneyStatus.DRAFT:
        raise JourneyError("Only a draft can be discarded; retire a published journey instead.")
    record("journey.draft_discarded", "journey", journey.id, actor_id=actor_id,
           summary=f"Discarded draft {journey.label}", before=journey_to_data(journey))
    db.session.delete(journey)
    db.session.flush()


def retire_journey(journey: JourneyTemplate, *, actor_id: int | None) -> None:
    """Stop enrolling people in this journey; those already on it finish what they started."""
    if journey.status is not JourneyStatus.ACTIVE:
        raise JourneyError(f"Only an active journey can be retired; {journey.label} is "
                           f"{journey.status.label.lower()}.")
    journey.status = JourneyStatus.RETIRED
    journey.retired_at = utcnow()
    record("journey.retired", "journey", journey.id, actor_id=actor_id, summary=f"Retired {journey.label}")


def _current_active(key: str) -> JourneyTemplate | None:
    return db.session.scalar(select(JourneyTemplate).where(
        JourneyTemplate.key == key, JourneyTemplate.status == JourneyStatus.ACTIVE))


@dataclass
class RevisionImpact:
    """What publishing a draft would do to people already on the journey."""

    open_touchpoints: int = 0
    enrolments: int = 0
    changed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    retimed: list[str] = field(default_factory=list)


def revision_impact(draft: JourneyTemplate) -> RevisionImpact:
    """How many open touchpoints and enrolments would follow the draft if HR chose to move them."""
    impact = RevisionImpact()
    current = _current_active(draft.key)
    if current is None or current.id == draft.id:
        impact.added = [t.key for t in draft.touchpoint_templates]
        return impact
    old = {t.key: t for t in current.touchpoint_templates}
    new = {t.key: t for t in draft.touchpoint_templates}
    impact.added = [k for k in new if k not in old]
    impact.removed = [k for k in old if k not in new]
    for key in new.keys() & old.keys():
        before, after = touchpoint_template_to_data(old[key]), touchpoint_template_to_data(new[key])
        if before != after:
            impact.changed.append(key)
        if any(before[f] != after[f] for f in TIMING_FIELDS):
            impact.retimed.append(key)
    impact.changed.sort()
    impact.retimed.sort()
    impact.enrolments = db.session.scalar(
        select(func.count()).select_from(EnrolmentModel).where(
            EnrolmentModel.journey_id == current.id, EnrolmentModel.status == EnrolmentStatus.ACTIVE)) or 0
    impact.open_touchpoints = db.session.scalar(
        select(func.count()).select_from(Touchpoint).join(EnrolmentModel,
                                                          EnrolmentModel.id == Touchpoint.enrolment_id)
        .where(EnrolmentModel.journey_id == current.id, EnrolmentModel.status == EnrolmentStatus.ACTIVE,
               Touchpoint.status.in_(OPEN_STATUSES))) or 0
    return impact


@dataclass
class PublishResult:
    journey: JourneyTemplate
    superseded: JourneyTemplate | None = None
    moved_enrolments: int = 0
    moved_touchpoints: int = 0
    cancelled_touchpoints: int = 0
    created_touchpoints: int = 0


def publish(draft: JourneyTemplate, *, actor_id: int | None, move_open: bool) -> PublishResult:
    """Make a draft the active version; with move_open, people on the old version follow the new one.

    Moving keeps every closed touchpoint where it was, re-points open ones to the matching new
    template (same key) with its new title, mode, owner and timing, cancels open ones whose
    template was removed, and plans what the new version adds.
    """
    if draft.status is not JourneyStatus.DRAFT:
        raise JourneyError(f"{draft.label} is {draft.status.label.lower()}, not a draft.")
    if not draft.touchpoint_templates:
        raise JourneyValidationError({"touchpoints": "A journey needs at least one touchpoint."})
    current = _current_active(draft.key)
    now = utcnow()
    result = PublishResult(journey=draft, superseded=current)
    if current is not None:
        current.status = JourneyStatus.SUPERSEDED
        current.retired_at = now
        db.session.flush()  # the partial unique index allows one active version at a time
    draft.status = JourneyStatus.ACTIVE
    draft.published_at = now
    db.session.flush()
    if current is not None and move_open:
        _move_enrolments(current, draft, result)
    record("journey.published", "journey", draft.id, actor_id=actor_id,
           summary=f"Published {draft.label}" + (
               f", superseding version {current.version}" if current else "") + (
               f"; moved {result.moved_enrolments} enrolments ({result.moved_touchpoints} open "
               f"touchpoints)" if move_open and current else ""),
           after={"move_open": move_open, "moved_enrolments": result.moved_enrolments,
                  "moved_touchpoints": result.moved_touchpoints,
                  "cancelled_touchpoints": result.cancelled_touchpoints,
                  "created_touchpoints": result.created_touchpoints})
    return result


def _move_enrolments(old: JourneyTemplate, new: JourneyTemplate, result: PublishResult) -> None:
    old_templates = {t.key: t for t in old.touchpoint_templates}
    new_templates = {t.key: t for t in new.touchpoint_templates}
    enrolment_ids = list(db.session.scalars(
        select(EnrolmentModel.id).where(EnrolmentModel.journey_id == old.id,
                                        EnrolmentModel.status == EnrolmentStatus.ACTIVE)))
    if not enrolment_ids:
        return
    result.moved_enrolments = len(enrolment_ids)
    db.session.execute(
        update(EnrolmentModel).where(EnrolmentModel.journey_id == old.id,
                                     EnrolmentModel.status == EnrolmentStatus.ACTIVE)
        .values(journey_id=new.id).execution_options(synchronize_session=False))
    # A new version has no enrolments of its own yet: those on it now are exactly the moved ones.
    moved = select(EnrolmentModel.id).where(EnrolmentModel.journey_id == new.id,
                                            EnrolmentModel.status == EnrolmentStatus.ACTIVE)
    in_moved = Touchpoint.enrolment_id.in_(moved)
    removed_ids = [t.id for k, t in old_templates.items() if k not in new_templates]
    if removed_ids:
        result.cancelled_touchpoints = cancel_open(
            Touchpoint.template_id.in_(removed_ids) & in_moved, reason="removed_from_journey")
    now = utcnow()
    touchpoints = list(db.session.scalars(
        select(Touchpoint).where(in_moved, Touchpoint.status.in_(OPEN_STATUSES),
                                 Touchpoint.template_id.in_([t.id for k, t in old_templates.items()
                                                             if k in new_templates]))))
    facts = load_facts({tp.employee_id for tp in touchpoints})
    owners = OwnerResolver(facts, today=now.date())
    enrolled_on = dict(db.session.execute(
        select(EnrolmentModel.id, EnrolmentModel.enrolled_at)
        .where(EnrolmentModel.id.in_(moved))).all())
    cadence = default_cadence_days()
    old_by_id = {t.id: t for t in old_templates.values()}
    for tp in touchpoints:
        old_t = old_by_id[tp.template_id]
        new_t = new_templates[old_t.key]
        plan, person = TemplatePlan.of(new_t), facts[tp.employee_id]
        tp.template_id = new_t.id
        tp.kind, tp.title, tp.planned_mode = new_t.kind, new_t.title, new_t.planned_mode
        tp.duration_minutes, tp.sensitive, tp.anchor = new_t.duration_minutes, plan.sensitive, new_t.anchor
        if new_t.owner_role is not old_t.owner_role:
            tp.owner_role = new_t.owner_role
            tp.owner_id = owners.owner(person, new_t.owner_role)
        before, after = touchpoint_template_to_data(old_t), touchpoint_template_to_data(new_t)
        if any(before[f] != after[f] for f in TIMING_FIELDS):
            day = plan.occurrence_date(person, local_date(enrolled_on[tp.enrolment_id], person.timezone),
                                       tp.occurrence, cadence)
            if day is None:
                tp.status, tp.status_reason = TouchpointStatus.CANCELLED, "removed_from_journey"
                result.cancelled_touchpoints += 1
            else:
                tp.due_at, tp.status = plan.due_at(person, day), TouchpointStatus.PLANNED
        tp.sequence += 1
        tp.updated_at = now
        result.moved_touchpoints += 1
    db.session.flush()
    result.created_touchpoints = materialise(enrolment_ids)
