"""The health check and security headers."""
import pytest

from touchpoints import create_app
from touchpoints.config import TestConfig
from touchpoints.extensions import db


def test_healthz_reports_database_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_pages_carry_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("unreachable", [
    "postgresql+psycopg://nobody@127.0.0.1:1/x?connect_timeout=2",
    "sqlite:////nonexistent-directory/for/touchpoints.sqlite",
])
def test_healthz_answers_503_when_the_database_is_unreachable(unreachable):
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=unreachable)
    client = app.test_client()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "error", "database": "unreachable"}
    # It keeps answering (no poisoned session or pool) while the database stays away.
    assert client.get("/healthz").status_code == 503
    with app.app_context():
        db.engine.dispose()


def test_healthz_needs_no_sign_in_and_sets_no_cookie(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
