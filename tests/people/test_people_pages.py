"""People list and records: who sees whom, filters, and a fixed number of queries."""
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
    assert f'<option value="{design.id}" selected>Design</option>' in page
    page = client.get("/people/?team=none").get_data(as_text=True)
    assert "Nora Noteam" in page and "Dee Designer" not in page


def test_search_and_stage_filters(client, login):
    login(make_hr())
    make_employee("Ola Onboarding", status=LifecycleStatus.ONBOARDING)
    make_employee("Ada Active", email="ada.findme@example.com")
    page = client.get("/people/?q=FINDME").get_data(as_text=True)
    assert "Ada Active" in page and "Ola Onboarding" not in page
    page = client.get("/people/?status=onboarding").get_data(as_text=True)
    assert "Ola Onboarding" in page and "Ada Active" not in page


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
    for n in range(10, 100):
        people.append(make_employee(f"Person {n:03}", manager=people[n % 10], team=team))
    large = _list_queries(client)
    assert small == large
    assert large <= 10
    db.session.expire_all()
