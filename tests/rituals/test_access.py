"""Who may see and run team rituals, on the pages and over the API: HR everything; a manager the
rituals of the teams they lead and their sub-teams; an organiser their ritual; members see their
team's rituals and mark their own attendance; nobody else (404, as if they did not exist)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.factories import make_employee, make_hr
from tests.rituals.helpers import plan, team_with_manager
from touchpoints.extensions import db
from touchpoints.rituals.models import Audience, RitualOccurrence


@pytest.fixture
def org(app):
    """Product (with a sub-team, Mobile) and Sales, each with a lead; a team day for each; a town hall."""
    product, product_lead, product_people = team_with_manager("Product")
    mobile, mobile_lead, mobile_people = team_with_manager("Mobile", parent=product)
    sales, sales_lead, sales_people = team_with_manager("Sales")
    hr = make_hr()
    start = date.today() - timedelta(days=14)
    rituals = {
        "product": plan(product_lead, product, title="Product day", starts_on=start, today=start),
        "mobile": plan(mobile_lead, mobile, title="Mobile day", starts_on=start, today=start),
        "sales": plan(sales_lead, sales, title="Sales day", starts_on=start, today=start),
        "town_hall": plan(hr, None, title="Town hall", kind="town_hall", audience=Audience.EVERYONE,
                          rrule="FREQ=MONTHLY;INTERVAL=3", starts_on=start, today=start),
    }
    return {"hr": hr, "product_lead": product_lead, "product_member": product_people[0],
            "mobile_member": mobile_people[0], "sales_lead": sales_lead, "sales_member": sales_people[0],
            "loner": make_employee("No Team"), "rituals": rituals}


def _occurrence(ritual) -> RitualOccurrence:
    return db.session.scalar(select(RitualOccurrence).where(RitualOccurrence.ritual_id == ritual.id)
                             .order_by(RitualOccurrence.due_at))


# (who, ritual, may see, may run)
CASES = [
    ("hr", "sales", True, True),
    ("product_lead", "product", True, True),
    ("product_lead", "mobile", True, True),  # a sub-team of a team they lead
    ("product_lead", "sales", False, False),
    ("product_lead", "town_hall", True, False),
    ("product_member", "product", True, False),
    ("product_member", "mobile", False, False),
    ("mobile_member", "mobile", True, False),
    ("sales_member", "product", False, False),
    ("loner", "sales", False, False),
    ("loner", "town_hall", True, False),
]


@pytest.mark.parametrize(("who", "which", "sees", "runs"), CASES)
def test_pages_follow_the_rules(org, client, login, who, which, sees, runs):
    ritual = org["rituals"][which]
    occurrence = _occurrence(ritual)
    login(org[who])
    assert client.get(f"/rituals/{ritual.id}").status_code == (200 if sees else 404)
    assert client.get(f"/rituals/occurrences/{occurrence.id}").status_code == (200 if sees else 404)
    assert (ritual.title in client.get("/rituals").get_data(as_text=True)) is sees
    edit = client.get(f"/rituals/{ritual.id}/edit").status_code
    assert edit == (200 if runs else 404 if not sees else 403)
    log = client.post(f"/rituals/occurrences/{occurrence.id}", data={"actual_mode": "in_person"})
    assert (log.status_code in (302, 400)) is runs  # 400: the sheet was empty of marks, still allowed
    if not runs:
        assert log.status_code == (403 if sees else 404)


def test_an_employee_who_organises_a_ritual_runs_it(org, client, login):
    member = org["product_member"]
    ritual = org["rituals"]["product"]
    login(org["hr"])
    client.post(f"/rituals/{ritual.id}/edit", data={
        "title": "Product day", "kind": "team_meeting", "team_id": str(ritual.team_id), "audience": "team",
        "planned_mode": "in_person", "repeats": "FREQ=MONTHLY", "starts_on": ritual.starts_on.isoformat(),
        "time_of_day": "10:00", "timezone": "Europe/London", "duration_minutes": "90",
        "organiser_email": member.email})
    client.post("/logout")
    login(member)
    assert client.get(f"/rituals/{ritual.id}/edit").status_code == 200
    # Planning a new ritual is for those who lead a team.
    assert client.get("/rituals/new").status_code == 403


def test_a_manager_plans_only_for_teams_they_lead(org, client, login):
    login(org["sales_lead"])
    product = org["rituals"]["product"].team_id
    response = client.post("/rituals/new", data={
        "title": "Not mine", "kind": "team_meeting", "team_id": str(product), "audience": "team",
        "planned_mode": "in_person", "repeats": "FREQ=MONTHLY", "starts_on": date.today().isoformat(),
        "time_of_day": "10:00", "timezone": "Europe/London", "duration_minutes": "60",
        "organiser_email": org["sales_lead"].email})
    assert response.status_code == 400
    assert "Choose a team you run" in response.get_data(as_text=True)


@pytest.mark.parametrize(("who", "which", "sees", "runs"), CASES)
def test_the_api_follows_the_same_rules(org, api_as, who, which, sees, runs):
    ritual = org["rituals"][which]
    occurrence = _occurrence(ritual)
    api = api_as(org[who])
    assert api.get(f"/api/v1/rituals/{ritual.id}").status_code == (200 if sees else 404)
    listed = {r["id"] for r in api.get("/api/v1/rituals").json["data"]}
    assert (ritual.id in listed) is sees
    detail = api.get(f"/api/v1/ritual-occurrences/{occurrence.id}")
    assert detail.status_code == (200 if sees else 404)
    if sees:
        assert ("attendance" in detail.json["data"]) is runs
    logged = api.post(f"/api/v1/ritual-occurrences/{occurrence.id}/attendance",
                      json={"actual_mode": "in_person", "attendance": []})
    assert logged.status_code == (200 if runs else 403 if sees else 404)
    changed = api.patch(f"/api/v1/rituals/{ritual.id}", json={"location": "Room 4"})
    assert changed.status_code == (200 if runs else 403 if sees else 404)


def test_the_api_logs_attendance_all_or_nothing_and_names_the_person(org, api_as):
    ritual = org["rituals"]["product"]
    occurrence = _occurrence(ritual)
    api = api_as(org["product_lead"])
    bad = api.post(f"/api/v1/ritual-occurrences/{occurrence.id}/attendance", json={
        "actual_mode": "in_person",
        "attendance": [{"employee_id": org["product_member"].id, "presence": "in_person"},
                       {"employee_id": org["sales_member"].id, "presence": "in_person"}]})
    assert bad.status_code == 422
    assert bad.json["error"]["fields"] == {
        f"attendance[{org['sales_member'].id}]": "This person is not in the ritual's audience."}
    assert api.get(f"/api/v1/ritual-occurrences/{occurrence.id}").json["data"]["status"] == "planned"
    good = api.post(f"/api/v1/ritual-occurrences/{occurrence.id}/attendance", json={
        "actual_mode": "in_person",
        "attendance": [{"employee_id": org["product_member"].id, "presence": "remote"}]})
    assert good.status_code == 200
    marks = {row["employee_id"]: row["presence"] for row in good.json["data"]["attendance"]}
    assert marks[org["product_member"].id] == "remote"
    assert good.json["data"]["status"] == "held"


def test_the_api_corrects_a_log_that_marked_someone_who_has_since_left_as_the_page_does(org, api_as):
    from touchpoints.db_types import utcnow

    occurrence = _occurrence(org["rituals"]["product"])
    api = api_as(org["product_lead"])
    member = org["product_member"]
    first = {"actual_mode": "in_person", "attendance": [{"employee_id": member.id, "presence": "in_person"}]}
    assert api.post(f"/api/v1/ritual-occurrences/{occurrence.id}/attendance", json=first).status_code == 200
    member.deactivated_at = utcnow()
    db.session.commit()
    corrected = api.post(f"/api/v1/ritual-occurrences/{occurrence.id}/attendance", json={
        "actual_mode": "in_person", "attendance": [{"employee_id": member.id, "presence": "remote"}]})
    assert corrected.status_code == 200, corrected.json
    marks = {row["employee_id"]: row["presence"] for row in corrected.json["data"]["attendance"]}
    assert marks[member.id] == "remote"


def test_members_mark_their_own_attendance_over_the_api(org, api_as):
    occurrence = _occurrence(org["rituals"]["product"])
    member = api_as(org["product_member"])
    marked = member.post(f"/api/v1/ritual-occurrences/{occurrence.id}/my-attendance",
                         json={"presence": "absent"})
    assert marked.status_code == 200 and marked.json["data"]["my_presence"] == "absent"
    outsider = api_as(org["sales_member"])
    assert outsider.post(f"/api/v1/ritual-occurrences/{occurrence.id}/my-attendance",
                         json={"presence": "absent"}).status_code == 404


def test_creating_over_the_api_names_the_bad_field(org, api_as):
    api = api_as(org["product_lead"])
    response = api.post("/api/v1/rituals", json={
        "team_id": org["rituals"]["product"].team_id, "title": "Quarterly", "kind": "team_meeting",
        "planned_mode": "in_person", "rrule": "FREQ=FORTNIGHTLY", "starts_on": "2026-12-01",
        "time_of_day": "10:00"})
    assert response.status_code == 422
    assert "FREQ must be" in response.json["error"]["fields"]["rrule"]
    created = api.post("/api/v1/rituals", json={
        "team_id": org["rituals"]["product"].team_id, "title": "Quarterly", "kind": "team_meeting",
        "planned_mode": "in_person", "rrule": "FREQ=MONTHLY;INTERVAL=3", "starts_on": "2026-12-01",
        "time_of_day": "10:00"})
    assert created.status_code == 201
    assert created.json["data"]["organiser_id"] == org["product_lead"].id
    assert api_as(org["product_member"]).post("/api/v1/rituals", json={}).status_code == 403


def test_hr_sets_a_teams_manager_parent_and_work_pattern(org, client, login):
    from touchpoints.people.models import Team

    sales = db.session.get(Team, org["rituals"]["sales"].team_id)
    product_id = org["rituals"]["product"].team_id
    login(org["hr"])
    form = {"name": "Sales", "description": "", "hr_partner_id": "", "work_pattern": "remote",
            "parent_id": str(product_id), "manager_email": org["sales_member"].email}
    assert client.post(f"/people/teams/{sales.id}/edit", data=form).status_code == 302
    db.session.expire_all()
    sales = db.session.get(Team, sales.id)
    assert (sales.work_pattern.value, sales.parent_id, sales.manager_id) == (
        "remote", product_id, org["sales_member"].id)
    # A team cannot be put under its own sub-team.
    product_form = {"name": "Product", "description": "", "hr_partner_id": "", "parent_id": str(sales.id)}
    response = client.post(f"/people/teams/{product_id}/edit", data=product_form)
    assert response.status_code == 400
    assert "cannot be part of itself or of one of its own sub-teams" in response.get_data(as_text=True)
    page = client.get("/people/teams").get_data(as_text=True)
    assert "Part of Product" in page and "Remote" in page


def test_a_manager_who_organises_the_town_hall_changes_it_and_it_stays_company_wide(org, client, login):
    town_hall = org["rituals"]["town_hall"]
    town_hall.organiser_id = org["sales_lead"].id
    db.session.commit()
    login(org["sales_lead"])
    page = client.get(f"/rituals/{town_hall.id}/edit").get_data(as_text=True)
    assert '<option selected value="everyone">' in page
    response = client.post(f"/rituals/{town_hall.id}/edit", data={
        "title": "Town hall, Q-end", "kind": "town_hall", "team_id": "", "audience": "everyone",
        "planned_mode": "in_person", "repeats": "FREQ=MONTHLY;INTERVAL=3",
        "starts_on": town_hall.starts_on.isoformat(), "time_of_day": "16:00", "timezone": "Europe/London",
        "duration_minutes": "60", "organiser_email": org["sales_lead"].email, "active": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    changed = db.session.get(type(town_hall), town_hall.id)
    assert changed.title == "Town hall, Q-end" and changed.audience is Audience.EVERYONE
