"""People list and records: who sees whom, filters, and a fixed number of queries."""
import re

import pytest

from tests.factories import make_employee, make_hr, make_manager, make_team
from tests.querycount import count_queries
from touchpoints.extensions import db
from touchpoints.people.models import LifecycleStatus


def test_manager_sees_direct_and_indirect_reports_only(client, login):
    boss = make_manager("Boss Person")
    lead = make_manager("Lead Person", manager=boss)
    make_employee("Deep Report", manager=lead)
    make_employee("Elsewhere Person")
    login(boss)
    page = client.get("/people/").get_data(as_text=True)
    assert "Lead Person" in page and "Deep Report" in page
    assert "Elsewhere Person" not in page


def test_employee_cannot_open_someone_elses_record(client, login):
    me = make_employee("Me Myself")
    other = make_employee("Some One")
    login(me)
    assert client.get(f"/people/{other.id}").status_code == 403
    assert client.get(f"/people/{me.id}").status_code == 200


def test_manager_cannot_open_someone_outside_their_reports(client, login):
    boss = make_manager("Boss Person")
    mine = make_employee("My Report", manager=boss)
    stranger = make_employee("Not Mine")
    login(boss)
    assert client.get(f"/people/{mine.id}").status_code == 200
    assert client.get(f"/people/{stranger.id}").status_code == 403


def test_employees_cannot_see_the_people_list(client, login):
    login(make_employee("Plain Person"))
    assert client.get("/people/").status_code == 403


def test_hr_sees_everyone(client, login):
    hr = make_hr()
    make_employee("Anyone Here")
    login(hr)
    assert "Anyone Here" in client.get("/people/").get_data(as_text=True)


def test_team_filter_shows_only_that_team_and_no_team_shows_the_unassigned(client, login):
    design, sales = make_team("Design"), make_team("Sales")
    hr = make_hr()
    make_employee("Dee Designer", team=design)
    make_employee("Sam Seller", team=sales)
    make_employee("Nora Noteam")
    login(hr)
    page = client.get(f"/people/?team={design.id}").get_data(as_text=True)
    assert "Dee Designer" in page and "Sam Seller" not in page and "Nora Noteam" not in page
    page = client.get("/people/?team=none").get_data(as_text=True)
    assert "Nora Noteam" in page and "Dee Designer" not in page


def test_team_field_matches_a_typed_name_exactly_first_then_in_part(client, login):
    sales, sales_ops, design = make_team("Sales"), make_team("Sales Operations"), make_team("Design")
    make_employee("Sam Seller", team=sales)
    make_employee("Olga Operator", team=sales_ops)
    make_employee("Dee Designer", team=design)
    make_employee("Nora Noteam")
    login(make_hr())

    page = client.get("/people/?team=SALES").get_data(as_text=True)
    assert "Sam Seller" in page and "Olga Operator" not in page and "Dee Designer" not in page
    assert 'name="team" value="SALES"' in page  # what was typed stays in the field
    page = client.get("/people/?team=ale").get_data(as_text=True)
    assert "Sam Seller" in page and "Olga Operator" in page and "Dee Designer" not in page
    page = client.get("/people/?team=No+team").get_data(as_text=True)
    assert "Nora Noteam" in page and "Sam Seller" not in page
    page = client.get("/people/?team=100%25").get_data(as_text=True)  # a wildcard is just a character
    assert "No one matches" in page


def test_the_list_no_longer_lists_every_team(client, login):
    teams = [make_team(f"Squad {n:02}") for n in range(30)]
    make_employee("Only Person", team=teams[0])
    login(make_hr())
    page = client.get("/people/").get_data(as_text=True)
    assert "Squad 00" in page  # the listed person's team
    assert "Squad 29" not in page and '<select class="input" id="team"' not in page
    assert 'list="team-suggestions"' in page and 'data-team-lookup="/people/teams/lookup"' in page


