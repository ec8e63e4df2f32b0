"""The employees, teams and me endpoints: shapes, filters, pages, permissions, validation."""
from __future__ import annotations

from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from tests.factories import make_employee, make_hr, make_manager, make_team
from tests.querycount import count_queries
from touchpoints.audit.models import AuditEntry
from touchpoints.auth.models import User
from touchpoints.extensions import db
from touchpoints.people.models import Employee, LifecycleStatus, Team


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


VALID_NEW = {"email": "new.person@example.com", "full_name": "New Person",
             "timezone": "Europe/Berlin"}


def test_employee_json_has_the_documented_fields(api_as):
    hr = make_hr()
    team = make_team("Platform")
    boss = make_manager("Big Boss", team=team)
    person = make_employee("Ada Lovelace", manager=boss, team=team, job_title="Engineer",
                           hire_date=date(2023, 12, 1), start_date=date(2024, 1, 8),
                           country_code="DE", subdivision="BE", timezone="Europe/Berlin")
    body = api_as(hr).get(f"/api/v1/employees/{person.id}").json["data"]
    assert body["email"] == person.email and body["full_name"] == "Ada Lovelace"
    assert body["team"] == {"id": team.id, "name": "Platform"}
    assert body["manager"] == {"id": boss.id, "email": boss.email, "full_name": "Big Boss"}
    assert body["work_start"] == "09:00" and body["work_end"] == "17:30"
    assert body["hire_date"] == "2023-12-01" and body["exit_date"] is None
    assert body["status"] == "active" and body["preferred_channel"] == "in_app"
    assert body["deactivated"] is False
    assert body["created_at"].endswith("Z")
    assert set(body) == {
        "id", "email", "full_name", "job_title", "team", "manager", "location", "country_code",
        "subdivision", "timezone", "work_start", "work_end", "work_days", "hire_date",
        "start_date", "exit_date", "status", "preferred_channel", "deactivated", "created_at",
        "updated_at",
    }


def test_list_is_paginated_with_links_that_keep_the_filters(api_as):
    hr = make_hr("Zed HR")
    team = make_team("Sales")
    for n in range(5):
        make_employee(f"Seller {n}", team=team)
    api = api_as(hr)
    first = api.get("/api/v1/employees?team=sales&per_page=2").json
    assert [p["full_name"] for p in first["data"]] == ["Seller 0", "Seller 1"]
    assert first["meta"] == {"page": 1, "per_page": 2, "total": 5}
    assert first["links"]["prev"] is None
    assert query_of(first["links"]["next"]) == {"team": ["sales"], "per_page": ["2"], "page": ["2"]}
    second = api.get(first["links"]["next"]).json
    assert [p["full_name"] for p in second["data"]] == ["Seller 2", "Seller 3"]
    last = api.get(second["links"]["next"]).json
    assert [p["full_name"] for p in last["data"]] == ["Seller 4"]
    assert last["links"]["next"] is None and query_of(last["links"]["prev"])["page"] == ["2"]
    beyond = api.get("/api/v1/employees?team=sales&per_page=2&page=9").json
    assert beyond["data"] == [] and query_of(beyond["links"]["prev"])["page"] == ["3"]


def test_per_page_is_capped_at_200_and_bad_numbers_are_named(api_as):
    api = api_as(make_hr())
    assert api.get("/api/v1/employees?per_page=5000").json["meta"]["per_page"] == 200
    response = api.get("/api/v1/employees?page=two")
    assert response.status_code == 400
    assert set(response.json["error"]["fields"]) == {"page"}
    assert api.get("/api/v1/employees?per_page=0").json["error"]["fields"] == {"per_page": "Use 1 or more."}


