"""The programmes over the API: the same rules as the pages, the API's error shape, the OpenAPI document."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.programmes.conftest import user_of
from touchpoints.extensions import db
from touchpoints.programmes.models import MatchStatus, ProgrammeMatch
from touchpoints.programmes.services import create_match


@pytest.fixture
def api_as(client):
    """api_as(employee) -> a client whose calls carry a fresh token acting as that employee."""
    from tests.api.conftest import ApiClient
    from touchpoints.api.services import issue_token, user_for_email

    def make(employee) -> ApiClient:
        issued = issue_token(user_for_email(employee.email), "Programmes tests", created_by=None)
        db.session.commit()
        return ApiClient(client, issued.raw)

    return make


def test_programmes_are_listed_with_figures_for_hr_only(api_as, company):
    hr = api_as(company.hr).get("/api/v1/programmes").get_json()["data"]
    assert [p["key"] for p in hr] == ["new-hire-buddy", "mentoring"]
    assert hr[0]["figures"]["active_pairs"] == 0 and hr[0]["load_cap"] == 2
    staff = api_as(company.teammate).get(f"/api/v1/programmes/{company.mentoring.id}").get_json()["data"]
    assert staff["kind"] == "mentor" and staff["figures"] is None
    assert api_as(company.hr).get("/api/v1/programmes/999").status_code == 404


def test_suggestions_come_with_reasons_and_follow_who_may_match(api_as, company):
    url = f"/api/v1/programmes/{company.buddy.id}/suggestions"
    answer = api_as(company.hr).get(url, query_string={"employee_id": company.newcomer.id})
    assert answer.status_code == 200
    first = answer.get_json()["data"][0]
    assert first["employee"]["full_name"] == "Dan Designer"
    assert "other team (Design)" in first["reasons"] and first["load"] == 0
    assert api_as(company.hr).get(url).status_code == 400
    manager = api_as(company.manager)
    assert manager.get(url, query_string={"employee_id": company.newcomer.id}).status_code == 200
    # Someone else's report: as if they did not exist. A mentor: HR's to match.
    assert manager.get(url, query_string={"employee_id": company.other_report.id}).status_code == 404
    mentoring = f"/api/v1/programmes/{company.mentoring.id}/suggestions"
    refused = manager.get(mentoring, query_string={"employee_id": company.newcomer.id})
    assert refused.status_code == 403 and "HR partner" in refused.get_json()["error"]["detail"]
    own = api_as(company.newcomer).get(url, query_string={"employee_id": company.newcomer.id})
    assert own.status_code == 403


def test_creating_a_pair_and_the_cap_refusal_naming_the_field(api_as, company):
    hr = api_as(company.hr)
    url = f"/api/v1/programmes/{company.buddy.id}/matches"
    made = hr.post(url, json={"employee_id": company.teammate.id, "partner_id": company.designer.id})
    assert made.status_code == 201
    body = made.get_json()["data"]
    assert body["partner"]["full_name"] == "Dan Designer" and body["status"] == "active"
    assert body["enrolment_id"] is not None
    second = hr.post(url, json={"employee_id": company.junior.id, "partner_id": company.designer.id})
    assert second.status_code == 201
    full = hr.post(url, json={"employee_id": company.newcomer.id, "partner_id": company.designer.id})
    assert full.status_code == 422
    assert "already buddies 2 people" in full.get_json()["error"]["fields"]["partner_id"]
    wrong = hr.post(url, json={"employee_id": "Eli", "partner_id": company.designer.id, "colour": "red"})
    assert wrong.status_code == 422 and set(wrong.get_json()["error"]["fields"]) == {"colour"}
    plain = hr.client.post(url, data="x", headers={**hr.headers, "Content-Type": "text/plain"})
    assert plain.status_code == 415


def test_a_manager_creates_a_buddy_pair_for_a_report_but_no_mentor_pair(api_as, company):
    manager = api_as(company.manager)
    ok = manager.post(f"/api/v1/programmes/{company.buddy.id}/matches",
                      json={"employee_id": company.newcomer.id, "partner_id": company.designer.id})
    assert ok.status_code == 201
    refused = manager.post(f"/api/v1/programmes/{company.mentoring.id}/matches",
                           json={"employee_id": company.teammate.id, "partner_id": company.designer.id})
    assert refused.status_code == 403
    assert db.session.scalar(select(ProgrammeMatch)
                             .where(ProgrammeMatch.employee_id == company.teammate.id)) is None


def test_ending_a_pair_over_the_api_and_reading_ones_own(api_as, company):
    hr = user_of(company.hr)
    pair = create_match(company.buddy, company.newcomer, company.designer, actor=hr)
    other = create_match(company.mentoring, company.other_report, company.new_yorker, actor=hr)
    db.session.commit()
    pair_id, other_id = pair.id, other.id
    newcomer = api_as(company.newcomer)
    mine = newcomer.get("/api/v1/me/programme-matches").get_json()["data"]
    assert [m["id"] for m in mine] == [pair_id]
    # Not theirs: answered as if it did not exist.
    hidden = newcomer.post(f"/api/v1/programme-matches/{other_id}/end", json={"reason": "other"})
    assert hidden.status_code == 404
    bad = newcomer.post(f"/api/v1/programme-matches/{pair_id}/end", json={"reason": "meh", "note": 5})
    assert bad.status_code == 422 and "note" in bad.get_json()["error"]["fields"]
    ended = api_as(company.designer).post(f"/api/v1/programme-matches/{pair_id}/end",
                                          json={"reason": "no_time", "note": "Thank you!"})
    assert ended.status_code == 200
    data = ended.get_json()["data"]
    assert (data["status"], data["ended_by"], data["end_reason"], data["end_note"]) == \
        ("ended", "partner", "no_time", "Thank you!")
    again = api_as(company.hr).post(f"/api/v1/programme-matches/{pair_id}/end", json={"reason": "other"})
    assert again.status_code == 409
    db.session.expire_all()
    assert db.session.get(ProgrammeMatch, pair_id).status is MatchStatus.ENDED


def test_the_openapi_document_describes_the_programme_endpoints(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/programmes", "/programmes/{programme_id}", "/programmes/{programme_id}/suggestions",
                 "/programmes/{programme_id}/matches", "/programme-matches/{programme_match_id}/end",
                 "/me/programme-matches"):
        assert path in paths
