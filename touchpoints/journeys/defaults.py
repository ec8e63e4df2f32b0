"""The shipped journeys, kept as readable YAML files and loaded (validated) into the database."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from touchpoints.journeys.enrolment import active_journey
from touchpoints.journeys.errors import JourneyValidationError
from touchpoints.journeys.templates import (
    create_journey,
    journey_to_data,
    parse_journey,
    publish,
    start_revision,
    update_draft,
)

DEFAULTS_DIR = Path(__file__).resolve().parent / "defaults"


class DefaultsError(ValueError):
    """A journey file that cannot be loaded; the message names the file, line and field."""


class _LineDict(dict):
    line: int = 0


class _LineLoader(yaml.SafeLoader):
    """A safe loader that remembers the line each mapping starts on, for error messages."""


def _mapping_with_line(loader: _LineLoader, node: yaml.MappingNode, deep: bool = False) -> _LineDict:
    mapping = _LineDict(loader.construct_mapping(node, deep=True))
    mapping.line = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)


def read_journey_file(path: Path) -> dict[str, Any]:
    """Parse and validate one journey file; DefaultsError names the file, line and field at fault."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)  # noqa: S506 - safe subclass
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path.name}:{mark.line + 1}" if mark else path.name
        raise DefaultsError(f"{where}: not valid YAML ({getattr(error, 'problem', error)}).") from None
    if not isinstance(data, dict):
        raise DefaultsError(f"{path.name}:1: a journey file holds one journey (key, name, touchpoints).")
    _, errors = parse_journey(data)
    if errors:
        lines = []
        for name, reason in errors.items():
            line = data.line
            if name.startswith("touchpoints["):
                index = int(name[len("touchpoints["):name.index("]")])
                items = data.get("touchpoints") or []
                if index < len(items) and isinstance(items[index], _LineDict):
                    line = items[index].line
            lines.append(f"{path.name}:{line}: {name}: {reason}")
        raise DefaultsError("\n".join(lines))
    return _plain(data)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def default_files(directory: Path = DEFAULTS_DIR) -> list[Path]:
    """The journey files in a folder, in name order."""
    return sorted(directory.glob("*.yaml"))


@dataclass
class LoadOutcome:
    key: str
    action: str  # created, unchanged, new_version, differs
    version: int


def _same(journey, data: dict[str, Any]) -> bool:
    clean, _ = parse_journey(data)
    current, _ = parse_journey(journey_to_data(journey))
    return clean == current


def load_defaults(directory: Path = DEFAULTS_DIR, *, actor_id: int | None = None,
                  update: bool = False) -> list[LoadOutcome]:
    """Load every journey file: new journeys are created active; changed ones get a new version when
    `update` is set (people already enrolled keep the version they started). The caller commits.
    """
    files = default_files(directory)
    parsed = [(path, read_journey_file(path)) for path in files]  # validate all before writing any
    outcomes: list[LoadOutcome] = []
    for path, data in parsed:
        existing = active_journey(data["key"])
        if existing is None:
            try:
                journey = create_journey(data, actor_id=actor_id, activate=True)
            except JourneyValidationError as error:
                raise DefaultsError("\n".join(f"{path.name}: {k}: {v}" for k, v in error.errors.items())) \
                    from None
            outcomes.append(LoadOutcome(journey.key, "created", journey.version))
        elif _same(existing, data):
            outcomes.append(LoadOutcome(existing.key, "unchanged", existing.version))
        elif update:
            draft = start_revision(existing, actor_id=actor_id)
            update_draft(draft, {k: v for k, v in data.items() if k != "key"}, actor_id=actor_id)
            publish(draft, actor_id=actor_id, move_open=False)
            outcomes.append(LoadOutcome(draft.key, "new_version", draft.version))
        else:
            outcomes.append(LoadOutcome(existing.key, "differs", existing.version))
    return outcomes