def test_filters_by_status_search_email_and_team_id(api_as):
    hr = make_hr()
    team = make_team("Design")
    make_employee("Olivia Onboard", status=LifecycleStatus.ONBOARDING, team=team)
    make_employee("Pete Preboard", status=LifecycleStatus.PRE_BOARDING, email="Pete@Example.com")
    make_employee("Andy Active")
    api = api_as(hr)

    def names(query: str) -> list[str]:
        response = api.get(f"/api/v1/employees?{query}")
        assert response.status_code == 200, response.json
        return [p["full_name"] for p in response.json["data"]]

    assert names("status=onboarding,pre-boarding") == ["Olivia Onboard", "Pete Preboard"]
    assert names("q=ANDY") == ["Andy Active"]
    assert names("email=pete@EXAMPLE.com") == ["Pete Preboard"]
    assert names(f"team_id={team.id}") == ["Olivia Onboard"]
    assert names("q=100%25") == []  # % is literal text, not a wildcard
    bad = api.get("/api/v1/employees?status=retired")
    assert bad.status_code == 400 and "retired" in bad.json["error"]["fields"]["status"]


def test_deactivated_people_are_left_out_unless_asked_for(api_as):
    from touchpoints.db_types import utcnow

    hr = make_hr()
    make_employee("Gone Person", deactivated_at=utcnow())
    api = api_as(hr)
    assert "Gone Person" not in [p["full_name"] for p in api.get("/api/v1/employees").json["data"]]
    gone = api.get("/api/v1/employees?deactivated=true").json["data"]
    assert [p["full_name"] for p in gone] == ["Gone Person"] and gone[0]["deactivated"] is True
    assert api.get("/api/v1/employees?deactivated=any").json["meta"]["total"] == 2


def test_listing_costs_the_same_number_of_queries_for_3_or_30_people(app, api_as):
    hr = make_hr()
    boss = make_manager()
    api = api_as(hr)
    api.get("/api/v1/me")  # the token's first use writes last_used_at; not what is measured

    def queries_for_list() -> int:
        with count_queries() as log:
            assert api.get("/api/v1/employees?per_page=200").status_code == 200
        return log.count

    for _ in range(3):
        make_employee(team=make_team(), manager=boss)
    few = queries_for_list()
    for _ in range(27):
        make_employee(team=make_team(), manager=boss)
    assert queries_for_list() == few <= 6


# -- who sees whom ---------------------------------------------------------------------------

@pytest.fixture
def org():
    """A small company: HR, a manager with a lead under them, the lead's report, an outsider."""
    hr = make_hr("Hana HR")
    boss = make_manager("Boss Manager")
    lead = make_manager("Lead Manager", manager=boss)
    report = make_employee("Deep Report", manager=lead)
    outsider = make_employee("Out Sider")
    return {"hr": hr, "boss": boss, "lead": lead, "report": report, "outsider": outsider}


@pytest.mark.parametrize(("who", "sees"), [
    ("hr", {"hr", "boss", "lead", "report", "outsider"}),
    ("boss", {"boss", "lead", "report"}),
    ("lead", {"lead", "report"}),
    ("report", {"report"}),
])
def test_each_token_sees_exactly_what_its_person_sees_on_the_pages(api_as, org, who, sees):
    api = api_as(org[who])
    listed = {p["id"] for p in api.get("/api/v1/employees").json["data"]}
    assert listed == {org[name].id for name in sees}
    for name, person in org.items():
        response = api.get(f"/api/v1/employees/{person.id}")
        if name in sees:
            assert response.status_code == 200 and response.json["data"]["id"] == person.id
        else:
            # The same answer as for an id that does not exist: existence does not leak.
            assert response.status_code == 404
            assert response.json == api.get("/api/v1/employees/999999").json


@pytest.mark.parametrize("who", ["boss", "report"])
def test_only_hr_tokens_may_create_or_change_people(api_as, org, who):
    api = api_as(org[who])
    created = api.post("/api/v1/employees", json=VALID_NEW)
    assert created.status_code == 403 and created.json["error"]["status"] == 403
    changed = api.patch(f"/api/v1/employees/{org['report'].id}", json={"job_title": "Boss"})
    assert changed.status_code == 403
    assert db.session.get(Employee, org["report"].id).job_title == ""


def test_me_answers_for_the_tokens_person(api_as, org):
    body = api_as(org["lead"]).get("/api/v1/me").json["data"]
    assert body["employee"]["full_name"] == "Lead Manager"
    assert body["roles"] == ["employee", "manager"]
    assert body["token"]["token_prefix"].startswith("tp_")


