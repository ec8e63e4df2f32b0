"""The permission matrix: every route declares an access rule, and each rule holds for every role.

Nothing here names a route. The cases come from the app's own url_map, so a capability that adds
routes is checked as soon as it registers them.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.routing import Rule as UrlRule
from werkzeug.routing.converters import AnyConverter, FloatConverter, IntegerConverter, UUIDConverter

from tests.conftest import _empty_tables
from tests.factories import DEFAULT_PASSWORD, make_employee, make_hr, make_manager, make_team
from touchpoints import create_app
from touchpoints.auth.access import PASSWORD_CHANGE_EXEMPT, Rule
from touchpoints.config import TestConfig
from touchpoints.extensions import db

SKIPPED_METHODS = {"HEAD", "OPTIONS"}
SESSION_RULES = {Rule.SIGNED_IN, Rule.MANAGER, Rule.HR}


def is_static(endpoint: str) -> bool:
    return endpoint == "static" or endpoint.endswith(".static")


def undeclared_endpoints(app: Flask) -> list[str]:
    """Endpoints whose view has no access rule (Flask's static files excepted)."""
    return sorted({
        rule.endpoint for rule in app.url_map.iter_rules()
        if not is_static(rule.endpoint) and not hasattr(app.view_functions[rule.endpoint], "access_rule")
    })


def route_cases(app: Flask) -> list:
    """One case per (route, method): endpoint, rule text, method and declared access rule."""
    cases = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if is_static(rule.endpoint):
            continue
        access = getattr(app.view_functions[rule.endpoint], "access_rule", None)
        for method in sorted((rule.methods or set()) - SKIPPED_METHODS):
            cases.append(pytest.param(rule.endpoint, rule.rule, method, access,
                                      id=f"{method} {rule.rule}"))
    return cases


# Collected from an app built once at import time, without a database.
ROUTES_APP = create_app(TestConfig, SQLALCHEMY_DATABASE_URI="sqlite://")
CASES = route_cases(ROUTES_APP)
ARGS = ("endpoint", "rule_text", "method", "access")


def cases_where(*rules: Rule) -> list:
    return [case for case in CASES if case.values[3] in rules]


def existing_id(argument: str) -> int:
    """An id that exists in the table an argument like `team_id` points to, else 1.

    The access decorators answer before any lookup, so the id matters only for routes that look
    something up first; those would then be caught answering 404 instead of refusing.
    """
    stem = argument.removesuffix("_id")
    plurals = [stem + "s", stem + "es", stem[:-1] + "ies", stem]
    tables = db.metadata.tables
    for plural in plurals:
        matches = [t for name, t in tables.items() if name == plural or name.endswith("_" + plural)]
        for table in matches:
            if "id" in table.c:
                found = db.session.scalar(select(func.min(table.c.id)))
                if found is not None:
                    return found
    return 1


def sample_value(argument: str, converter) -> object:
    if isinstance(converter, IntegerConverter):
        return existing_id(argument)
    if isinstance(converter, FloatConverter):
        return 1.0
    if isinstance(converter, UUIDConverter):
        return uuid.UUID(int=1)
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)[0]
    return "sample"


def url_for_case(app: Flask, endpoint: str, rule_text: str) -> str:
    rule: UrlRule = next(r for r in app.url_map.iter_rules(endpoint) if r.rule == rule_text)
    values = {name: sample_value(name, conv) for name, conv in rule._converters.items()}
    built = rule.build(values)
    assert built is not None, f"could not build {rule_text} from {values}"
    return built[1]


@dataclass
class Matrix:
    """One app and company per backend for the whole module, with a browser per role.

    Every request here is refused (or is a plain GET), so nothing changes between tests, and
    building the company once keeps hundreds of cases fast. Requests run outside the app
    context, as in production, so each gets a fresh `g`.
    """

    app: Flask
    emails: dict[str, str]
    browsers: dict[str, FlaskClient] = field(default_factory=dict)

    def browser(self, role: str) -> FlaskClient:
        if role not in self.browsers:
            browser = self.app.test_client()
            response = browser.post("/login", data={"email": self.emails[role],
                                                    "password": DEFAULT_PASSWORD})
            assert response.status_code == 302, f"the {role} could not sign in"
            self.browsers[role] = browser
        return self.browsers[role]

    def request(self, browser: FlaskClient, endpoint: str, rule_text: str, method: str):
        with self.app.app_context():
            url = url_for_case(self.app, endpoint, rule_text)
        return browser.open(url, method=method)


