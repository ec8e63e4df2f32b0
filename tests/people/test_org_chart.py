"""The org chart: the whole company for HR, a manager's own part for managers, from one query."""
from __future__ import annotations

import re

from tests.factories import make_employee, make_hr, make_manager, make_team
from tests.querycount import count_queries
from touchpoints.db_types import utcnow
from touchpoints.people.models import LifecycleStatus


def company():
    """ceo -> (cto -> (dev1, dev2 -> intern), cfo -> accountant); plus a leaver and a loose hire."""
    eng = make_team("Engineering")
    ceo = make_manager("Cara Ceo", job_title="Chief Executive")
    cto = make_manager("Tom Cto", manager=ceo, team=eng, job_title="CTO")
    dev1 = make_employee("Dana Dev", manager=cto, team=eng, job_title="Developer")
    dev2 = make_manager("Dev Two", manager=cto, team=eng)
    intern = make_employee("Ivy Intern", manager=dev2, team=eng)
    cfo = make_manager("Finn Cfo", manager=ceo)
    accountant = make_employee("Ann Accounts", manager=cfo)
    make_employee("Gone Person", manager=cto, deactivated_at=utcnow())
    make_employee("Alum Person", manager=cto, status=LifecycleStatus.ALUMNI)
    loose = make_employee("Lou Loose")
    return locals()


def nested_names(page: str) -> list[str]:
    """The names on the chart in document order, with their list depth."""
    names, depth = [], 0
    for token in re.finditer(r"<ul[^>]*>|</ul>|<a href=\"/people/\d+\">([^<]+)</a>", page):
        if token.group(0).startswith("<ul"):
            depth += 1
        elif token.group(0) == "</ul>":
            depth -= 1
        else:
            names.append(f"{depth}:{token.group(1)}")
    return names


def chart_part(page: str) -> str:
    return page[page.index("<h1>Org chart</h1>"):page.index("</main>")]


def test_hr_sees_the_whole_company_as_a_nested_tree_from_the_top(client, login):
    people = company()
    login(make_hr("Hana HR", manager=people["ceo"]))
    page = chart_part(client.get("/people/org-chart").get_data(as_text=True))
    assert nested_names(page) == [
        "1:Cara Ceo", "2:Finn Cfo", "3:Ann Accounts", "2:Hana HR", "2:Tom Cto", "3:Dana Dev",
        "3:Dev Two", "4:Ivy Intern", "1:Lou Loose",
    ]
    assert f'<h2 id="org-{people["ceo"].id}">Cara Ceo\u2019s organisation</h2>' in page
    assert "People with no manager recorded" in page
    assert "Gone Person" not in page and "Alum Person" not in page
    assert "CTO" in page and "Engineering" in page and "7 in all" in page


def test_a_manager_sees_only_their_own_part(client, login):
    people = company()
    login(people["cto"])
    page = chart_part(client.get("/people/org-chart").get_data(as_text=True))
    assert nested_names(page) == ["1:Tom Cto", "2:Dana Dev", "2:Dev Two", "3:Ivy Intern"]
    assert "Cara Ceo" not in page and "Ann Accounts" not in page


def test_a_part_of_the_chart_shows_the_reporting_line_above_it(client, login):
    people = company()
    login(make_hr())
    page = chart_part(client.get(f"/people/org-chart?root={people['dev2'].id}").get_data(as_text=True))
    assert 'aria-label="Reporting line"' in page
    trail = page[page.index("Reporting line"):page.index("</nav>")]
    assert trail.index("Cara Ceo") < trail.index("Tom Cto") < trail.index("Dev Two")
    assert "Ivy Intern" in page and "Dana Dev" not in page


def test_managers_cannot_open_a_part_outside_their_own(client, login):
    people = company()
    login(people["cto"])
    assert client.get(f"/people/org-chart?root={people['cfo'].id}").status_code == 404
    assert client.get(f"/people/org-chart?root={people['dev2'].id}").status_code == 200


def test_employees_have_no_org_chart_page(client, login):
    people = company()
    login(people["dev1"])
    assert client.get("/people/org-chart").status_code == 403


def test_deep_charts_open_further_down_on_their_own_page(client, login):
    boss = make_manager("Level 0")
    for level in range(1, 7):
        boss = make_manager(f"Level {level}", manager=boss)
    login(make_hr())
    page = client.get("/people/org-chart").get_data(as_text=True)
    assert "Level 3" in page and "Level 4" not in page
    assert "Show the 3 people under Level 3" in page


def test_the_tree_comes_from_one_query_whatever_the_size(client, login):
    hr = make_hr()
    team = make_team("All")
    top = make_manager("Top Boss", team=team)
    leads = [make_manager(f"Lead {n}", manager=top, team=team) for n in range(5)]
    login(hr)
    with count_queries() as small:
        client.get("/people/org-chart")
    for n in range(60):
        make_employee(f"Member {n}", manager=leads[n % 5], team=team)
    with count_queries() as large:
        page = client.get("/people/org-chart").get_data(as_text=True)
    assert "Member 59" in page
    assert small.count == large.count <= 6, large.report()