def test_teams_are_listed_by_name_with_their_hr_partner(api_as):
    hr = make_hr()
    make_team("Zeta")
    make_team("Alpha", hr_partner=hr)
    body = api_as(make_employee()).get("/api/v1/teams").json
    assert [t["name"] for t in body["data"]] == ["Alpha", "Zeta"]
    assert body["data"][0]["hr_partner"]["email"] == hr.email
    assert body["meta"]["total"] == 2


# -- creating --------------------------------------------------------------------------------

def test_hr_creates_an_employee_with_a_login_and_an_audit_entry(api_as):
    hr = make_hr()
    boss = make_manager()
    response = api_as(hr).post("/api/v1/employees", json={
        **VALID_NEW, "team": "Brand New Team", "manager_email": boss.email.upper(),
        "start_date": "2025-03-03", "work_start": "08:30", "work_end": "16:30",
        "status": "pre_boarding", "country_code": "de",
    })
    assert response.status_code == 201, response.json
    data = response.json["data"]
    assert response.headers["Location"].endswith(f"/api/v1/employees/{data['id']}")
    assert data["team"]["name"] == "Brand New Team" and data["manager"]["id"] == boss.id
    assert data["work_start"] == "08:30" and data["country_code"] == "DE"
    assert db.session.scalar(select(User).where(User.employee_id == data["id"])) is not None
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "employee.created"))
    assert entry.subject_id == data["id"] and entry.actor.employee_id == hr.id


def test_create_names_every_bad_field(api_as):
    response = api_as(make_hr()).post("/api/v1/employees", json={
        "email": "not-an-email", "timezone": "Mars/Olympus", "work_days": 12345,
        "manager_id": True, "start_date": "2025-02-30", "favourite_colour": "teal",
        "id": 7,
    })
    assert response.status_code == 422
    fields = response.json["error"]["fields"]
    assert set(fields) == {"email", "full_name", "timezone", "work_days", "manager_id",
                           "start_date", "favourite_colour", "id"}
    assert fields["favourite_colour"] == "Unknown field."
    assert fields["id"] == "This field is read-only."
    assert "Mars/Olympus" in fields["timezone"]
    assert fields["work_days"] == "Send a string."
    assert db.session.scalar(select(Employee).where(Employee.full_name == "New Person")) is None


def test_a_valid_body_with_an_unknown_field_creates_nothing(api_as):
    response = api_as(make_hr()).post("/api/v1/employees",
                                      json={**VALID_NEW, "team": "Ghost Team", "salary": 1})
    assert response.status_code == 422
    assert response.json["error"]["fields"] == {"salary": "Unknown field."}
    assert db.session.scalar(select(Employee).where(Employee.email == VALID_NEW["email"])) is None
    assert db.session.scalar(select(Team).where(Team.name == "Ghost Team")) is None


def test_duplicate_email_is_a_conflict_whatever_its_case(api_as):
    hr = make_hr()
    make_employee("First Holder", email="taken@example.com")
    response = api_as(hr).post("/api/v1/employees",
                               json={**VALID_NEW, "email": "TAKEN@Example.COM"})
    assert response.status_code == 409
    assert "First Holder" in response.json["error"]["fields"]["email"]


def test_duplicate_email_with_other_mistakes_is_reported_with_them(api_as):
    make_employee("First Holder", email="taken@example.com")
    response = api_as(make_hr()).post("/api/v1/employees", json={
        **VALID_NEW, "email": "taken@example.com", "timezone": "Nowhere/Land"})
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"email", "timezone"}


def test_team_and_manager_each_take_one_form(api_as):
    response = api_as(make_hr()).post("/api/v1/employees", json={
        **VALID_NEW, "team": "A", "team_id": 1, "manager_email": "x@example.com", "manager_id": 2})
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"team", "team_id", "manager_email", "manager_id"}


