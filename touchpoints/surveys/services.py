"""The rules for pulse surveys: authoring and versions, rounds and their audience, answering.

Pages, the API, the scheduler and Slack's survey dialog (slack_answers) all come through here. Answering is
one call, `submit_response(round_id, respondent_employee_id, answers)`, whatever the channel.

For delivery on people's own channels (the nudges capability): once a round is open,
`invitation_recipients(round_id)` lists who to invite; once its reminder is due (the scheduler
sets `reminders_sent_at` and shows the reminder in the app), `reminder_recipients(round_id)` lists
only those who have not answered. Both are safe to call repeatedly; de-duplicate sends per round,
person and kind.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from touchpoints.audit.services import record
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.hooks import Hooks
from touchpoints.people.models import Employee, LifecycleStatus, Team
from touchpoints.surveys.models import (
    MIN_GROUP_SIZE_RANGE,
    NEW_HIRE_DAYS,
    AudienceKind,
    QuestionAudience,
    QuestionKind,
    RoundStatus,
    Survey,
    SurveyAnswer,
    SurveyInvitation,
    SurveyParticipation,
    SurveyQuestion,
    SurveyResponse,
    SurveyRound,
    SurveyVersion,
    TenureBand,
)

# Who "everyone" means: people at work, not those not yet started, on leave or gone.
WORKING_STATUSES = (LifecycleStatus.ONBOARDING, LifecycleStatus.ACTIVE, LifecycleStatus.OFFBOARDING)
MAX_TEXT_ANSWER = 1000
MAX_OPEN_DAYS = 60
MAX_CHOICES = 10


class SurveyValidationError(ValueError):
    """Input that cannot be saved; errors maps each field name to its reason."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class SubmissionError(Exception):
    """An answer that cannot be taken; `code` is stable for the API and Slack."""

    code = "submission_error"
    status = 409


class RoundNotOpen(SubmissionError):
    code = "round_not_open"


class NotInvited(SubmissionError):
    code = "not_invited"
    status = 403


class AlreadyAnswered(SubmissionError):
    code = "already_answered"


class AnswerValidationError(SubmissionError, ValueError):
    """Answers that do not fit the questions; errors maps each question key to the reason."""

    code = "invalid_answers"
    status = 422

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


# ---------------------------------------------------------------------------------------------
# Small helpers


def slugify(text: str, limit: int = 48) -> str:
    """A lowercase ascii key from free text ("I feel connected" -> "i-feel-connected")."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:limit].rstrip("-") or "item"


def _unique_key(base: str, taken: Iterable[str]) -> str:
    taken = set(taken)
    key, n = base, 2
    while key in taken:
        key = f"{base[:44]}-{n}"
        n += 1
    return key


def _text(data: Mapping[str, Any], name: str, limit: int, errors: dict[str, str], *,
          required: bool = False, label: str = "This field") -> str:
    value = str(data.get(name) or "").strip()
    if required and not value:
        errors[name] = f"{label} is required."
    elif len(value) > limit:
        errors[name] = f"Keep this under {limit} characters (it has {len(value)})."
    return value


def _int(data: Mapping[str, Any], name: str, errors: dict[str, str], *, low: int, high: int,
         default: int | None = None, required: bool = False) -> int | None:
    raw = data.get(name)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if required:
            errors[name] = "This field is required."
        return default
    try:
        value = int(str(raw).strip()) if not isinstance(raw, bool) else None
    except ValueError:
        value = None
    if value is None:
        errors[name] = f"'{raw}' is not a whole number."
        return default
    if not low <= value <= high:
        errors[name] = f"Use a number from {low} to {high}."
    return value


def _float(data: Mapping[str, Any], name: str, errors: dict[str, str], *, low: float, high: float,
           default: float) -> float:
    raw = data.get(name)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return default
    try:
        value = float(str(raw).strip())
    except ValueError:
        errors[name] = f"'{raw}' is not a number."
        return default
    if not low <= value <= high:
        errors[name] = f"Use a number from {low:g} to {high:g}."
    return value


def local_midnight(day: date, tz: str) -> datetime:
    """The UTC moment a calendar day starts in a time zone."""
    return datetime.combine(day, time(0), ZoneInfo(tz)).astimezone(UTC)


def local_day(moment: datetime, tz: str) -> date:
    """The calendar day a UTC moment falls on in a time zone."""
    return moment.astimezone(ZoneInfo(tz)).date()


def tenure_band(start: date | None, on: date) -> TenureBand | None:
    """The coarse tenure band a start date puts someone in on a given day."""
    if start is None or start > on:
        return None
    days = (on - start).days
    if days < 183:
        return TenureBand.UNDER_6_MONTHS
    if days < 730:
        return TenureBand.SIX_TO_24_MONTHS
    if days < 1826:
        return TenureBand.TWO_TO_5_YEARS
    return TenureBand.OVER_5_YEARS


def is_new_hire(start: date | None, status: LifecycleStatus, on: date) -> bool:
    """New hires are asked the onboarding questions: onboarding, or started in the last 180 days."""
    if status is LifecycleStatus.ONBOARDING:
        return True
    return start is not None and 0 <= (on - start).days <= NEW_HIRE_DAYS


# ---------------------------------------------------------------------------------------------
# Authoring: surveys, versions, questions


def _survey_settings(data: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    return {
        "title": _text(data, "title", 200, errors, required=True, label="A title"),
        "description": _text(data, "description", 2000, errors),
        "alert_below": _float(data, "alert_below", errors, low=1, high=5, default=3.5),
        "alert_drop": _float(data, "alert_drop", errors, low=0.1, high=4, default=0.5),
    }


def create_survey(data: Mapping[str, Any], *, actor_id: int | None, key: str | None = None) -> Survey:
    """A new survey with an empty first version; raises SurveyValidationError per field."""
    errors: dict[str, str] = {}
    settings = _survey_settings(data, errors)
    if settings["title"] and db.session.scalar(
            select(Survey.id).where(func.lower(Survey.title) == settings["title"].lower())):
        errors["title"] = f"A survey called '{settings['title']}' already exists."
    if errors:
        raise SurveyValidationError(errors)
    survey = Survey(key=key, created_by_id=actor_id, **settings)
    survey.versions.append(SurveyVersion(number=1, created_by_id=actor_id))
    db.session.add(survey)
    db.session.flush()
    record("survey.created", "survey", survey.id, actor_id=actor_id,
           summary=f"Created the survey '{survey.title}'", after=settings)
    return survey


def update_survey(survey: Survey, data: Mapping[str, Any], *, actor_id: int | None) -> Survey:
    """Change a survey's title, description and feedback-loop thresholds."""
    errors: dict[str, str] = {}
    settings = _survey_settings(data, errors)
    clash = db.session.scalar(select(Survey.id).where(
        func.lower(Survey.title) == settings["title"].lower(), Survey.id != survey.id))
    if settings["title"] and clash:
        errors["title"] = f"Another survey is already called '{settings['title']}'."
    if errors:
        raise SurveyValidationError(errors)
    before = {name: getattr(survey, name) for name in settings}
    for name, value in settings.items():
        setattr(survey, name, value)
    changed = {k: v for k, v in settings.items() if before[k] != v}
    if changed:
        record("survey.updated", "survey", survey.id, actor_id=actor_id,
               summary=f"Changed the survey '{survey.title}'",
               before={k: before[k] for k in changed}, after=changed)
    return survey