def test_team_suggestions_start_with_the_typed_text_and_are_capped(client, login):
    for n in range(25):
        make_team(f"Platform {n:02}")
    make_team("Data Platform")
    make_team("Design")
    login(make_hr())
    teams = client.get("/people/teams/lookup?q=platf").get_json()["teams"]
    assert len(teams) == 20 and teams[0] == "Platform 00" and "Design" not in teams
    teams = client.get("/people/teams/lookup?q=data").get_json()["teams"]
    assert teams == ["Data Platform"]
    assert client.get("/people/teams/lookup?q=").get_json()["teams"] == []


def test_a_manager_is_suggested_only_the_teams_of_their_reports(client, login):
    mine, theirs = make_team("Mobile Apps"), make_team("Mobile Payments")
    boss = make_manager("Mia Manager")
    lead = make_manager("Lee Lead", manager=boss)
    make_employee("Deep Report", manager=lead, team=mine)
    make_employee("Stranger", team=theirs)
    login(boss)
    assert client.get("/people/teams/lookup?q=mobile").get_json()["teams"] == ["Mobile Apps"]
    client.post("/logout")
    login(make_employee("Plain Person"))
    assert client.get("/people/teams/lookup?q=mobile").status_code == 403


def test_search_and_stage_filters(client, login):
    login(make_hr())
    make_employee("Ola Onboarding", status=LifecycleStatus.ONBOARDING)
    make_employee("Ada Active", email="ada.findme@example.com")
    page = client.get("/people/?q=FINDME").get_data(as_text=True)
    assert "Ada Active" in page and "Ola Onboarding" not in page
    page = client.get("/people/?status=onboarding").get_data(as_text=True)
    assert "Ola Onboarding" in page and "Ada Active" not in page


def test_search_text_is_matched_literally_so_an_underscore_is_no_wildcard(client, login):
    login(make_hr())
    make_employee("Una Underscore", email="una_u@example.com")
    make_employee("Uli Other", email="unaxu@example.com")
    page = client.get("/people/?q=una_u").get_data(as_text=True)
    assert "Una Underscore" in page and "Uli Other" not in page
    assert "Uli Other" not in client.get("/people/lookup?q=una_u").get_data(as_text=True)


def test_deactivated_people_are_hidden_unless_asked_for(client, login):
    from touchpoints.db_types import utcnow

    login(make_hr())
    make_employee("Gone Person", deactivated_at=utcnow())
    make_employee("Here Person")
    page = client.get("/people/").get_data(as_text=True)
    assert "Here Person" in page and "Gone Person" not in page
    page = client.get("/people/?deactivated=1").get_data(as_text=True)
    assert "Gone Person" in page and "Here Person" in page and "Deactivated</span>" in page
    assert 'name="deactivated" type="checkbox" value="1"' in page and "checked" in page


def _list_queries(client) -> int:
    with count_queries() as queries:
        response = client.get("/people/")
    assert response.status_code == 200
    return queries.count


@pytest.mark.parametrize("viewer", ["hr", "manager"])
def test_people_list_queries_do_not_grow_with_the_company(client, login, viewer):
    team = make_team("Everyone")
    boss = make_hr("Hana HR") if viewer == "hr" else make_manager("Mia Manager")
    people = [make_employee(f"Person {n:03}", manager=boss, team=team) for n in range(10)]
    login(boss)
    small = _list_queries(client)
    make_team("Another Team")
    for n in range(10, 100):
        people.append(make_employee(f"Person {n:03}", manager=people[n % 10], team=team))
    large = _list_queries(client)
    assert small == large
    assert large <= 10
    db.session.expire_all()


def test_hr_finds_a_departed_persons_export_and_erasure_on_their_record(client, login):
    from touchpoints.privacy.erasure import pseudonymous_email

    gone = make_employee("Gone Person", status=LifecycleStatus.ALUMNI)
    here = make_employee("Here Person")
    erased = make_employee("Erased Person", status=LifecycleStatus.ALUMNI)
    erased.email = pseudonymous_email(erased.id)
    db.session.flush()
    login(make_hr())
    page = client.get(f"/people/{gone.id}").get_data(as_text=True)
    assert f'href="/privacy/people/{gone.id}/export.json"' in page
    assert f'href="/privacy/people/{gone.id}/erase"' in page
    for person in (here, erased):
        page = client.get(f"/people/{person.id}").get_data(as_text=True)
        assert "/erase" not in page and "export.json" not in page


