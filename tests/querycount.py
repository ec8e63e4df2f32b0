"""Counting the SQL statements a block of code sends, to hold pages to a fixed number of queries.

    with count_queries() as queries:
        client.get("/people/")
    assert queries.count <= 10, queries.report()

An executemany counts once, as it is one round trip for the driver.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.engine import Engine


@dataclass
class QueryLog:
    """The statements seen while counting, in order."""

    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)

    def report(self) -> str:
        """Every statement, numbered, for an assertion message."""
        return f"{self.count} queries:\n" + "\n".join(
            f"{n}. {' '.join(sql.split())[:300]}" for n, sql in enumerate(self.statements, 1)
        )


@contextmanager
def count_queries(engine: Engine | None = None) -> Iterator[QueryLog]:
    """Record every statement sent through engine (the app's db.engine by default)."""
    if engine is None:
        from touchpoints.extensions import db

        engine = db.engine
    log = QueryLog()

    def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        # Savepoint and transaction bookkeeping is not a query a page asked for.
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT")):
            log.statements.append(statement)

    event.listen(engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield log
    finally:
        event.remove(engine, "before_cursor_execute", before_cursor_execute)
