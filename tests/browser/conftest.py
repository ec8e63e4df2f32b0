"""Browser tests: the real app on a free port, driven through Playwright by Debian's Chromium.

The server runs in a background thread against a fresh SQLite file built by the migrations and
filled with the demo company, with CSRF on, as a person would meet it. Playwright never downloads a
browser here: it launches the `chromium` found on PATH. Without one these tests skip, unless
REQUIRE_BROWSER=1 (CI), where that is a failure.
"""
from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alembic import command
from flask import Flask

from touchpoints import create_app
from touchpoints.config import TestConfig
from touchpoints.extensions import db
from touchpoints.people.demo import DEMO_PASSWORD, load_demo_company

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}
# Console messages that are the browser reporting an HTTP status we meant to send (401 on a wrong
# password, 400 on a form with errors), not a fault in the page.
EXPECTED_CONSOLE = re.compile(r"Failed to load resource: the server responded with a status of 4\d\d")


def _unavailable(reason: str) -> None:
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"Browser tests are required here (REQUIRE_BROWSER=1): {reason}")
    pytest.skip(reason)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Keep each phase's report on the test item so the page fixture knows whether the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium (never a browser Playwright would download)."""
    path = shutil.which("chromium")
    if path is None:
        _unavailable("no Chromium on PATH: install Debian's package (apt-get install chromium)")
    return path


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The app on a fresh SQLite file: schema from the migrations, then the demo company."""
    database = tmp_path_factory.mktemp("browser") / "touchpoints.sqlite"
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}", WTF_CSRF_ENABLED=True)
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        config.attributes["configure_logger"] = False  # leave pytest's log capture in place
        command.upgrade(config, "head")
        load_demo_company()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def live_server(live_app: Flask) -> Iterator[str]:
    """The base URL of the app served by a threaded werkzeug server on a free port."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator:
    """One headless Chromium for the session; each test gets its own context (cookies, storage)."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed: pip install -e '.[test]'")
    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(
                executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        except Error as error:
            _unavailable(f"Chromium at {chromium_path} does not start: {error}")
        yield chromium
        chromium.close()


def _artifact_name(nodeid: str, suffix: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / (re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("_") + suffix)


@pytest.fixture
def page(browser, live_server: str, request: pytest.FixtureRequest) -> Iterator:
    """A fresh page on the live server (relative URLs work); a screenshot is kept when the test fails.

    Console errors and uncaught script errors fail the test too: a Content-Security-Policy
    violation (an inline style or script slipped into a template) shows up only there.
    """
    context = browser.new_context(base_url=live_server, viewport=DESKTOP, locale="en-GB",
                                  timezone_id="Europe/London")
    context.set_default_timeout(10_000)
    new_page = context.new_page()
    problems: list[str] = []
    new_page.on("console", lambda message: problems.append(f"console: {message.text}")
                if message.type == "error" and not EXPECTED_CONSOLE.search(message.text) else None)
    new_page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    yield new_page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        new_page.screenshot(path=str(_artifact_name(request.node.nodeid, ".png")), full_page=True)
    context.close()
    if report is not None and report.passed and problems:
        pytest.fail("The page reported errors:\n" + "\n".join(problems))


@pytest.fixture
def sign_in_as() -> Callable:
    """sign_in_as(page, email, password=DEMO_PASSWORD): sign in through the real form."""
    from playwright.sync_api import expect

    def sign_in(page, email: str, password: str = DEMO_PASSWORD):
        page.goto("/login")
        page.get_by_label("Work email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        expect(page).not_to_have_url(re.compile(r"/login"))
        return page

    return sign_in


@pytest.fixture
def screenshot() -> Callable:
    """screenshot(page, name, full_page=True): keep a PNG in test-artifacts/ for people to look at."""

    def save(page, name: str, full_page: bool = True) -> Path:
        path = _artifact_name(name, ".png")
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return save
