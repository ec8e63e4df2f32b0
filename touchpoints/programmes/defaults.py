"""The shipped programmes ("New-hire buddy", "Mentoring") and the journeys their pairs follow.

Kept as readable YAML next to this module: `defaults/journeys/*.yaml` are ordinary journey files
(loaded by the journeys capability's own loader) and `defaults/programmes.yaml` lists the
programmes. Loading twice changes nothing; a programme HR has edited is left as HR made it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from touchpoints.extensions import db
from touchpoints.journeys.defaults import DefaultsError, load_defaults
from touchpoints.programmes.models import Programme
from touchpoints.programmes.services import ProgrammeValidationError, create_programme

DEFAULTS_DIR = Path(__file__).resolve().parent / "defaults"


@dataclass
class ProgrammeOutcome:
    key: str
    action: str  # created, unchanged


def read_programmes_file(path: Path) -> list[dict[str, Any]]:
    """The programmes listed in a file; DefaultsError names the file and entry at fault."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise DefaultsError(f"{path.name}: not valid YAML ({error}).") from None
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise DefaultsError(f"{path.name}: a list of programmes (key, name, kind, journey_key ...) "
                            "expected.")
    return data


def load_default_programmes(directory: Path = DEFAULTS_DIR, *,
                            actor_id: int | None = None) -> list[ProgrammeOutcome]:
    """Load the programmes' journeys, then create the shipped programmes that do not exist yet.

    The caller commits.
    """
    load_defaults(directory / "journeys", actor_id=actor_id)
    outcomes: list[ProgrammeOutcome] = []
    existing = set(db.session.scalars(select(Programme.key)))
    for index, item in enumerate(read_programmes_file(directory / "programmes.yaml")):
        key = str(item.get("key") or "")
        if key in existing:
            outcomes.append(ProgrammeOutcome(key, "unchanged"))
            continue
        try:
            create_programme(item, actor_id=actor_id)
        except ProgrammeValidationError as error:
            problems = "; ".join(f"{k}: {v}" for k, v in error.errors.items())
            where = f"programmes.yaml, entry {index + 1} ({key or 'no key'})"
            raise DefaultsError(f"{where}: {problems}") from None
        outcomes.append(ProgrammeOutcome(key, "created"))
    return outcomes