def set_archived(survey: Survey, archived: bool, *, actor_id: int | None) -> None:
    """Archive a survey (no new rounds) or bring it back; its results stay readable."""
    if archived and survey.archived_at is None:
        open_or_planned = db.session.scalar(select(func.count()).select_from(SurveyRound).where(
            SurveyRound.survey_id == survey.id,
            SurveyRound.status.in_((RoundStatus.SCHEDULED, RoundStatus.OPEN))))
        if open_or_planned:
            raise SurveyValidationError({"survey": "Close or cancel its open and scheduled rounds "
                                                   "before archiving this survey."})
        survey.archived_at = utcnow()
        record("survey.archived", "survey", survey.id, actor_id=actor_id,
               summary=f"Archived the survey '{survey.title}'")
    elif not archived and survey.archived_at is not None:
        survey.archived_at = None
        record("survey.restored", "survey", survey.id, actor_id=actor_id,
               summary=f"Restored the survey '{survey.title}'")


def editable_version(survey: Survey, *, actor_id: int | None) -> SurveyVersion:
    """The version edits go to: the current one, or a fresh copy when rounds already used it."""
    current = survey.current_version
    if not current.is_locked:
        return current
    copy = SurveyVersion(number=current.number + 1, created_by_id=actor_id)
    for q in current.questions:
        copy.questions.append(SurveyQuestion(
            key=q.key, position=q.position, kind=q.kind, prompt=q.prompt, help_text=q.help_text,
            choices=[dict(c) for c in q.choices or []], audience=q.audience,
            counts_toward_connection=q.counts_toward_connection,
        ))
    survey.versions.append(copy)
    db.session.flush()
    record("survey.version_created", "survey", survey.id, actor_id=actor_id,
           summary=f"Started version {copy.number} of '{survey.title}' (version {current.number} "
                   "is in use by rounds and stays as it was)")
    return copy


def _parse_choices(raw: Any, errors: dict[str, str]) -> list[dict[str, str]]:
    if isinstance(raw, str):
        labels = [line.strip() for line in raw.splitlines() if line.strip()]
    else:
        labels = [str(item.get("label") if isinstance(item, Mapping) else item).strip()
                  for item in (raw or [])]
        labels = [label for label in labels if label]
    if len(labels) < 2:
        errors["choices"] = "Give at least two options, one per line."
    elif len(labels) > MAX_CHOICES:
        errors["choices"] = f"Give at most {MAX_CHOICES} options."
    elif any(len(label) > 100 for label in labels):
        errors["choices"] = "Keep each option under 100 characters."
    elif len({label.lower() for label in labels}) != len(labels):
        errors["choices"] = "Each option must be different."
    choices: list[dict[str, str]] = []
    for label in labels:
        choices.append({"key": _unique_key(slugify(label, 40), (c["key"] for c in choices)),
                        "label": label})
    return choices


