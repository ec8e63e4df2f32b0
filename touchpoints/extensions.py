"""The Flask extensions, created unbound and bound to an app in create_app."""
from __future__ import annotations

from typing import Any

import click
from flask import Flask
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints let Alembic alter SQLite tables in batch mode and drop them on PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class LazyMigrate:
    """Flask-Migrate, imported only when a migration command or function is first used.

    Importing Flask-Migrate loads Alembic, about 10 MB in every process; a web worker never
    migrates. `flask db ...`, flask_migrate.upgrade() and migrations/env.py work as before: the
    first look at app.extensions["migrate"] or at a `flask db` command binds the real extension.
    """

    def init_app(self, app: Flask, db: SQLAlchemy, **options: Any) -> None:
        """Bind lazily: the same arguments as flask_migrate.Migrate.init_app."""
        app.extensions["migrate"] = _PendingMigrate(app, db, options)
        app.cli.add_command(_LazyDbCommands(name="db", help="Database migrations (Flask-Migrate)."))


class _PendingMigrate:
    """Stands in app.extensions["migrate"] until first read, then binds Flask-Migrate."""

    def __init__(self, app: Flask, db: SQLAlchemy, options: dict[str, Any]) -> None:
        self._app, self._db, self._options = app, db, options

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        from flask_migrate import Migrate

        Migrate(self._app, self._db, **self._options)  # replaces this stand-in with the real config
        return getattr(self._app.extensions["migrate"], name)


class _LazyDbCommands(click.Group):
    """The `flask db` group, its commands imported when the group is used."""

    @staticmethod
    def _commands() -> click.Group:
        from flask_migrate.cli import db as commands

        return commands

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        # The real group parses its own options (-d, -x) and runs the command asked for.
        return self._commands().make_context(info_name, args, parent=parent, **extra)


db = SQLAlchemy(model_class=Base)
migrate = LazyMigrate()
login_manager = LoginManager()
csrf = CSRFProtect()