def test_a_manager_is_not_offered_a_departed_reports_erasure(client, login):
    boss = make_manager("Mia Manager")
    gone = make_employee("Gone Report", manager=boss, status=LifecycleStatus.ALUMNI)
    login(boss)
    page = client.get(f"/people/{gone.id}").get_data(as_text=True)
    assert "Gone Report" in page and "/erase" not in page and "export.json" not in page


def _names_in_rows(page: str) -> list[str]:
    return re.findall(r'<td><a href="/people/\d+">([^<]+)</a>', page)


def test_pages_of_the_list_go_by_name_with_their_team_manager_and_stage(app, client, login, monkeypatch):
    monkeypatch.setitem(app.config, "PEOPLE_PER_PAGE", 2)
    design = make_team("Design")
    boss = make_hr("Anna Boss", job_title="Head of People")
    make_employee("Cleo Carter", manager=boss, team=design, location="Lisbon",
                  status=LifecycleStatus.ONBOARDING)
    make_employee("Bea Brown", manager=boss)
    make_employee("Dan Dunn", team=design, start_date=None)
    make_employee("Eve Evans")
    login(boss)

    first = client.get("/people/").get_data(as_text=True)
    assert "<caption>5 people, page 1 of 3</caption>" in first
    assert _names_in_rows(first) == ["Anna Boss", "Bea Brown"]
    assert '<span class="muted">Head of People</span>' in first
    assert 'href="/people/?page=2" rel="next"' in first and 'rel="prev"' not in first

    second = client.get("/people/?page=2").get_data(as_text=True)
    assert _names_in_rows(second) == ["Cleo Carter", "Dan Dunn"]
    cleo = second[second.index("Cleo Carter"):second.index("Dan Dunn")]
    assert "<td>Design</td>" in cleo and "<td>Anna Boss</td>" in cleo and "<td>Lisbon</td>" in cleo
    assert '<span class="badge badge--info">Onboarding</span>' in cleo and "<td>8 Jan 2024</td>" in cleo
    dan = second[second.index("Dan Dunn"):]
    assert dan.count("<td>—</td>") == 3  # no manager, no location, no start date
    assert 'href="/people/?page=1" rel="prev"' in second and 'href="/people/?page=3" rel="next"' in second

    last = client.get("/people/?page=3").get_data(as_text=True)
    assert _names_in_rows(last) == ["Eve Evans"] and "page 3 of 3" in last and 'rel="next"' not in last
    assert "No one matches" in client.get("/people/?page=9").get_data(as_text=True)
    not_a_number = client.get("/people/?page=abc").get_data(as_text=True)
    assert _names_in_rows(not_a_number) == ["Anna Boss", "Bea Brown"]


def test_the_filters_show_what_was_asked_for(client, login):
    login(make_hr())
    make_employee("Ola Onboarding", status=LifecycleStatus.ONBOARDING)
    page = client.get("/people/?q=%22%3E%3Cb%3Eola&status=onboarding&deactivated=1").get_data(as_text=True)
    assert 'name="q" type="search" value="&#34;&gt;&lt;b&gt;ola"' in page and "<b>ola" not in page
    assert '<option selected value="onboarding">Onboarding</option>' in page
    assert page.count("<option selected") == 1
    assert '<input checked id="deactivated" name="deactivated" type="checkbox" value="1">' in page
    page = client.get("/people/").get_data(as_text=True)
    assert "<option selected" not in page and '<option value="">All stages</option>' in page
    assert '<input id="deactivated" name="deactivated" type="checkbox" value="1">' in page