def _question_fields(data: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    try:
        kind = QuestionKind(str(data.get("kind") or ""))
    except ValueError:
        errors["kind"] = "Choose a question type: " + ", ".join(k.label for k in QuestionKind) + "."
        kind = QuestionKind.AGREEMENT
    try:
        audience = QuestionAudience(str(data.get("audience") or QuestionAudience.EVERYONE.value))
    except ValueError:
        errors["audience"] = "Choose who is asked this question."
        audience = QuestionAudience.EVERYONE
    fields = {
        "kind": kind,
        "prompt": _text(data, "prompt", 300, errors, required=True, label="The question"),
        "help_text": _text(data, "help_text", 300, errors),
        "audience": audience,
        "choices": _parse_choices(data.get("choices"), errors) if kind is QuestionKind.SINGLE_CHOICE else [],
        "counts_toward_connection": bool(data.get("counts_toward_connection")),
    }
    if fields["counts_toward_connection"] and kind is not QuestionKind.AGREEMENT:
        errors["counts_toward_connection"] = "Only agreement (1-5) questions make up the connection score."
    if fields["counts_toward_connection"] and audience is not QuestionAudience.EVERYONE:
        errors["counts_toward_connection"] = ("The connection score compares whole teams, so its "
                                              "questions must be asked of everyone.")
    return fields


def add_question(survey: Survey, data: Mapping[str, Any], *, actor_id: int | None,
                 key: str | None = None) -> SurveyQuestion:
    """Add a question at the end of the survey's editable version."""
    errors: dict[str, str] = {}
    fields = _question_fields(data, errors)
    if errors:
        raise SurveyValidationError(errors)
    version = editable_version(survey, actor_id=actor_id)
    taken = [q.key for q in version.questions]
    question = SurveyQuestion(key=_unique_key(key or slugify(fields["prompt"]), taken),
                              position=len(version.questions), **fields)
    version.questions.append(question)
    db.session.flush()
    record("survey.question_added", "survey", survey.id, actor_id=actor_id,
           summary=f"Added '{question.prompt}' to '{survey.title}' (version {version.number})")
    return question


def _question_by_key(version: SurveyVersion, key: str) -> SurveyQuestion:
    for question in version.questions:
        if question.key == key:
            return question
    raise SurveyValidationError({"question": "That question is not in the current version."})


def update_question(survey: Survey, key: str, data: Mapping[str, Any], *,
                    actor_id: int | None) -> SurveyQuestion:
    """Change a question; a version already answered stays as it was and a new one is made."""
    errors: dict[str, str] = {}
    fields = _question_fields(data, errors)
    _question_by_key(survey.current_version, key)
    if errors:
        raise SurveyValidationError(errors)
    question = _question_by_key(editable_version(survey, actor_id=actor_id), key)
    before = {"prompt": question.prompt, "kind": question.kind.value}
    for name, value in fields.items():
        setattr(question, name, value)
    record("survey.question_changed", "survey", survey.id, actor_id=actor_id,
           summary=f"Changed a question of '{survey.title}'", before=before,
           after={"prompt": question.prompt, "kind": question.kind.value})
    return question


def remove_question(survey: Survey, key: str, *, actor_id: int | None) -> None:
    """Take a question out of the editable version (answered versions keep it)."""
    _question_by_key(survey.current_version, key)
    version = editable_version(survey, actor_id=actor_id)
    question = _question_by_key(version, key)
    version.questions.remove(question)
    for position, q in enumerate(version.questions):
        q.position = position
    record("survey.question_removed", "survey", survey.id, actor_id=actor_id,
           summary=f"Removed '{question.prompt}' from '{survey.title}' (version {version.number})")


def move_question(survey: Survey, key: str, direction: str, *, actor_id: int | None) -> None:
    """Move a question one place up or down."""
    if direction not in ("up", "down"):
        raise SurveyValidationError({"direction": "Move a question up or down."})
    _question_by_key(survey.current_version, key)
    version = editable_version(survey, actor_id=actor_id)
    questions = list(version.questions)
    index = next(i for i, q in enumerate(questions) if q.key == key)
    target = index - 1 if direction == "up" else index + 1
    if not 0 <= target < len(questions):
        return
    questions[index], questions[target] = questions[target], questions[index]
    for position, q in enumerate(questions):
        q.position = position
    version.questions.sort(key=lambda q: q.position)
    record("survey.question_moved", "survey", survey.id, actor_id=actor_id,
           summary=f"Moved '{questions[target].prompt}' {direction} in '{survey.title}'")


# ---------------------------------------------------------------------------------------------
# Rounds: scheduling, audience, opening, closing, reminders


@dataclass(frozen=True)
class RoundPlan:
    """A validated round schedule, ready to apply to a round."""

    opens_at: datetime
    closes_at: datetime
    remind_at: datetime | None
    audience_kind: AudienceKind
    audience_team_ids: list[int]
    audience_stages: list[str]
    milestone_days: int | None
    milestone_window_days: int | None
    repeat_every_days: int | None
    min_group_size: int

    def apply(self, round_: SurveyRound) -> None:
        for name in self.__dataclass_fields__:
            setattr(round_, name, getattr(self, name))


def _id_list(raw: Any) -> list[int] | None:
    if raw is None or raw == "":
        return []
    items = raw.split(",") if isinstance(raw, str) else raw
    try:
        return sorted({int(str(item).strip()) for item in items if str(item).strip()})
    except (TypeError, ValueError):
        return None


def plan_round(data: Mapping[str, Any], *, tz: str, today: date | None = None,
               locked_group_size: int | None = None) -> RoundPlan:
    """Check a round's schedule and audience; dates are days in the author's time zone."""
    errors: dict[str, str] = {}
    today = today or local_day(utcnow(), tz)
    raw_day = data.get("opens_on")
    opens_on: date | None = None
    if isinstance(raw_day, date):
        opens_on = raw_day
    elif raw_day:
        try:
            opens_on = date.fromisoformat(str(raw_day).strip())
        except ValueError:
            errors["opens_on"] = f"'{raw_day}' is not a date in the form YYYY-MM-DD."
    else:
        errors["opens_on"] = "Choose the day the round opens."
    if opens_on is not None and opens_on < today:
        errors["opens_on"] = "The round cannot open in the past; choose today or a later day."
    open_days = _int(data, "open_days", errors, low=1, high=MAX_OPEN_DAYS, default=7) or 7
    repeat = _int(data, "repeat_every_days", errors, low=1, high=365)
    if repeat == 0:
        repeat = None
    if repeat is not None and "repeat_every_days" not in errors and repeat < open_days:
        errors["repeat_every_days"] = (f"Rounds would overlap: repeat every {open_days} days or more, "
                                       "or shorten how long each round is open.")
    low, high = MIN_GROUP_SIZE_RANGE
    group = _int(data, "min_group_size", errors, low=low, high=high, default=5) or 5
    if locked_group_size is not None and group != locked_group_size:
        errors["min_group_size"] = ("The minimum group size is locked once a round opens, so nobody "
                                    "can lower it after seeing who answered.")
        group = locked_group_size
    try:
        kind = AudienceKind(str(data.get("audience_kind") or AudienceKind.EVERYONE.value))
    except ValueError:
        errors["audience_kind"] = "Choose who the round is for."
        kind = AudienceKind.EVERYONE
    team_ids: list[int] = []
    stages: list[str] = []
    milestone_days = milestone_window = None
    if kind is AudienceKind.TEAMS:
        parsed = _id_list(data.get("team_ids"))
        if parsed is None:
            errors["team_ids"] = "Choose teams from the list."
        elif not parsed:
            errors["team_ids"] = "Choose at least one team."
        else:
            known = set(db.session.scalars(select(Team.id).where(Team.id.in_(parsed))))
            if set(parsed) - known:
                errors["team_ids"] = "One of the chosen teams no longer exists."
            team_ids = parsed
    elif kind is AudienceKind.STAGES:
        raw = data.get("stages") or []
        raw = raw.split(",") if isinstance(raw, str) else raw
        valid = {s.value for s in LifecycleStatus} - {LifecycleStatus.ALUMNI.value}
        stages = sorted({str(s).strip() for s in raw if str(s).strip()})
        if not stages:
            errors["stages"] = "Choose at least one lifecycle stage."
        elif set(stages) - valid:
            errors["stages"] = "Choose stages from the list (alumni are not surveyed)."
    elif kind is AudienceKind.MILESTONE:
        milestone_days = _int(data, "milestone_days", errors, low=1, high=3650, required=True)
        milestone_window = _int(data, "milestone_window_days", errors, low=1, high=365,
                                default=repeat or 14)
    if errors:
        raise SurveyValidationError(errors)
    assert opens_on is not None
    opens_at = local_midnight(opens_on, tz)
    closes_at = local_midnight(opens_on + timedelta(days=open_days), tz)
    remind_at = None
    if data.get("send_reminder", True) not in (False, "", "0", "false", None) and open_days >= 2:
        # Two days before the end, or halfway through a short round.
        remind_at = closes_at - min(timedelta(days=2), (closes_at - opens_at) / 2)
    return RoundPlan(opens_at, closes_at, remind_at, kind, team_ids, stages, milestone_days,
                     milestone_window, repeat, group)


def schedule_round(survey: Survey, data: Mapping[str, Any], *, tz: str, actor_id: int | None,
                   today: date | None = None) -> SurveyRound:
    """Plan a round of a survey; the scheduler opens it on its day (or HR opens it now)."""
    if survey.archived_at is not None:
        raise SurveyValidationError({"survey": "This survey is archived; restore it to plan rounds."})
    if not survey.current_version.questions:
        raise SurveyValidationError({"survey": "Add at least one question before planning a round."})
    plan = plan_round(data, tz=tz, today=today)
    round_ = SurveyRound(survey=survey, sequence=_next_sequence(survey.id), created_by_id=actor_id)
    plan.apply(round_)
    db.session.add(round_)
    db.session.flush()
    record("survey.round_scheduled", "survey_round", round_.id, actor_id=actor_id,
           summary=f"Planned {round_.label} of '{survey.title}' from {plan.opens_at:%Y-%m-%d}",
           after=describe_plan(plan))
    return round_


def update_round(round_: SurveyRound, data: Mapping[str, Any], *, tz: str, actor_id: int | None,
                 today: date | None = None) -> SurveyRound:
    """Change a round that has not opened yet."""
    if round_.status is not RoundStatus.SCHEDULED:
        raise SurveyValidationError({"round": f"{round_.label} is {round_.status.label.lower()}; only "
                                              "rounds that have not opened can be changed."})
    plan = plan_round(data, tz=tz, today=today)
    plan.apply(round_)
    record("survey.round_changed", "survey_round", round_.id, actor_id=actor_id,
           summary=f"Changed {round_.label} of '{round_.survey.title}'", after=describe_plan(plan))
    return round_


def describe_plan(plan: RoundPlan) -> dict[str, Any]:
    """A JSON-safe picture of a round plan for the audit log."""
    return {"opens_at": plan.opens_at.isoformat(), "closes_at": plan.closes_at.isoformat(),
            "audience": plan.audience_kind.value, "teams": plan.audience_team_ids,
            "stages": plan.audience_stages, "milestone_days": plan.milestone_days,
            "repeat_every_days": plan.repeat_every_days, "min_group_size": plan.min_group_size}


def cancel_round(round_: SurveyRound, *, actor_id: int | None, reason: str = "") -> None:
    """Cancel a round that has not opened; an open round is closed instead."""
    if round_.status is not RoundStatus.SCHEDULED:
        raise SurveyValidationError({"round": "Only a round that has not opened can be cancelled; "
                                              "close an open round instead."})
    round_.status = RoundStatus.CANCELLED
    round_.cancelled_at = utcnow()
    record("survey.round_cancelled", "survey_round", round_.id, actor_id=actor_id,
           summary=f"Cancelled {round_.label} of '{round_.survey.title}'"
                   + (f": {reason}" if reason else ""))


def _next_sequence(survey_id: int) -> int:
    last = db.session.scalar(select(func.max(SurveyRound.sequence)).where(SurveyRound.survey_id == survey_id))
    return (last or 0) + 1


def audience_condition(round_: SurveyRound, on: date):
    """The SQL condition selecting a round's audience among employees on a given day."""
    conditions = [Employee.deactivated_at.is_(None)]
    kind = round_.audience_kind
    if kind is AudienceKind.STAGES:
        conditions.append(Employee.status.in_([LifecycleStatus(s) for s in round_.audience_stages]))
    else:
        conditions.append(Employee.status.in_(WORKING_STATUSES))
    if kind is AudienceKind.TEAMS:
        conditions.append(Employee.team_id.in_(round_.audience_team_ids or [-1]))
    elif kind is AudienceKind.MILESTONE:
        days, window = round_.milestone_days or 0, round_.milestone_window_days or 1
        latest = on - timedelta(days=days)
        conditions.append(Employee.start_date.between(latest - timedelta(days=window - 1), latest))
    return and_(*conditions)


def audience_size(round_: SurveyRound, on: date) -> int:
    """How many people the round would go to on a given day (for the preview on the form)."""
    return db.session.scalar(select(func.count()).select_from(Employee)
                             .where(audience_condition(round_, on))) or 0


def _invite(round_: SurveyRound, now: datetime) -> int:
    """Snapshot the audience with coarsened groups; returns how many were invited."""
    on = now.date()
    rows = db.session.execute(
        select(Employee.id, Employee.team_id, Employee.status, Employee.start_date)
        .where(audience_condition(round_, on))
    ).all()
    people = []
    for employee_id, team_id, status, start in rows:
        band = tenure_band(start, on)
        people.append({"round_id": round_.id, "employee_id": employee_id, "team_id": team_id,
                       "stage": status.value, "tenure_band": band.value if band else None,
                       "new_hire": is_new_hire(start, status, on), "invited_at": now})
    # A group smaller than the threshold could never be shown, so it is not even recorded.
    k = round_.min_group_size
    for column in ("team_id", "stage", "tenure_band"):
        sizes = Counter(p[column] for p in people)
        for p in people:
            if p[column] is not None and sizes[p[column]] < k:
                p[column] = None
    if people:
        db.session.execute(insert(SurveyInvitation.__table__), people)
    return len(people)


def _claim_round(round_id: int, expected: RoundStatus, **values: Any) -> SurveyRound | None:
    """Move a round on from `expected`, or None when another run already did.

    The status guard makes the change a claim: two schedulers cannot both open or close a round.
    """
    claimed = db.session.execute(
        update(SurveyRound).where(SurveyRound.id == round_id, SurveyRound.status == expected)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        db.session.rollback()
        return None
    return db.session.scalar(select(SurveyRound).where(SurveyRound.id == round_id)
                             .execution_options(populate_existing=True))


def open_round(round_id: int, *, now: datetime | None = None, actor_id: int | None = None) -> bool:
    """Open a scheduled round: lock its version, invite its audience; False if already taken."""
    now = now or utcnow()
    round_ = _claim_round(round_id, RoundStatus.SCHEDULED, status=RoundStatus.OPEN, opened_at=now)
    if round_ is None:
        return False
    version = round_.survey.current_version
    if round_.closes_at <= now or not version.questions:
        # Missed while the scheduler was down, or emptied since: never invite to a closed window.
        round_.status = RoundStatus.CANCELLED
        round_.cancelled_at = now
        reason = "its window passed before it could open" if round_.closes_at <= now \
            else "the survey has no questions"
        record("survey.round_cancelled", "survey_round", round_.id, actor_id=actor_id,
               summary=f"{round_.label} of '{round_.survey.title}' was not opened: {reason}")
        _schedule_next(round_, now)
        db.session.commit()
        return False
    version.locked_at = version.locked_at or now
    round_.version_id = version.id
    # The next round keeps the planned cadence even when HR opens this one early.
    _schedule_next(round_, now)
    round_.opens_at = min(round_.opens_at, now)
    round_.invited_count = _invite(round_, now)
    record("survey.round_opened", "survey_round", round_.id, actor_id=actor_id,
           summary=f"Opened {round_.label} of '{round_.survey.title}' to {round_.invited_count} people")
    db.session.commit()
    return True


def _schedule_next(round_: SurveyRound, now: datetime) -> SurveyRound | None:
    """Plan the next round of a repeating series, skipping windows that already passed."""
    if not round_.repeat_every_days:
        return None
    step = timedelta(days=round_.repeat_every_days)
    opens_at, closes_at = round_.opens_at + step, round_.closes_at + step
    remind_at = round_.remind_at + step if round_.remind_at else None
    while closes_at <= now:
        opens_at, closes_at = opens_at + step, closes_at + step
        remind_at = remind_at + step if remind_at else None
    following = SurveyRound(
        survey_id=round_.survey_id, sequence=_next_sequence(round_.survey_id),
        opens_at=opens_at, closes_at=closes_at, remind_at=remind_at,
        audience_kind=round_.audience_kind, audience_team_ids=list(round_.audience_team_ids or []),
        audience_stages=list(round_.audience_stages or []), milestone_days=round_.milestone_days,
        milestone_window_days=round_.milestone_window_days,
        repeat_every_days=round_.repeat_every_days, min_group_size=round_.min_group_size,
        created_by_id=round_.created_by_id,
    )
    db.session.add(following)
    db.session.flush()
    return following


def close_round(round_id: int, *, now: datetime | None = None, actor_id: int | None = None) -> bool:
    """Close an open round: build its results, run the feedback loop; False if not open."""
    from touchpoints.surveys import cube, feedback

    now = now or utcnow()
    round_ = _claim_round(round_id, RoundStatus.OPEN, status=RoundStatus.CLOSED, closed_at=now)
    if round_ is None:
        return False
    round_.closes_at = min(round_.closes_at, now)
    cube.scramble_physical_order(round_.id)
    cube.build_result_cells(round_)
    round_.results_built_at = now
    respondents = db.session.scalar(select(func.count()).select_from(SurveyParticipation)
                                    .where(SurveyParticipation.round_id == round_.id)) or 0
    record("survey.round_closed", "survey_round", round_.id, actor_id=actor_id,
           summary=f"Closed {round_.label} of '{round_.survey.title}': {respondents} of "
                   f"{round_.invited_count} answered")
    feedback.raise_connection_alerts(round_, now=now)
    db.session.commit()
    return True


def open_due_rounds(now: datetime | None = None) -> int:
    """Scheduler job: open every scheduled round whose day has come; returns how many opened."""
    now = now or utcnow()
    due = db.session.scalars(select(SurveyRound.id).where(
        SurveyRound.status == RoundStatus.SCHEDULED, SurveyRound.opens_at <= now,
    ).order_by(SurveyRound.opens_at, SurveyRound.id)).all()
    return sum(1 for round_id in due if open_round(round_id, now=now))


def close_expired_rounds(now: datetime | None = None) -> int:
    """Scheduler job: close every open round whose window has ended; returns how many closed."""
    now = now or utcnow()
    due = db.session.scalars(select(SurveyRound.id).where(
        SurveyRound.status == RoundStatus.OPEN, SurveyRound.closes_at <= now,
    ).order_by(SurveyRound.closes_at, SurveyRound.id)).all()
    return sum(1 for round_id in due if close_round(round_id, now=now))


def _not_answered(round_id_column, employee_id_column):
    return ~exists().where(SurveyParticipation.round_id == round_id_column,
                           SurveyParticipation.employee_id == employee_id_column)


def send_due_reminders(now: datetime | None = None) -> int:
    """Scheduler job: remind, in the app, those who have not answered; returns people reminded.

    Each round reminds once; a round whose window has ended is never reminded late.
    """
    now = now or utcnow()
    due = db.session.scalars(select(SurveyRound.id).where(
        SurveyRound.status == RoundStatus.OPEN, SurveyRound.remind_at <= now,
        SurveyRound.closes_at > now, SurveyRound.reminders_sent_at.is_(None),
    )).all()
    reminded = 0
    for round_id in due:
        claimed = db.session.execute(
            update(SurveyRound).where(SurveyRound.id == round_id, SurveyRound.reminders_sent_at.is_(None))
            .values(reminders_sent_at=now).execution_options(synchronize_session=False)
        ).rowcount
        if not claimed:
            db.session.rollback()
            continue
        reminded += db.session.execute(
            update(SurveyInvitation)
            .where(SurveyInvitation.round_id == round_id,
                   _not_answered(SurveyInvitation.round_id, SurveyInvitation.employee_id))
            .values(reminded_at=now).execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
    return reminded


def invitation_recipients(round_id: int) -> list[int]:
    """Everyone a round was sent to (employee ids), for delivery on their own channels."""
    return list(db.session.scalars(select(SurveyInvitation.employee_id)
                                   .where(SurveyInvitation.round_id == round_id)
                                   .order_by(SurveyInvitation.employee_id)))


def reminder_recipients(round_id: int) -> list[int]:
    """Those invited to an open round who have not answered yet (employee ids)."""
    return list(db.session.scalars(
        select(SurveyInvitation.employee_id)
        .join(SurveyRound, SurveyRound.id == SurveyInvitation.round_id)
        .where(SurveyInvitation.round_id == round_id, SurveyRound.status == RoundStatus.OPEN,
               _not_answered(SurveyInvitation.round_id, SurveyInvitation.employee_id))
        .order_by(SurveyInvitation.employee_id)))


# ---------------------------------------------------------------------------------------------
# The respondent's side


@dataclass(frozen=True)
class OpenInvitation:
    round: SurveyRound
    survey: Survey
    reminded: bool


def open_invitations(employee_id: int, now: datetime | None = None) -> list[OpenInvitation]:
    """The open rounds this person was invited to and has not answered, soonest closing first."""
    now = now or utcnow()
    rows = db.session.execute(
        select(SurveyRound, Survey, SurveyInvitation.reminded_at)
        .join(SurveyInvitation, SurveyInvitation.round_id == SurveyRound.id)
        .join(Survey, Survey.id == SurveyRound.survey_id)
        .where(SurveyInvitation.employee_id == employee_id, SurveyRound.status == RoundStatus.OPEN,
               SurveyRound.closes_at > now,
               _not_answered(SurveyInvitation.round_id, SurveyInvitation.employee_id))
        .order_by(SurveyRound.closes_at, SurveyRound.id)
    ).all()
    return [OpenInvitation(r, s, reminded is not None) for r, s, reminded in rows]


def answered_rounds(employee_id: int, limit: int = 20) -> list[tuple[SurveyRound, Survey, date]]:
    """The rounds this person answered, newest first, with the day (never what they answered)."""
    rows = db.session.execute(
        select(SurveyRound, Survey, SurveyParticipation.responded_on)
        .join(SurveyParticipation, SurveyParticipation.round_id == SurveyRound.id)
        .join(Survey, Survey.id == SurveyRound.survey_id)
        .where(SurveyParticipation.employee_id == employee_id)
        .order_by(SurveyParticipation.responded_on.desc(), SurveyRound.id.desc()).limit(limit)
    ).all()
    return [(r, s, d) for r, s, d in rows]


def invitation_for(round_id: int, employee_id: int) -> SurveyInvitation | None:
    """This person's invitation to a round, if they have one."""
    return db.session.get(SurveyInvitation, (round_id, employee_id))


def has_answered(round_id: int, employee_id: int) -> bool:
    """Whether this person already answered the round."""
    return db.session.get(SurveyParticipation, (round_id, employee_id)) is not None


def questions_for(round_: SurveyRound, *, new_hire: bool) -> list[SurveyQuestion]:
    """The questions a respondent of this round is asked, in order."""
    version = round_.version or round_.survey.current_version
    return [q for q in version.questions if q.applies_to(new_hire)]


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def clean_answers(questions: list[SurveyQuestion], answers: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Check answers (keyed by question key) against the questions; raises AnswerValidationError."""
    errors: dict[str, str] = {}
    by_key = {q.key: q for q in questions}
    for key in answers:
        if key not in by_key:
            errors[str(key)] = "This question is not part of this survey."
    cleaned: list[dict[str, Any]] = []
    for q in questions:
        raw = answers.get(q.key)
        row = {"question_id": q.id, "score": None, "choice": None, "text": None}
        if q.kind is QuestionKind.SHORT_TEXT:
            text = "" if raw is None else str(raw).strip()
            if len(text) > MAX_TEXT_ANSWER:
                errors[q.key] = f"Keep this under {MAX_TEXT_ANSWER} characters (it has {len(text)})."
            elif text:
                cleaned.append({**row, "text": text})
            continue
        if raw is None or raw == "":
            errors[q.key] = "Please answer this question."
            continue
        if q.kind is QuestionKind.SINGLE_CHOICE:
            if str(raw) not in q.choice_labels:
                errors[q.key] = "Choose one of the options."
            else:
                cleaned.append({**row, "choice": str(raw)})
            continue
        value = _as_int(raw)
        scale = q.kind.scale
        if value is None or value not in scale:
            errors[q.key] = f"Choose a number from {scale.start} to {scale.stop - 1}."
        else:
            cleaned.append({**row, "score": value})
    if errors:
        raise AnswerValidationError(errors)
    return cleaned


@dataclass(frozen=True)
class Receipt:
    """What the respondent is told: the round and the day, nothing that could identify answers."""

    round_id: int
    responded_on: date
    answers: int


# Called with (round id, respondent id) once an answer is committed, whatever the channel (page, API,
# Slack dialog): the nudges capability refreshes the Slack messages that invited the person. A callback
# gets nothing of what was answered, and must write nothing that ties the person to the moment.
AfterAnswer = Callable[[int, int], None]
_after_answer: Hooks[AfterAnswer] = Hooks()


def register_after_answer(callback: AfterAnswer) -> AfterAnswer:
    """Add a callback run after every recorded answer (usable as a decorator); idempotent."""
    return _after_answer.register(callback)


def submit_response(round_id: int, respondent_employee_id: int, answers: Mapping[str, Any], *,
                    now: datetime | None = None) -> Receipt:
    """Take one person's answers to a round, once; the stored answers carry no trace of them.

    Participation is inserted first in the same transaction: its primary key (round, person)
    turns a second or simultaneous submission into AlreadyAnswered on SQLite and PostgreSQL.
    """
    now = now or utcnow()
    round_ = db.session.get(SurveyRound, round_id)
    if round_ is None or round_.status is not RoundStatus.OPEN or round_.closes_at <= now:
        raise RoundNotOpen("This survey round is not open for answers.")
    invitation = invitation_for(round_id, respondent_employee_id)
    if invitation is None:
        raise NotInvited("This survey round was not sent to you.")
    cleaned = clean_answers(questions_for(round_, new_hire=invitation.new_hire), answers)
    team_id, stage, band = invitation.team_id, invitation.stage, invitation.tenure_band
    try:
        db.session.add(SurveyParticipation(round_id=round_id, employee_id=respondent_employee_id,
                                           responded_on=now.date()))
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise AlreadyAnswered("You have already answered this round; thank you.") from None
    response = SurveyResponse(round_id=round_id, team_id=team_id, stage=stage, tenure_band=band)
    db.session.add(response)
    db.session.flush()
    db.session.execute(insert(SurveyAnswer.__table__),
                       [{**row, "response_id": response.id} for row in cleaned])
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise AlreadyAnswered("You have already answered this round; thank you.") from None
    for callback in _after_answer:
        callback(round_id, respondent_employee_id)
    return Receipt(round_id, now.date(), len(cleaned))


# ---------------------------------------------------------------------------------------------
# Reading for HR pages


@dataclass(frozen=True)
class Participation:
    invited: int
    responded: int

    @property
    def rate(self) -> float | None:
        return self.responded / self.invited if self.invited else None


def participation_by_team(round_: SurveyRound) -> tuple[Participation, list[tuple[str, Participation]]]:
    """Live participation of a round overall and per team (teams below the threshold grouped)."""
    rows = db.session.execute(
        select(SurveyInvitation.team_id, Team.name, func.count(),
               func.count(SurveyParticipation.employee_id))
        .outerjoin(Team, Team.id == SurveyInvitation.team_id)
        .outerjoin(SurveyParticipation, and_(SurveyParticipation.round_id == SurveyInvitation.round_id,
                                             SurveyParticipation.employee_id == SurveyInvitation.employee_id))
        .where(SurveyInvitation.round_id == round_.id)
        .group_by(SurveyInvitation.team_id, Team.name)
    ).all()
    total = Participation(sum(r[2] for r in rows), sum(r[3] for r in rows))
    teams = sorted(((name or "Other (teams below the threshold, or no team)", Participation(n, done))
                    for _, name, n, done in rows), key=lambda item: (item[0].startswith("Other"), item[0]))
    return total, teams
