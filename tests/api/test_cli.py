"""`flask tokens issue | revoke | list`."""
from __future__ import annotations

from sqlalchemy import select

from tests.factories import make_employee, make_hr
from touchpoints.api.models import ApiToken
from touchpoints.audit.models import AuditEntry
from touchpoints.extensions import db


def issue(runner, *args: str):
    return runner.invoke(args=["tokens", "issue", *args])


def test_issue_prints_the_secret_alone_on_stdout_and_it_works(runner, client):
    hr = make_hr()
    result = issue(runner, hr.email.upper(), "--name", "Bootstrap")
    assert result.exit_code == 0, result.output
    raw = result.stdout.strip()
    assert raw.startswith("tp_") and len(raw) == 46 and "\n" not in raw
    assert "not shown again" in result.stderr
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert me.status_code == 200 and me.json["data"]["employee"]["id"] == hr.id
    token = db.session.scalar(select(ApiToken))
    assert token.name == "Bootstrap" and token.created_by is None
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "api_token.issued"))


def test_issue_refuses_unknown_and_deactivated_people(runner):
    from touchpoints.db_types import utcnow

    assert "No one with a login" in issue(runner, "ghost@example.com").output
    gone = make_employee("Gone Person", deactivated_at=utcnow())
    result = issue(runner, gone.email)
    assert result.exit_code != 0 and "deactivated" in result.output
    assert db.session.scalar(select(ApiToken)) is None


def test_list_shows_tokens_but_never_their_secrets(runner):
    hr = make_hr()
    raw = issue(runner, hr.email, "--name", "Visible one").stdout.strip()
    listing = runner.invoke(args=["tokens", "list"])
    assert listing.exit_code == 0
    assert "Visible one" in listing.output and raw[:11] in listing.output
    assert raw not in listing.output and hr.email in listing.output


def test_revoke_by_prefix_or_id(runner, client):
    hr = make_hr()
    first = issue(runner, hr.email, "--name", "First").stdout.strip()
    second = issue(runner, hr.email, "--name", "Second").stdout.strip()
    result = runner.invoke(args=["tokens", "revoke", first[:11] + "…"])
    assert result.exit_code == 0 and "Revoked token" in result.output
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {first}"}).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {second}"}).status_code == 200
    second_id = db.session.scalar(select(ApiToken.id).where(ApiToken.name == "Second"))
    assert runner.invoke(args=["tokens", "revoke", str(second_id)]).exit_code == 0
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {second}"}).status_code == 401
    assert "already revoked" in runner.invoke(args=["tokens", "revoke", str(second_id)]).output
    assert "No active tokens" in runner.invoke(args=["tokens", "list"]).output
    assert "revoked" in runner.invoke(args=["tokens", "list", "--all"]).output


def test_revoke_refuses_an_ambiguous_or_unknown_reference(runner):
    hr = make_hr()
    issue(runner, hr.email)
    issue(runner, hr.email)
    ambiguous = runner.invoke(args=["tokens", "revoke", "tp_"])
    assert ambiguous.exit_code != 0 and "several tokens" in ambiguous.output
    unknown = runner.invoke(args=["tokens", "revoke", "tp_zzzzzzzz"])
    assert unknown.exit_code != 0 and "No token matches" in unknown.output
    assert db.session.scalar(select(ApiToken).where(ApiToken.revoked_at.is_not(None))) is None
