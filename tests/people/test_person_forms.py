"""Adding, changing, deactivating and reactivating people, and who may do it."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from tests.factories import make_employee, make_hr, make_manager, make_team
from touchpoints.audit.models import AuditEntry
from touchpoints.auth.models import Role, User
from touchpoints.extensions import db
from touchpoints.people.models import Employee, LifecycleStatus


def person_form(**changes) -> dict[str, object]:
    data = {
        "full_name": "Nia New", "email": "nia.new@example.com", "job_title": "Analyst",
        "team_id": "", "manager_email": "", "status": "pre_boarding", "location": "Leeds",
        "country_code": "GB", "subdivision": "", "timezone": "Europe/London",
        "work_start": "09:00", "work_end": "17:30", "work_days": ["1", "2", "3", "4", "5"],
        "hire_date": "2025-01-06", "start_date": "2025-02-03", "exit_date": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def login_of(employee: Employee) -> User:
    return db.session.scalar(select(User).where(User.employee_id == employee.id))


def test_hr_adds_a_person_with_roles_and_a_login_that_must_choose_a_password(client, login):
    hr = make_hr()
    team = make_team("Finance")
    boss = make_employee("Fay Boss", email="fay.boss@example.com")
    login(hr)
    assert 'list="manager-suggestions"' in client.get("/people/new").get_data(as_text=True)
    response = client.post("/people/new", data=person_form(
        team_id=str(team.id), manager_email="FAY.BOSS@example.com", is_manager="y"))
    assert response.status_code == 302
    nia = db.session.scalar(select(Employee).where(Employee.email == "nia.new@example.com"))
    assert response.location.endswith(f"/people/{nia.id}")
    assert (nia.team_id, nia.manager_id, nia.status) == (team.id, boss.id, LifecycleStatus.PRE_BOARDING)
    assert nia.start_date == date(2025, 2, 3) and nia.work_days == "12345"
    user = login_of(nia)
    assert user.must_change_password and user.password_hash is None
    assert user.roles == {Role.EMPLOYEE, Role.MANAGER}
    page = client.get(response.location).get_data(as_text=True)
    assert "send them a password link" in page and "Manager</span>" in page
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "employee.created",
                                                      AuditEntry.subject_id == nia.id))


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"manager_email": "ghost@example.com"}, "manager_email", "No employee has the email ghost@example.com"),
    ({"timezone": "Mars/Base"}, "timezone", "not a known IANA time zone"),
    ({"country_code": "G1"}, "country_code", "two-letter ISO country code"),
    ({"exit_date": "2025-01-01"}, "exit_date", "cannot be before the start date"),
    ({"work_end": "08:00"}, "work_end", "must end after it starts"),
    ({"full_name": ""}, "full_name", "This field is required"),
])
def test_a_bad_value_is_named_and_what_was_typed_is_kept(client, login, changes, field, message):
    login(make_hr())
    response = client.post("/people/new", data=person_form(**changes))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    assert f'id="{field}-error"' in page or f'href="#{field}"' in page
    assert 'value="Leeds"' in page  # what was typed stays
    assert db.session.scalar(select(Employee).where(Employee.email == "nia.new@example.com")) is None


def test_a_taken_email_is_refused_whatever_its_case(client, login):
    login(make_hr())
    make_employee("Taken", email="taken@example.com")
    response = client.post("/people/new", data=person_form(email="TAKEN@example.com"))
    assert response.status_code == 400
    assert "already belongs to Taken" in response.get_data(as_text=True)


def test_every_mistake_is_named_at_once_the_taken_email_and_unknown_manager_beside_a_bad_date(client, login):
    login(make_hr())
    make_employee("Taken", email="taken@example.com")
    response = client.post("/people/new", data=person_form(
        email="taken@example.com", manager_email="ghost@example.com", hire_date="2025-13-40"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Not a valid date value" in page
    assert "already belongs to Taken" in page and "No employee has the email ghost@example.com" in page
    assert 'value="Leeds"' in page
    assert db.session.scalar(select(func.count()).select_from(Employee)) == 2  # nothing half-written


def test_an_edit_names_every_mistake_at_once_and_changes_nothing(client, login):
    login(make_hr())
    make_employee("Taken", email="taken@example.com")
    me = make_employee("Me Here", email="me@example.com", job_title="Analyst")
    response = client.post(f"/people/{me.id}/edit", data=person_form(
        full_name="Me Here", email="taken@example.com", job_title="Lead", start_date="not a date"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Not a valid date value" in page and "already belongs to Taken" in page
    assert 'value="Lead"' in page  # what was typed stays on the page
    db.session.expire_all()
    assert (me.email, me.job_title) == ("me@example.com", "Analyst")


def test_hr_edits_a_person_and_the_change_is_audited_with_before_and_after(client, login):
    hr = make_hr()
    old_boss = make_employee("Old Boss", email="old@example.com")
    new_boss = make_employee("New Boss", email="new@example.com")
    ed = make_employee("Ed Edit", email="ed@example.com", manager=old_boss, job_title="Junior")
    login(hr)
    form = client.get(f"/people/{ed.id}/edit").get_data(as_text=True)
    assert 'value="old@example.com"' in form and 'value="Junior"' in form
    response = client.post(f"/people/{ed.id}/edit", data=person_form(
        full_name="Ed Edit", email="ed@example.com", job_title="Senior", status="active",
        manager_email="new@example.com"))
    assert response.status_code == 302
    db.session.expire_all()
    assert (ed.job_title, ed.manager_id) == ("Senior", new_boss.id)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "employee.updated"))
    assert entry.before["job_title"] == "Junior" and entry.after["job_title"] == "Senior"
    assert entry.before["manager_id"] == old_boss.id and entry.actor_id == login_of(hr).id


def test_an_edit_that_would_loop_the_reporting_line_is_refused(client, login):
    login(make_hr())
    top = make_employee("Top Person", email="top@example.com")
    below = make_employee("Below Person", email="below@example.com", manager=top)
    response = client.post(f"/people/{top.id}/edit", data=person_form(
        full_name="Top Person", email="top@example.com", manager_email="below@example.com"))
    assert response.status_code == 400
    assert "reporting loop" in response.get_data(as_text=True)
    db.session.expire_all()
    assert top.manager_id is None and below.manager_id == top.id


def test_editing_a_taken_email_is_a_field_error_not_a_crash(client, login):
    login(make_hr())
    make_employee("Taken", email="taken@example.com")
    me = make_employee("Me Here", email="me@example.com")
    response = client.post(f"/people/{me.id}/edit", data=person_form(
        full_name="Me Here", email="Taken@example.com"))
    assert response.status_code == 400
    assert "already belongs to Taken" in response.get_data(as_text=True)


def test_roles_can_be_changed_but_the_last_hr_partner_stays(client, login):
    hr = make_hr(email="only.hr@example.com")
    person = make_employee("Rita Roles", email="rita@example.com")
    login(hr)
    client.post(f"/people/{person.id}/edit", data=person_form(
        full_name="Rita Roles", email="rita@example.com", is_hr_partner="y"))
    assert login_of(person).roles == {Role.EMPLOYEE, Role.HR_PARTNER}
    response = client.post(f"/people/{hr.id}/edit", data=person_form(
        full_name=hr.full_name, email="only.hr@example.com"))
    assert response.status_code == 302  # Rita is an HR partner now, so Hana may step down
    db.session.expire_all()
    assert login_of(hr).roles == {Role.EMPLOYEE}


def test_the_only_hr_partner_cannot_remove_their_own_role(client, login):
    hr = make_hr(email="only.hr@example.com")
    login(hr)
    response = client.post(f"/people/{hr.id}/edit", data=person_form(
        full_name=hr.full_name, email="only.hr@example.com"))
    assert response.status_code == 400
    assert "only active HR partner" in response.get_data(as_text=True)
    assert login_of(hr).is_hr


def test_deactivating_ends_their_sessions_and_reactivating_lets_them_back(app, client, login):
    hr = make_hr()
    leaver = make_employee("Lee Leaver")
    theirs = app.test_client()
    theirs.post("/login", data={"email": leaver.email, "password": "correct horse battery staple"})
    assert theirs.get("/").status_code == 200
    login(hr)
    page = client.get(f"/people/{leaver.id}").get_data(as_text=True)
    assert 'data-confirm="Deactivate Lee Leaver?' in page
    response = client.post(f"/people/{leaver.id}/deactivate")
    assert response.status_code == 302
    db.session.expire_all()
    assert leaver.deactivated_at is not None
    assert theirs.get("/").status_code == 302  # signed out
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "employee.deactivated"))
    page = client.get(f"/people/{leaver.id}").get_data(as_text=True)
    assert "Reactivate" in page and "Deactivated" in page
    client.post(f"/people/{leaver.id}/reactivate")
    db.session.expire_all()
    assert leaver.deactivated_at is None
    signed_in = theirs.post("/login", data={"email": leaver.email,
                                            "password": "correct horse battery staple"})
    assert signed_in.status_code == 302 and signed_in.location == "/"


def test_hr_cannot_deactivate_themselves(client, login):
    hr = make_hr()
    make_hr("Other HR")
    login(hr)
    client.post(f"/people/{hr.id}/deactivate")
    db.session.expire_all()
    assert hr.deactivated_at is None


def test_deactivate_is_post_only(client, login):
    hr = make_hr()
    other = make_employee("Some One")
    login(hr)
    assert client.get(f"/people/{other.id}/deactivate").status_code == 405


@pytest.mark.parametrize("role", ["manager", "employee"])
def test_managers_and_employees_cannot_add_change_or_deactivate_people(client, login, role):
    me = make_manager("Mia Manager") if role == "manager" else make_employee("Emil Employee")
    report = make_employee("Their Report", manager=me)
    login(me)
    assert client.get("/people/new").status_code == 403
    assert client.post("/people/new", data=person_form()).status_code == 403
    assert client.get(f"/people/{report.id}/edit").status_code == 403
    assert client.post(f"/people/{report.id}/edit", data=person_form()).status_code == 403
    assert client.post(f"/people/{report.id}/deactivate").status_code == 403
    assert client.get("/people/lookup?q=the").status_code == 403
    page = client.get(f"/people/{me.id}").get_data(as_text=True)
    assert "Deactivate" not in page and f"/people/{me.id}/edit" not in page
    db.session.expire_all()
    assert report.deactivated_at is None
    assert db.session.scalar(select(Employee).where(Employee.email == "nia.new@example.com")) is None


def test_manager_lookup_suggests_a_short_list(client, login):
    login(make_hr())
    for n in range(30):
        make_employee(f"Match Person {n}", password=None)
    make_employee("Other Name", password=None)
    found = client.get("/people/lookup?q=match").get_json()["people"]
    assert len(found) == 20 and all("Match Person" in p["name"] for p in found)
    assert client.get("/people/lookup?q=m").get_json() == {"people": []}


def test_hr_sets_a_persons_own_one_on_one_cadence(client, login):
    hr = make_hr()
    person = make_employee("Cad Ence")
    login(hr)
    response = client.post(f"/people/{person.id}/edit", data=person_form(
        full_name="Cad Ence", email=person.email, one_on_one_cadence_days="28"))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Employee, person.id).one_on_one_cadence_days == 28
    response = client.post(f"/people/{person.id}/edit", data=person_form(
        full_name="Cad Ence", email=person.email, one_on_one_cadence_days=""))
    db.session.expire_all()
    assert db.session.get(Employee, person.id).one_on_one_cadence_days is None
