"""Row-level helpers for erasure and retention that work the same on SQLite and PostgreSQL.

SQLite runs here without foreign-key enforcement, so ON DELETE CASCADE and SET NULL would not
happen there; `delete_rows` does that work itself by walking the schema's foreign keys, so a
table a capability adds later is covered without touching this module. `scrub_text` finds a
person's name and email in every text and JSON column of every table and replaces them.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Column, Table, cast, delete, func, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from touchpoints.extensions import db

MAX_DEPTH = 8  # the schema's deepest ON DELETE chain is far shorter; stops a cycle


def _referencing(table: Table) -> list[sa.ForeignKey]:
    return [fk for other in db.metadata.sorted_tables for fk in other.foreign_keys
            if fk.column.table is table]


def delete_rows(table: Table, where: ColumnElement, *, _depth: int = 0) -> int:
    """Delete the rows matching `where`, first deleting or nulling what refers to them (as ON DELETE says)."""
    if _depth > MAX_DEPTH:
        raise RuntimeError(f"foreign keys nest too deeply below {table.name}")
    for fk in _referencing(table):
        child: Table = fk.parent.table
        keys = select(fk.column).where(where)
        rule = (fk.ondelete or "").upper()
        if child is table and rule != "SET NULL":
            continue  # a self-reference that cascades would loop; none exists, and RESTRICT is the caller's
        if rule == "CASCADE":
            delete_rows(child, fk.parent.in_(keys), _depth=_depth + 1)
        elif rule == "SET NULL":
            db.session.execute(update(child).where(fk.parent.in_(keys)).values({fk.parent.name: None})
                               .execution_options(synchronize_session=False))
    result = db.session.execute(delete(table).where(where).execution_options(synchronize_session=False))
    return result.rowcount or 0


def _plain_type(column: Column) -> sa.types.TypeEngine:
    kind = column.type
    return kind.impl_instance if isinstance(kind, sa.types.TypeDecorator) else kind


def text_columns(table: Table) -> list[Column]:
    """The columns of a table that can hold free text: strings, texts and JSON (not enums, not keys)."""
    columns = []
    for column in table.columns:
        kind = _plain_type(column)
        if column.primary_key or isinstance(kind, sa.Enum):
            continue
        if isinstance(kind, (sa.String, sa.Text, sa.JSON)):
            columns.append(column)
    return columns


def _variants(needle: str) -> set[str]:
    """The forms a value takes in storage: as typed, and as JSON escapes it (non-ASCII as \\uXXXX)."""
    escaped = json.dumps(needle)[1:-1]
    return {needle.lower(), escaped.lower()}


def _replace_in(value: Any, pattern: re.Pattern, replacement: dict[str, str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(lambda m: replacement[m.group(0).lower()], value)
    if isinstance(value, list):
        return [_replace_in(v, pattern, replacement) for v in value]
    if isinstance(value, dict):
        return {_replace_in(k, pattern, replacement): _replace_in(v, pattern, replacement)
                for k, v in value.items()}
    return value


def scrub_text(replacements: dict[str, str], *, skip: Iterable[str] = ()) -> dict[str, int]:
    """Replace each key (case-insensitive) by its value in every text and JSON column of every table.

    Returns the rows changed per table. Used by erasure for a person's full name and email, which
    others may have typed anywhere: agenda items, overrides' justifications, audit summaries.
    """
    replacements = {k: v for k, v in replacements.items() if k}
    lowered = {k.lower(): v for k, v in replacements.items()}
    pattern = re.compile("|".join(re.escape(k) for k in sorted(replacements, key=len, reverse=True)),
                         re.IGNORECASE)
    skipped = set(skip)
    changed: dict[str, int] = {}
    for table in db.metadata.sorted_tables:
        columns = text_columns(table)
        if not columns or table.name in skipped:
            continue
        conditions = []
        for column in columns:
            as_text = cast(column, sa.Text) if isinstance(_plain_type(column), sa.JSON) else column
            for needle in replacements:
                for form in _variants(needle):
                    conditions.append(func.lower(as_text).contains(form, autoescape=True))
        keys = list(table.primary_key.columns)
        rows = db.session.execute(select(*keys, *columns).where(or_(*conditions))).all()
        for row in rows:
            values = {}
            for index, column in enumerate(columns):
                old = row[len(keys) + index]
                new = _replace_in(old, pattern, lowered)
                if new != old:
                    values[column.name] = new
            if values:
                key_match = [key == row[i] for i, key in enumerate(keys)]
                db.session.execute(update(table).where(*key_match).values(values)
                                   .execution_options(synchronize_session=False))
                changed[table.name] = changed.get(table.name, 0) + 1
    return changed
