"""Security headers, cookie flags, templates that fit the CSP, and production's refusal to start unsafe."""
from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from tests.conftest import _empty_tables
from tests.factories import DEFAULT_PASSWORD, make_employee
from touchpoints import create_app
from touchpoints.auth.models import User
from touchpoints.config import DEV_SECRET_KEY, Config, ProductionConfig
from touchpoints.extensions import db

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def csp_directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


def session_set_cookie(response) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert len(cookies) == 1, response.headers.getlist("Set-Cookie")
    return cookies[0]


def cookie_flags(header: str) -> set[str]:
    return {part.strip().split("=", 1)[0].lower() for part in header.split(";")[1:]}


def test_content_security_policy_forbids_inline_code_and_framing(client):
    csp = csp_directives(client.get("/login"))
    assert csp["script-src"] == "'self'"
    assert csp["style-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["object-src"] == "'none'"
    assert csp["default-src"] == "'self'"
    assert csp["form-action"] == "'self'"
    assert "unsafe-inline" not in client.get("/login").headers["Content-Security-Policy"]


def test_other_protective_headers(client):
    headers = client.get("/login").headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in headers  # only production is known to be on HTTPS


def test_error_pages_carry_the_headers_too(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_signed_in_pages_are_never_stored(client, login):
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")
    person = make_employee("Private Person")
    login(person)
    for url in ("/", f"/people/{person.id}", "/people/me/preferences", "/account/password"):
        assert client.get(url).headers["Cache-Control"] == "no-store", url
    # Static files stay cacheable: they hold nothing personal.
    static = client.get("/static/css/app.css")
    assert "no-store" not in static.headers.get("Cache-Control", "")
    static.close()


@pytest.mark.parametrize("template", sorted(TEMPLATES.rglob("*.html")),
                         ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_templates_have_no_inline_script_or_style(template):
    """The CSP would silently block these in the browser, so they must never be written."""
    text = template.read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), "inline <script> block"
    assert not re.search(r"<style\b", text), "inline <style> block"
    assert not re.search(r"\sstyle\s*=", text), "style= attribute"
    assert not re.search(r"\son[a-z]+\s*=", text), "inline event handler"
    assert "javascript:" not in text.lower()
    assert not re.search(r"(src|href)=\"(https?:)?//", text), "external resource (no CDNs)"


def test_session_cookie_is_httponly_and_lax(client, login):
    response = login(make_employee("Cookie Person"))
    header = session_set_cookie(response)
    flags = cookie_flags(header)
    assert "httponly" in flags
    assert "samesite=lax" in header.lower()
    assert "secure" not in flags  # development runs on plain http://127.0.0.1
    assert not any(c.startswith("remember_token=") for c in response.headers.getlist("Set-Cookie"))


# --- production -----------------------------------------------------------------------------

@pytest.mark.parametrize("key", [None, "", DEV_SECRET_KEY, "x" * 31],
                         ids=["missing", "empty", "default", "short"])
def test_production_refuses_to_start_without_a_real_secret_key(key):
    with pytest.raises(RuntimeError, match="SECRET_KEY must be set"):
        create_app(ProductionConfig, SECRET_KEY=key, SQLALCHEMY_DATABASE_URI="sqlite://")


def test_development_starts_with_the_default_key():
    app = create_app(Config, SECRET_KEY=DEV_SECRET_KEY, SQLALCHEMY_DATABASE_URI="sqlite://")
    assert app.config["SECRET_KEY"] == DEV_SECRET_KEY


@pytest.fixture
def production_app(database_url: str) -> Iterator[Flask]:
    app = create_app(ProductionConfig, SQLALCHEMY_DATABASE_URI=database_url,
                     SECRET_KEY=secrets.token_urlsafe(48), WTF_CSRF_ENABLED=False)
    with app.app_context():
        yield app
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


def test_production_cookie_is_also_secure(production_app):
    person = make_employee("Secure Person")
    client = production_app.test_client()
    response = client.post("/login", data={"email": person.email, "password": DEFAULT_PASSWORD},
                           base_url="https://localhost")
    assert response.status_code == 302
    header = session_set_cookie(response)
    assert {"secure", "httponly"} <= cookie_flags(header)
    assert "samesite=lax" in header.lower()


def test_production_sends_hsts(production_app):
    response = production_app.test_client().get("/login", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_production_stores_full_cost_scrypt_hashes(production_app):
    person = make_employee("Hash Person", password="the production grade password")
    client = production_app.test_client()
    client.post("/login", data={"email": person.email, "password": "the production grade password"},
                base_url="https://localhost")
    response = client.post("/account/password", base_url="https://localhost", data={
        "current_password": "the production grade password",
        "new_password": "an even better passphrase", "confirm_password": "an even better passphrase",
    })
    assert response.status_code == 302
    db.session.expire_all()
    stored = db.session.scalar(select(User.password_hash).where(User.employee_id == person.id))
    # The production scrypt cost (OWASP's N=2^14, r=8, p=5); the cheap test parameters never reach it.
    assert stored.startswith("scrypt:16384:8:5$")
