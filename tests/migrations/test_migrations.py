"""Migrations: empty to head matches the models, and every step goes down and up again, on both databases.

These tests read the revisions from migrations/versions, so a migration added by any capability is
covered without touching this file.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app

from tests.conftest import BACKENDS
from touchpoints import create_app
from touchpoints.config import TestConfig
from touchpoints.extensions import db

VERSION_TABLE = "alembic_version"

# SQLite cannot reflect expression indexes such as lower(email): SQLAlchemy and Alembic say so each
# time; _missing_sqlite_expression_indexes checks those indexes another way.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index"),
    pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index"),
]


SQLITE_INDEX_HINT = (
    ". On SQLite, batch_alter_table rebuilds a table from reflection, which cannot see expression "
    "indexes such as lower(email), so the rebuild drops them: recreate them right after the batch "
    "block (if op.get_bind().dialect.name == 'sqlite': op.create_index(...))."
)


def _alembic_config():
    """The Alembic configuration Flask-Migrate uses for `flask db ...` (needs an app context)."""
    config = current_app.extensions["migrate"].migrate.get_config()
    config.attributes["configure_logger"] = False  # leave pytest's log capture in place
    return config


def _upgrade(revision: str = "head") -> None:
    # alembic.command rather than flask_migrate.upgrade: Flask-Migrate turns errors into sys.exit(1),
    # which would hide the traceback that says what went wrong.
    command.upgrade(_alembic_config(), revision)


def _downgrade(revision: str) -> None:
    command.downgrade(_alembic_config(), revision)


@contextmanager
def _migrating_app(url: str) -> Iterator[Flask]:
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


def _revisions_oldest_first() -> list[str]:
    script = ScriptDirectory.from_config(_alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def _is_expression_index(index: sa.Index) -> bool:
    return any(not isinstance(expr, sa.Column) for expr in index.expressions)


def _missing_sqlite_expression_indexes(connection: sa.Connection) -> list[tuple[str, str]]:
    """Expression indexes (lower(email)) the models declare but SQLite lacks.

    SQLite reflection cannot see expression indexes, so autogenerate skips them; worse, a
    batch_alter_table that rebuilds such a table silently drops them. Check them by name.
    """
    existing = dict(connection.execute(
        sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")).all())
    missing = []
    for table in db.metadata.sorted_tables:
        for index in table.indexes:
            if not _is_expression_index(index):
                continue
            sql = existing.get(index.name)
            if sql is None or sql.upper().startswith("CREATE UNIQUE") != bool(index.unique):
                missing.append(("missing_expression_index", f"{table.name}.{index.name}"))
    return missing


def schema_differences(connection: sa.Connection) -> list[Any]:
    """What autogenerate would put in a new migration: empty when migrations and models agree."""
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    differences = list(compare_metadata(context, db.metadata))
    if connection.dialect.name == "sqlite":
        differences += _missing_sqlite_expression_indexes(connection)
    return differences


def schema_snapshot(connection: sa.Connection) -> dict[str, Any]:
    """Everything reflection sees about every table, in a form two snapshots can be compared in."""
    inspector = sa.inspect(connection)
    snapshot: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        if table == VERSION_TABLE:
            continue
        snapshot[table] = {
            "columns": {c["name"]: (str(c["type"]), c["nullable"], str(c.get("default")))
                        for c in inspector.get_columns(table)},
            "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
            "foreign_keys": sorted(
                (fk["name"] or "", tuple(fk["constrained_columns"]), fk["referred_table"],
                 tuple(fk["referred_columns"]), str(fk.get("options", {}).get("ondelete")))
                for fk in inspector.get_foreign_keys(table)),
            "indexes": sorted(
                (ix["name"] or "", tuple(str(c) for c in ix["column_names"]), bool(ix["unique"]))
                for ix in inspector.get_indexes(table)),
            "unique": sorted((uq["name"] or "", tuple(uq["column_names"]))
                             for uq in inspector.get_unique_constraints(table)),
            "checks": sorted((ck["name"] or "", ck["sqltext"])
                             for ck in inspector.get_check_constraints(table)),
        }
    if connection.dialect.name == "sqlite":
        # Expression indexes are invisible to SQLite reflection: take their definitions verbatim.
        snapshot["(sqlite indexes)"] = sorted(connection.execute(sa.text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")).all())
    else:
        snapshot["(postgresql types)"] = sorted(connection.execute(sa.text(
            "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
            "WHERE n.nspname = current_schema() AND t.typtype IN ('e', 'd')")).scalars())
        snapshot["(postgresql sequences)"] = sorted(connection.execute(sa.text(
            "SELECT sequence_name FROM information_schema.sequences "
            "WHERE sequence_schema = current_schema()")).scalars())
        snapshot["(postgresql views)"] = sorted(connection.execute(sa.text(
            "SELECT table_name FROM information_schema.views "
            "WHERE table_schema = current_schema()")).scalars())
    return snapshot


def _snapshot() -> dict[str, Any]:
    with db.engine.connect() as connection:
        return schema_snapshot(connection)


def _assert_schema_matches_models(backend: str) -> None:
    with db.engine.connect() as connection:
        differences = schema_differences(connection)
    hint = SQLITE_INDEX_HINT if any(d[0] == "missing_expression_index" for d in differences
                                    if isinstance(d, tuple)) else ""
    assert not differences, (
        f"On {backend}, the schema the migrations build differs from the models. Write or fix a "
        "migration (flask db migrate --rev-id <id> -m '...', then review it). Differences:\n"
        + "\n".join(f"  {d!r}" for d in differences) + hint
    )


def _leftovers(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in snapshot.items() if value}


def test_the_revisions_form_one_line():
    """Two capabilities that both branch from the same revision must be chained (or merged)."""
    app = create_app(TestConfig)
    with app.app_context():
        script = ScriptDirectory.from_config(_alembic_config())
        heads = script.get_heads()
        revisions = list(script.walk_revisions())
    assert len(heads) == 1, (
        f"Migrations have {len(heads)} heads {sorted(heads)}: set the newer revision's down_revision "
        "to the other head so upgrades have one order."
    )
    assert revisions, "migrations/versions holds no revision"


@pytest.mark.parametrize("backend", BACKENDS)
def test_upgrade_from_empty_builds_the_models_schema_and_downgrade_removes_it(backend, empty_database_url):
    """Empty → head matches the models; head → base leaves nothing; base → head works again."""
    with _migrating_app(empty_database_url(backend)):
        _upgrade("head")
        _assert_schema_matches_models(backend)

        _downgrade("base")
        with db.engine.connect() as connection:
            tables = set(sa.inspect(connection).get_table_names())
        assert tables <= {VERSION_TABLE}, f"downgrade to base left tables behind: {sorted(tables)}"
        assert _leftovers(_snapshot()) == {}, "downgrade to base left database objects behind"

        _upgrade("head")
        _assert_schema_matches_models(backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_each_revision_downgrades_to_exactly_the_schema_before_it(backend, empty_database_url):
    """The stairway: up one revision, down one, the schema is as it was, and up again works."""
    with _migrating_app(empty_database_url(backend)):
        revisions = _revisions_oldest_first()
        before = _snapshot()
        for revision in revisions:
            _upgrade(revision)
            after = _snapshot()
            _downgrade("-1")
            restored = _snapshot()
            changed = {key for key in set(before) | set(restored) if before.get(key) != restored.get(key)}
            hint = SQLITE_INDEX_HINT if "(sqlite indexes)" in changed else ""
            assert not changed, (
                f"On {backend}, downgrading {revision} does not restore the schema before it; "
                f"these differ: {sorted(changed)}{hint}"
            )
            _upgrade(revision)
            assert _snapshot() == after, f"On {backend}, upgrading {revision} a second time differs"
            before = after
