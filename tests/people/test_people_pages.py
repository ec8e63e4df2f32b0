"""People list and records: who sees whom."""
from tests.factories import make_employee, make_hr, make_manager


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


def test_hr_sees_everyone(client, login):
    hr = make_hr()
    make_employee("Anyone Here")
    login(hr)
    assert "Anyone Here" in client.get("/people/").get_data(as_text=True)