@pytest.fixture(scope="module")
def matrix(database_url: str) -> Iterator[Matrix]:
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url, WTF_CSRF_ENABLED=False)
    with app.app_context():
        team = make_team("Matrix Team")
        manager = make_manager("Matrix Manager", team=team)
        people = {
            "hr": make_hr("Matrix Hr", team=team),
            "manager": manager,
            "employee": make_employee("Matrix Employee", manager=manager, team=team),
            "owes_change": make_hr("Matrix Newcomer", must_change_password=True),
        }
        emails = {role: person.email for role, person in people.items()}
    yield Matrix(app, emails)
    with app.app_context():
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


def location_path(response) -> str:
    return urlsplit(response.headers.get("Location", "")).path


# --- every route declares a rule -------------------------------------------------------------

def test_every_route_declares_an_access_rule():
    missing = undeclared_endpoints(ROUTES_APP)
    assert not missing, (
        f"routes without an access rule: {missing}. Put @public, @signed_in, @managers, @hr_only "
        "or @api_token_required directly below the route decorator."
    )


def test_an_undeclared_route_would_be_caught():
    bare = create_app(TestConfig, SQLALCHEMY_DATABASE_URI="sqlite://")
    bare.add_url_rule("/bare", "bare", lambda: "no rule here")
    assert "bare" in undeclared_endpoints(bare)
    assert "auth.login" not in undeclared_endpoints(bare)


def test_declared_rules_are_known_ones():
    for view in ROUTES_APP.view_functions.values():
        if hasattr(view, "access_rule"):
            assert view.access_rule in set(Rule), view


def test_api_routes_never_rely_on_the_session_cookie():
    """The API blueprint is exempt from CSRF, so a cookie must never be what lets a request in."""
    for rule in ROUTES_APP.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            access = getattr(ROUTES_APP.view_functions[rule.endpoint], "access_rule", None)
            assert access in (Rule.API_TOKEN, Rule.PUBLIC), f"{rule.rule} is {access}"


# --- the matrix ------------------------------------------------------------------------------

@pytest.mark.parametrize(ARGS, cases_where(*SESSION_RULES, Rule.API_TOKEN))
def test_anonymous_visitors_are_sent_to_sign_in(matrix, endpoint, rule_text, method, access):
    response = matrix.request(matrix.app.test_client(), endpoint, rule_text, method)
    if rule_text.startswith("/api/") or access is Rule.API_TOKEN:
        assert response.status_code == 401 and response.is_json
    else:
        assert response.status_code == 302 and location_path(response) == "/login"


@pytest.mark.parametrize(ARGS, cases_where(Rule.MANAGER, Rule.HR))
def test_employees_are_refused_manager_and_hr_routes(matrix, endpoint, rule_text, method, access):
    response = matrix.request(matrix.browser("employee"), endpoint, rule_text, method)
    assert response.status_code == 403


@pytest.mark.parametrize(ARGS, cases_where(Rule.HR))
def test_managers_are_refused_hr_routes(matrix, endpoint, rule_text, method, access):
    response = matrix.request(matrix.browser("manager"), endpoint, rule_text, method)
    assert response.status_code == 403


@pytest.mark.parametrize(ARGS, cases_where(Rule.API_TOKEN))
def test_a_session_cookie_does_not_open_the_api(matrix, endpoint, rule_text, method, access):
    response = matrix.request(matrix.browser("hr"), endpoint, rule_text, method)
    assert response.status_code == 401 and response.is_json


@pytest.mark.parametrize(ARGS, [c for c in cases_where(*SESSION_RULES)
                                if c.values[0] not in PASSWORD_CHANGE_EXEMPT])
def test_an_owed_password_change_comes_first(matrix, endpoint, rule_text, method, access):
    response = matrix.request(matrix.browser("owes_change"), endpoint, rule_text, method)
    assert response.status_code == 302 and location_path(response) == "/account/password"


def _plain_pages(*rules: Rule) -> list:
    return [c for c in cases_where(*rules) if c.values[2] == "GET" and "<" not in c.values[1]]


@pytest.mark.parametrize(ARGS, _plain_pages(*SESSION_RULES))
def test_hr_partners_reach_every_plain_page(matrix, endpoint, rule_text, method, access):
    response = matrix.request(matrix.browser("hr"), endpoint, rule_text, method)
    assert response.status_code < 400 or response.status_code == 404, response.status_code


@pytest.mark.parametrize(ARGS, _plain_pages(Rule.SIGNED_IN, Rule.MANAGER))
def test_managers_reach_their_plain_pages(matrix, endpoint, rule_text, method, access):
    response = matrix.request(matrix.browser("manager"), endpoint, rule_text, method)
    assert response.status_code < 400, response.status_code
