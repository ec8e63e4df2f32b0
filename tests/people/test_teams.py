"""Team pages: HR lists, adds and changes teams; no one else may."""
from __future__ import annotations

from sqlalchemy import select

from tests.factories import make_employee, make_hr, make_manager, make_team
from touchpoints.audit.models import AuditEntry
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.people.models import Team


def test_hr_sees_teams_with_active_headcount_and_hr_partner(client, login):
    hr = make_hr("Hana HR")
    sales = make_team("Sales", hr_partner_id=hr.id)
    make_team("Empty")
    make_employee("Seller One", team=sales)
    make_employee("Seller Two", team=sales)
    make_employee("Old Seller", team=sales, deactivated_at=utcnow())
    login(hr)
    page = client.get("/people/teams").get_data(as_text=True)
    sales_row = page[page.index(">Sales</a>"):page.index("</tr>", page.index(">Sales</a>"))]
    assert "Hana HR" in sales_row and '<td class="num">2</td>' in sales_row
    assert ">Empty</a>" in page


def test_hr_adds_a_team_and_names_mistakes(client, login):
    hr = make_hr("Hana HR")
    make_team("Design")
    login(hr)
    response = client.post("/people/teams/new", data={"name": "design", "description": "",
                                                      "hr_partner_id": ""})
    assert response.status_code == 400
    assert "There is already a team called Design" in response.get_data(as_text=True)
    response = client.post("/people/teams/new", data={
        "name": "Research", "description": "Finds things out", "hr_partner_id": str(hr.id)})
    assert response.status_code == 302
    team = db.session.scalar(select(Team).where(Team.name == "Research"))
    assert team.hr_partner_id == hr.id and team.description == "Finds things out"
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "team.created"))


def test_only_hr_partners_can_look_after_a_team(client, login):
    hr = make_hr()
    plain = make_employee("Not HR")
    team = make_team("Ops")
    login(hr)
    response = client.post(f"/people/teams/{team.id}/edit", data={
        "name": "Ops", "description": "", "hr_partner_id": str(plain.id)})
    assert response.status_code == 400
    assert "Choose someone who is an active HR partner" in response.get_data(as_text=True)


def test_editing_a_team_is_audited_with_what_changed(client, login):
    hr = make_hr()
    team = make_team("Ops")
    login(hr)
    form = client.get(f"/people/teams/{team.id}/edit").get_data(as_text=True)
    assert 'value="Ops"' in form
    client.post(f"/people/teams/{team.id}/edit", data={"name": "Operations", "description": "Runs things",
                                                       "hr_partner_id": str(hr.id)})
    db.session.expire_all()
    assert (team.name, team.hr_partner_id) == ("Operations", hr.id)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "team.updated"))
    assert entry.before == {"name": "Ops", "description": "", "hr_partner_id": None}


def test_managers_and_employees_cannot_manage_teams(client, login):
    team = make_team("Ops")
    for who in (make_manager(), make_employee("Plain")):
        client.post("/logout")
        login(who)
        assert client.get("/people/teams").status_code == 403
        assert client.get("/people/teams/new").status_code == 403
        assert client.post(f"/people/teams/{team.id}/edit", data={"name": "X"}).status_code == 403
    db.session.expire_all()
    assert team.name == "Ops"


def test_hr_sets_a_team_one_on_one_cadence_and_a_bad_one_is_named(client, login):
    hr = make_hr("Hana HR")
    team = make_team("Research")
    login(hr)
    response = client.post(f"/people/teams/{team.id}/edit", data={
        "name": "Research", "description": "", "hr_partner_id": "", "one_on_one_cadence_days": "3"})
    assert response.status_code == 400
    assert "Number must be between" in response.get_data(as_text=True)
    assert db.session.get(Team, team.id).one_on_one_cadence_days is None

    response = client.post(f"/people/teams/{team.id}/edit", data={
        "name": "Research", "description": "", "hr_partner_id": "", "one_on_one_cadence_days": "21"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Team, team.id).one_on_one_cadence_days == 21
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "cadence.changed"))
    form = client.get(f"/people/teams/{team.id}/edit").get_data(as_text=True)
    assert 'name="one_on_one_cadence_days"' in form and 'value="21"' in form