@pytest.mark.parametrize(("headers", "body", "status"), [
    ({"Content-Type": "text/plain"}, "email=x", 415),
    ({}, None, 415),
    ({"Content-Type": "application/json"}, "{not json", 400),
    ({"Content-Type": "application/json"}, "", 400),
    ({"Content-Type": "application/json"}, "[1, 2]", 422),
])
def test_body_must_be_a_json_object(client, token_for, headers, body, status):
    token = token_for(make_hr())
    response = client.post("/api/v1/employees", data=body,
                           headers={"Authorization": f"Bearer {token}", **headers})
    assert response.status_code == status
    assert response.json["error"]["status"] == status


# -- changing --------------------------------------------------------------------------------

def test_patch_changes_only_what_is_sent_and_is_audited(api_as):
    hr = make_hr()
    person = make_employee("Pat Patch", job_title="Analyst", location="Leeds")
    response = api_as(hr).patch(f"/api/v1/employees/{person.id}",
                                json={"job_title": "Senior Analyst", "exit_date": "2030-01-31"})
    assert response.status_code == 200, response.json
    assert response.json["data"]["job_title"] == "Senior Analyst"
    assert response.json["data"]["location"] == "Leeds"
    assert response.json["data"]["exit_date"] == "2030-01-31"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "employee.updated"))
    assert entry.before == {"job_title": "Analyst", "exit_date": None}


def test_patch_refuses_a_reporting_loop_and_names_the_field(api_as):
    boss = make_manager("Top Boss")
    report = make_employee("Their Report", manager=boss)
    response = api_as(make_hr()).patch(f"/api/v1/employees/{boss.id}",
                                       json={"manager_id": report.id})
    assert response.status_code == 422
    assert "loop" in response.json["error"]["fields"]["manager_id"]
    assert db.session.get(Employee, boss.id).manager_id is None


def test_patch_to_someone_elses_email_is_a_conflict(api_as):
    make_employee("Holder", email="holder@example.com")
    person = make_employee("Mover")
    api = api_as(make_hr())
    response = api.patch(f"/api/v1/employees/{person.id}", json={"email": "HOLDER@example.com"})
    assert response.status_code == 409
    own_case = api.patch(f"/api/v1/employees/{person.id}", json={"email": person.email.upper()})
    assert own_case.status_code == 200


def test_patch_deactivates_and_reactivates(api_as, token_for):
    hr = make_hr()
    person = make_employee("Leaving Soon")
    their_token = token_for(person)
    api = api_as(hr)
    response = api.patch(f"/api/v1/employees/{person.id}", json={"deactivated": True})
    assert response.status_code == 200 and response.json["data"]["deactivated"] is True
    their_call = api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {their_token}"})
    assert their_call.status_code == 401
    assert api.patch(f"/api/v1/employees/{person.id}",
                     json={"deactivated": False}).json["data"]["deactivated"] is False
    refused = api.patch(f"/api/v1/employees/{hr.id}", json={"deactivated": True})
    assert refused.status_code == 422 and "deactivated" in refused.json["error"]["fields"]


def test_patch_of_a_missing_employee_is_404_and_read_only_fields_are_named(api_as):
    hr = make_hr()
    api = api_as(hr)
    assert api.patch("/api/v1/employees/424242", json={"job_title": "x"}).status_code == 404
    response = api.patch(f"/api/v1/employees/{hr.id}",
                         json={"created_at": "2020-01-01T00:00:00Z", "manager": {"id": 1}})
    assert response.status_code == 422
    assert response.json["error"]["fields"]["manager"].startswith("Set the manager with")


def test_api_answers_are_never_cached(api_as):
    response = api_as(make_hr()).get("/api/v1/employees")
    assert response.headers["Cache-Control"] == "no-store"


def test_unknown_paths_and_methods_answer_in_the_error_shape(api_as):
    api = api_as(make_hr())
    missing = api.get("/api/v1/no-such-thing")
    assert missing.status_code == 404 and missing.json["error"]["status"] == 404
    wrong = api.client.delete("/api/v1/employees/1", headers=api.headers)
    assert wrong.status_code == 405 and wrong.json["error"]["status"] == 405
