"""Loading survey packs (defaults.yaml): validated, with errors that name the file and survey."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from touchpoints.extensions import db
from touchpoints.surveys import services
from touchpoints.surveys.models import Survey

DEFAULT_PACK = Path(__file__).with_name("defaults.yaml")
SURVEY_FIELDS = {"key", "title", "description", "alert_below", "alert_drop", "questions"}
QUESTION_FIELDS = {"key", "kind", "prompt", "help_text", "choices", "audience", "counts_toward_connection"}


class PackError(ValueError):
    """A pack file that cannot be loaded; the message names the file and the place."""


def read_pack(path: Path = DEFAULT_PACK) -> list[dict[str, Any]]:
    """The surveys of a pack file, checked for shape (values are checked when loading)."""
    import yaml  # PyYAML costs a web worker 1 MB; only loading a pack needs it

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise PackError(f"{path}: cannot be read ({error.strerror}).") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise PackError(f"{path}{where}: not valid YAML ({getattr(error, 'problem', error)}).") from None
    if not isinstance(data, dict) or not isinstance(data.get("surveys"), list):
        raise PackError(f"{path}: expected a top-level 'surveys:' list.")
    for index, survey in enumerate(data["surveys"], 1):
        where = f"{path}: survey {index}"
        if not isinstance(survey, dict):
            raise PackError(f"{where}: expected a mapping of fields.")
        unknown = set(survey) - SURVEY_FIELDS
        if unknown:
            raise PackError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}.")
        if not survey.get("key") or not survey.get("title"):
            raise PackError(f"{where}: 'key' and 'title' are required.")
        questions = survey.get("questions")
        if not isinstance(questions, list) or not questions:
            raise PackError(f"{where} ({survey['key']}): needs a non-empty 'questions' list.")
        for q_index, question in enumerate(questions, 1):
            if not isinstance(question, dict) or set(question) - QUESTION_FIELDS:
                extra = sorted(set(question) - QUESTION_FIELDS) if isinstance(question, dict) else []
                problem = f"unknown field(s) {', '.join(extra)}." if extra else "expected a mapping."
                raise PackError(f"{where} ({survey['key']}), question {q_index}: {problem}")
    return data["surveys"]


def load_pack(path: Path = DEFAULT_PACK, *, actor_id: int | None = None) -> list[Survey]:
    """Create the pack's surveys that do not exist yet (matched by key); returns those created."""
    created = []
    for index, spec in enumerate(read_pack(path), 1):
        if db.session.scalar(select(Survey.id).where(Survey.key == spec["key"])):
            continue
        try:
            survey = services.create_survey(spec, actor_id=actor_id, key=spec["key"])
            for q_index, question in enumerate(spec["questions"], 1):
                try:
                    services.add_question(survey, question, actor_id=actor_id, key=question.get("key"))
                except services.SurveyValidationError as error:
                    raise PackError(f"{path}: survey {index} ({spec['key']}), question {q_index}: "
                                    f"{error}") from None
        except services.SurveyValidationError as error:
            raise PackError(f"{path}: survey {index} ({spec['key']}): {error}") from None
        created.append(survey)
    return created
