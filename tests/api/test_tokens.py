"""API tokens: issued on the settings page (shown once, stored hashed), revoked, refused."""
from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import make_employee, make_hr, make_manager
from touchpoints.api.models import ApiToken
from touchpoints.audit.models import AuditEntry
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.people.services import deactivate_employee

PAGE = "/settings/api-tokens/"
TOKEN_RE = re.compile(r'class="code-once"><code id="new-token">(tp_[A-Za-z0-9_-]{43})</code>')


def issue_on_page(client, name: str, acts_as: str) -> tuple[object, str | None]:
    response = client.post(PAGE, data={"name": name, "acts_as": acts_as})
    match = TOKEN_RE.search(response.get_data(as_text=True))
    return response, match.group(1) if match else None


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


@pytest.mark.parametrize("make", [make_manager, make_employee])
def test_only_hr_partners_reach_the_tokens_page(client, login, make):
    login(make())
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, data={"name": "x", "acts_as": "x@example.com"}).status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_issued_token_is_shown_once_and_stored_only_as_a_hash(client, login):
    hr = make_hr()
    login(hr)
    form = client.get(PAGE).get_data(as_text=True)
    assert f'value="{hr.email}"' in form  # acts as the issuing HR partner unless changed
    response, raw = issue_on_page(client, "HRIS sync", hr.email)
    assert response.status_code == 200 and raw is not None
    assert response.headers["Cache-Control"] == "no-store"  # the secret stays out of caches
    token = db.session.scalar(select(ApiToken))
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert token.token_prefix == raw[:11] and raw not in (token.token_hash, token.token_prefix)
    assert token.user.employee_id == hr.id and token.created_by.employee_id == hr.id
    later = client.get(PAGE).get_data(as_text=True)
    assert raw not in later and "code-once" not in later
    assert f"{token.token_prefix}…" in later and "HRIS sync" in later and "Never" in later
    assert client.get("/api/v1/me", headers=bearer(raw)).json["data"]["employee"]["id"] == hr.id
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "api_token.issued"))
    assert entry.subject_id == token.id and entry.actor.employee_id == hr.id
    assert raw not in str(entry.after) and raw not in entry.summary


def test_a_token_acts_with_the_chosen_persons_permissions(client, login):
    hr = make_hr()
    employee = make_employee("Emma Employee")
    make_employee("Someone Else")
    login(hr)
    _, raw = issue_on_page(client, "Emma's script", employee.email.upper())
    listed = client.get("/api/v1/employees", headers=bearer(raw)).json["data"]
    assert [p["full_name"] for p in listed] == ["Emma Employee"]


def test_issue_form_names_the_wrong_field_and_keeps_what_was_typed(client, login):
    login(make_hr())
    page = client.post(PAGE, data={"name": "Payroll export", "acts_as": "nobody@example.com"})
    text = page.get_data(as_text=True)
    assert "No one with a login has the email nobody@example.com" in text
    assert 'value="Payroll export"' in text and "code-once" not in text
    gone = make_employee("Gone Person", deactivated_at=utcnow())
    text = client.post(PAGE, data={"name": "Old", "acts_as": gone.email}).get_data(as_text=True)
    assert "Gone Person is deactivated" in text
    text = client.post(PAGE, data={"name": "", "acts_as": gone.email}).get_data(as_text=True)
    assert "Give the token a name" in text
    assert db.session.scalar(select(ApiToken)) is None


def test_revoking_asks_first_then_refuses_the_token(client, login):
    hr = make_hr()
    login(hr)
    _, raw = issue_on_page(client, "Old integration", hr.email)
    token = db.session.scalar(select(ApiToken))
    confirm = client.get(f"{PAGE}{token.id}/revoke")
    assert confirm.status_code == 200 and "Revoke the token" in confirm.get_data(as_text=True)
    assert client.get("/api/v1/me", headers=bearer(raw)).status_code == 200  # asking revokes nothing
    done = client.post(f"{PAGE}{token.id}/revoke", follow_redirects=True)
    assert "is revoked" in done.get_data(as_text=True)
    refused = client.get("/api/v1/me", headers=bearer(raw))
    assert refused.status_code == 401 and refused.json["error"]["status"] == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked_at is not None
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "api_token.revoked"))
    assert entry.subject_id == token.id and entry.actor.employee_id == hr.id
    again = client.post(f"{PAGE}{token.id}/revoke", follow_redirects=True)
    assert "already revoked" in again.get_data(as_text=True)
    assert client.get(f"{PAGE}424242/revoke").status_code == 404


def test_revoking_needs_a_post(client, login):
    login(make_hr())
    assert client.delete(f"{PAGE}1/revoke").status_code == 405


def test_token_of_a_deactivated_person_is_refused(client, token_for):
    person = make_employee("Leaver")
    raw = token_for(person)
    assert client.get("/api/v1/me", headers=bearer(raw)).status_code == 200
    deactivate_employee(person, actor_id=None)
    db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(raw)).status_code == 401


@pytest.mark.parametrize("header", [
    None, "Bearer", "Bearer tp_made-up-token", "Basic dXNlcjpwYXNz", "tp_no-scheme",
])
def test_missing_or_unknown_tokens_are_refused(client, header):
    make_employee()
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/employees", headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["title"] == "Unauthorized"


def test_last_used_at_is_recorded_without_a_write_per_call(client, token_for):
    raw = token_for(make_employee())
    token = db.session.scalar(select(ApiToken))
    assert token.last_used_at is None
    client.get("/api/v1/me", headers=bearer(raw))
    db.session.expire_all()
    first_use = db.session.get(ApiToken, token.id).last_used_at
    assert first_use is not None and utcnow() - first_use < timedelta(minutes=1)
    client.get("/api/v1/me", headers=bearer(raw))
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).last_used_at == first_use
    # An hour later the next call moves it on.
    db.session.get(ApiToken, token.id).last_used_at = first_use - timedelta(hours=1)
    db.session.commit()
    client.get("/api/v1/me", headers=bearer(raw))
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).last_used_at > first_use - timedelta(minutes=1)


def test_tokens_page_costs_the_same_queries_for_2_or_12_tokens(client, login, token_for):
    from tests.querycount import count_queries

    hr = make_hr()
    login(hr)
    people = [make_employee() for _ in range(12)]

    def page_queries() -> int:
        with count_queries() as log:
            assert client.get(PAGE).status_code == 200
        return log.count

    for person in people[:2]:
        token_for(person)
    few = page_queries()
    for person in people[2:]:
        token_for(person)
    assert page_queries() == few


def test_hr_partners_find_the_tokens_page_in_the_menu(client, login):
    login(make_hr())
    assert 'href="/settings/api-tokens/"' in client.get("/").get_data(as_text=True)


def test_others_do_not_see_the_tokens_menu_item(client, login):
    login(make_manager())
    assert "/settings/api-tokens/" not in client.get("/").get_data(as_text=True)
