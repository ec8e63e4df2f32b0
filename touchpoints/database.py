"""Connection settings for SQLite, the embedded database: write-ahead log and a busy timeout.

WAL lets the web server read while the scheduler writes, and makes a commit cheap (no fsync of
a rollback journal per commit), which the outbox needs: it commits before every send.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine

_configured = False


def _on_connect(dbapi_connection, connection_record) -> None:
    module = type(dbapi_connection).__module__
    if not module.startswith(("sqlite3", "pysqlite")):
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=15000")
    finally:
        cursor.close()


def configure_sqlite_connections() -> None:
    """Apply the SQLite settings to every new SQLite connection (once per process)."""
    global _configured
    if not _configured:
        event.listen(Engine, "connect", _on_connect)
        _configured = True
