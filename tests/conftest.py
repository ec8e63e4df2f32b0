"""Shared fixtures: the app on SQLite and on PostgreSQL, clients, and signing in."""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask, g
from flask.testing import FlaskClient

from tests import pg
from touchpoints import create_app
from touchpoints.config import TestConfig
from touchpoints.extensions import db

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]

# REQUIRE_POSTGRES=1 / REQUIRE_BROWSER=1 (CI sets both): the run fails unless tests of that kind passed,
# so a missing server or browser can never turn into a green run made only of skips.
REQUIRED_KINDS = {
    "REQUIRE_POSTGRES": ("PostgreSQL", lambda nodeid: "postgresql" in nodeid.partition("[")[2]),
    "REQUIRE_BROWSER": ("browser", lambda nodeid: nodeid.startswith("tests/browser/")),
}
_passed_by_kind = dict.fromkeys(REQUIRED_KINDS, 0)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count the passed tests of each required kind."""
    if report.when == "call" and report.passed:
        for variable, (_, is_kind) in REQUIRED_KINDS.items():
            if is_kind(report.nodeid):
                _passed_by_kind[variable] += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when a required kind of test did not pass even once."""
    if hasattr(session.config, "workerinput"):
        return  # an xdist worker sees only its share; the controller decides
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    for variable, (label, _) in REQUIRED_KINDS.items():
        if os.environ.get(variable) == "1" and _passed_by_kind[variable] == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
            if reporter is not None:
                reporter.write_line(f"{variable}=1 but no {label} test passed in this run.", red=True)


# The databases made on each server this session; the server's fixture drops them when it ends.
_databases_made_on: dict[str, list[str]] = {}


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a PostgreSQL server's maintenance database (skips when there is none).

    At the end of the session it drops the databases made on it, then stops a throwaway cluster;
    both happen here because this fixture, set up on first use, is torn down before its users.
    """
    url, cluster, reason = pg.server_url()
    if url is None:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required here: {reason}")
        pytest.skip(reason)
    yield url
    for database in _databases_made_on.pop(url, []):
        drop_database(url, database)
    if cluster is not None:
        cluster.stop()


def create_database(server_url: str) -> str:
    """A fresh, uniquely named database on the server (dropped at the end of the session)."""
    name = f"tp_test_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        # UTF-8 whatever the cluster was created with (a bare CI image may default to SQL_ASCII).
        conn.execute(sa.text(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'"))
    engine.dispose()
    url = sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    _databases_made_on.setdefault(server_url, []).append(url)
    return url


def drop_database(server_url: str, url: str) -> None:
    name = sa.make_url(url).database
    engine = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(scope="session")
def empty_database_url(request) -> Iterator:
    """Make an empty database of a given backend: call with "sqlite" or "postgresql"."""
    tmpdir = Path(tempfile.mkdtemp(prefix="tp-sqlite-"))

    def make(backend: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{tmpdir / (uuid.uuid4().hex + '.sqlite')}"
        return create_database(request.getfixturevalue("postgres_server"))

    yield make
    shutil.rmtree(tmpdir, ignore_errors=True)


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, empty_database_url) -> str:
    """One schema per backend per test session; tests empty it between them."""
    url = empty_database_url(request.param)
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    return url


def _empty_tables() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        db.session.execute(sa.text("PRAGMA foreign_keys=OFF"))
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


def _fresh_request_globals() -> None:
    """Start each request with an empty `g`, as production does."""
    vars(g).clear()


# Tests wired to a fake server get a new port, so a new configuration, each time: without a bound the
# cache would keep every such app and its open database connections (PostgreSQL allows 100).
APP_CACHE_SIZE = 12


def _close(app: Flask) -> None:
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def app_cache() -> Iterator[OrderedDict]:
    """Apps built during the session, by configuration: building one compiles ~160 URL rules."""
    cache: OrderedDict = OrderedDict()
    yield cache
    for app in cache.values():
        _close(app)


@pytest.fixture
def make_app(database_url: str, app_cache: dict) -> Iterator:
    """An app on the session's database with extra config; tables start empty.

    Apps are reused across tests with the same configuration; whatever a test changes in
    `app.config` is put back afterwards, so reuse is invisible to the tests.
    """
    used: list[tuple[Flask, dict]] = []
    evicted: list[Flask] = []

    def make(**overrides: object) -> Flask:
        config = {"SQLALCHEMY_DATABASE_URI": database_url, "WTF_CSRF_ENABLED": False,
                  "SERVER_NAME": None, **overrides}
        key = tuple(sorted((name, repr(value)) for name, value in config.items()))
        app = app_cache.get(key)
        if app is not None:
            app_cache.move_to_end(key)
        else:
            app = create_app(TestConfig, **config)
            # Tests hold one app context across requests, so `g` outlives a request here (it
            # never does in production). Flask-Login caches the user and Flask-WTF the CSRF
            # token on `g`: left alone, a client without any cookie is served the last user.
            app.before_request_funcs.setdefault(None, []).insert(0, _fresh_request_globals)
            app_cache[key] = app
        used.append((app, dict(app.config)))
        while len(app_cache) > APP_CACHE_SIZE:
            _, oldest = app_cache.popitem(last=False)
            if all(oldest is not in_use for in_use, _ in used):
                _close(oldest)
            else:  # still in use by this test: closed at its end
                evicted.append(oldest)
        return app

    yield make
    for app, config in used:
        app.config.clear()
        app.config.update(config)
        with app.app_context():
            db.session.remove()
            _empty_tables()
    for app in evicted:
        _close(app)


@pytest.fixture
def app(make_app) -> Iterator[Flask]:
    """The app with CSRF off (one module tests CSRF on), inside an app context."""
    application = make_app()
    with application.app_context():
        yield application
        db.session.remove()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture
def login(client: FlaskClient):
    """Sign a person in through the real form: login(employee_or_email, password)."""
    from tests.factories import DEFAULT_PASSWORD

    def sign_in(who, password: str = DEFAULT_PASSWORD, follow: bool = False):
        email = who if isinstance(who, str) else who.email
        return client.post("/login", data={"email": email, "password": password},
                           follow_redirects=follow)

    return sign_in


@pytest.fixture
def fake_slack():
    """The fake Slack Web API on 127.0.0.1 (tests/fakes/slack.py) for the length of a test."""
    from tests.fakes.slack import FakeSlack

    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def fake_teams():
    """The local receiver of Teams workflow posts (tests/fakes/teams.py)."""
    from tests.fakes.teams import FakeTeams

    with FakeTeams() as fake:
        yield fake


@pytest.fixture
def fake_smtp():
    """A local SMTP server that keeps what it receives (tests/fakes/smtp.py)."""
    from tests.fakes.smtp import FakeSmtp

    with FakeSmtp() as fake:
        yield fake
