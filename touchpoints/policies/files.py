"""Policy files: YAML read with the line of every field, so errors say file, line and field.

Why YAML: HR reads and edits these files, and YAML lets the shipped pack explain itself in
comments next to each rule; its node marks give the line of every field for error messages;
the journeys and surveys packs already use it, so one format serves the whole product.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from touchpoints.policies.rules import PolicySpec, RuleError, parse_policy

# PyYAML (1 MB) is imported by the functions that read or write a file: every web worker imports
# this module through the policies services, and only loading or exporting policies needs it.
if TYPE_CHECKING:
    import yaml

HEADER = """\
# Touchpoints human-touch policies.
#
# Each policy is a rule kind with parameters, a scope and a severity:
#   rule:     required_modes | maximum_gap | first_days_contact | follow_up_pairing |
#             automation_streak | channel_guidelines | quiet_hours
#   severity: block (refuse, an HR partner may override with a written justification) or warn
#   scope:    kinds, stages, teams, locations; an empty list means "all"
# Load with `flask policies load FILE` (all or nothing; --dry-run shows the impact first).
"""


class PolicyFileError(ValueError):
    """A policy file that cannot be loaded; each problem names the file, the line and the field."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class FilePolicy:
    """One checked policy from a file, with where it was written."""

    spec: PolicySpec
    file: str
    line: int
    lines: dict[str, int]

    def line_of(self, path: str) -> int:
        """The line of a field path like params.days, or of the nearest enclosing field."""
        return line_of(self.lines, path, self.line)


def line_of(lines: dict[str, int], path: str, default: int) -> int:
    """The line of the longest known prefix of a field path ('scope.kinds[2]' → 'scope.kinds')."""
    probe = path
    while probe:
        if probe in lines:
            return lines[probe]
        cut = max(probe.rfind("."), probe.rfind("["))
        probe = probe[:cut] if cut > 0 else ""
    return default


def display_name(path: Path) -> str:
    """The path as people typed it: relative to the working directory when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _walk(node: yaml.Node, prefix: str, lines: dict[str, int], problems: list[tuple[str, int, str]]) -> None:
    """Record the line of every field below node; note keys written twice (YAML keeps the last)."""
    import yaml

    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            name = str(key_node.value)
            path = f"{prefix}.{name}" if prefix else name
            line = key_node.start_mark.line + 1
            if name in seen:
                problems.append((path, line, "is written twice; keep one."))
            seen.add(name)
            lines[path] = line
            _walk(value_node, path, lines, problems)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            path = f"{prefix}[{index}]"
            lines[path] = item.start_mark.line + 1
            _walk(item, path, lines, problems)


def _compose(text: str, name: str) -> tuple[Any, yaml.Node | None]:
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        where = f"{name}, line {mark.line + 1}" if mark else name
        problem = getattr(error, "problem", None) or str(error)
        raise PolicyFileError([f"{where}: not valid YAML ({problem})."]) from None
    finally:
        loader.dispose()
    return data, node


def parse_policy_text(text: str, name: str) -> list[FilePolicy]:
    """Every policy in one file's text, checked; PolicyFileError lists each problem with its line."""
    data, root = _compose(text, name)
    if root is None or data is None:
        raise PolicyFileError([f"{name}, line 1: the file is empty; write a list under 'policies:'."])
    if not isinstance(data, dict) or "policies" not in data:
        raise PolicyFileError([f"{name}, line {root.start_mark.line + 1}: a policy file holds one field, "
                               "'policies:', with a list of policies under it."])
    extra = [k for k in data if k != "policies"]
    problems: list[str] = []
    top_lines: dict[str, int] = {}
    duplicates: list[tuple[str, int, str]] = []
    _walk(root, "", top_lines, duplicates)
    for key in extra:
        problems.append(f"{name}, line {top_lines.get(str(key), 1)}, field {key}: is not a field here "
                        "(expected: policies).")
    items = data["policies"]
    if not isinstance(items, list):
        raise PolicyFileError([f"{name}, line {top_lines.get('policies', 1)}, field policies: must be a list "
                               "of policies, each starting with '- key:'."])
    for path, line, message in duplicates:
        shown = path.split("]", 1)[1].lstrip(".") if path.startswith("policies[") and "]." in path else path
        problems.append(f"{name}, line {line}, field {shown}: {message}")
    found: list[FilePolicy] = []
    seen_keys: dict[str, int] = {}
    for index, item in enumerate(items):
        prefix = f"policies[{index}]"
        item_line = top_lines.get(prefix, 1)
        lines = {path[len(prefix) + 1:]: line for path, line in top_lines.items()
                 if path.startswith(prefix + ".")}
        try:
            spec = parse_policy(item)
        except RuleError as error:
            for path, message in error.errors.items():
                problems.append(f"{name}, line {line_of(lines, path, item_line)}, field {path}: {message}")
            continue
        if spec.key in seen_keys:
            problems.append(f"{name}, line {line_of(lines, 'key', item_line)}, field key: '{spec.key}' is "
                            f"already used by the policy on line {seen_keys[spec.key]}.")
            continue
        seen_keys[spec.key] = item_line
        found.append(FilePolicy(spec, name, item_line, lines))
    if problems:
        raise PolicyFileError(problems)
    return found


def read_policy_files(paths: Iterable[Path]) -> list[FilePolicy]:
    """Every policy in these files or folders (*.yaml, *.yml, in name order); all problems at once."""
    files: list[Path] = []
    problems: list[str] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
            if not found:
                problems.append(f"{display_name(path)}: no policy files (*.yaml) in this folder.")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            problems.append(f"{display_name(path)}: no such file.")
    policies: list[FilePolicy] = []
    by_key: dict[str, FilePolicy] = {}
    for path in files:
        name = display_name(path)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            problems.append(f"{name}: not a UTF-8 text file.")
            continue
        try:
            parsed = parse_policy_text(text, name)
        except PolicyFileError as error:
            problems.extend(error.problems)
            continue
        for item in parsed:
            other = by_key.get(item.spec.key)
            if other is not None:
                problems.append(f"{item.file}, line {item.line_of('key')}, field key: '{item.spec.key}' is "
                                f"already defined in {other.file}, line {other.line_of('key')}.")
                continue
            by_key[item.spec.key] = item
            policies.append(item)
    if problems:
        raise PolicyFileError(problems)
    return policies


def dump_policies(specs: Iterable[PolicySpec]) -> str:
    """A policy file for these policies, readable and loadable again (the export)."""
    import yaml

    items = []
    for spec in specs:
        data = spec.as_data()
        if not data["description"]:
            data.pop("description")
        items.append(data)
    body = yaml.safe_dump({"policies": items}, sort_keys=False, allow_unicode=True, width=100,
                          default_flow_style=None)
    # A blank line between policies keeps a long file easy to scan.
    body = body.replace("\n- key:", "\n\n- key:")
    return HEADER + "\n" + body
