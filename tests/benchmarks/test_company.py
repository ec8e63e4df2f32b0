"""The benchmark company: a believable shape, written by bulk inserts, importable as a CSV."""
from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from benchmarks.company import (
    BENCH_PASSWORD,
    CSV_COLUMNS,
    SPAN,
    plan_company,
    write_company,
    write_csv,
)
from benchmarks.core import Result, at_least, below, format_figure, render_table
from benchmarks.serving import csrf_token, duration_seconds, parse_wrk
from touchpoints.auth.models import Role, User
from touchpoints.extensions import db
from touchpoints.people.models import Employee, LifecycleStatus, Team


@pytest.mark.parametrize("size", [2_000, 10_000])
def test_hierarchy_has_spans_of_five_to_nine_and_at_most_six_levels(size):
    company = plan_company(size)
    assert company.size == size
    assert company.depth <= 6
    spans = company.spans()
    assert min(spans) >= SPAN[0] and max(spans) <= SPAN[1]
    # Every manager comes before their reports, so a file can be imported top-down.
    assert all(p.manager_id is None or p.manager_id < p.id for p in company.people)
    assert len({p.email for p in company.people}) == size


def test_company_mixes_stages_places_and_roles():
    company = plan_company(2_000)
    stages = Counter(p.status for p in company.people)
    assert set(stages) == {s.value for s in LifecycleStatus}
    assert stages["active"] > size_share(company, 0.75)
    assert len({p.timezone for p in company.people}) >= 10
    hr = company.with_role("hr_partner")
    assert 5 <= len(hr) <= 30
    assert all("manager" in p.roles for p in company.people if p.report_ids)
    assert all(team.hr_partner_id for team in company.teams)
    assert company.org_size(company.people[0]) == company.size - 1
    # The people benchmarks sign in as are who they claim to be.
    assert "hr_partner" in company.hr_partner.roles
    assert company.manager.report_ids and company.employee.roles == {"employee"}


def size_share(company, share: float) -> int:
    return int(company.size * share)


def test_same_size_and_seed_give_the_same_company():
    first, second = plan_company(500, seed=3), plan_company(500, seed=3)
    assert [p.email for p in first.people] == [p.email for p in second.people]
    assert [p.email for p in plan_company(500, seed=4).people] != [p.email for p in first.people]


def test_written_company_signs_in_with_its_roles(app, client):
    company = plan_company(300)
    write_company(company)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Employee)) == 300
    assert db.session.scalar(select(func.count()).select_from(Team)) == len(company.teams)
    hr = company.hr_partner
    user = db.session.scalar(select(User).where(User.employee_id == hr.id))
    assert user.is_hr and not user.must_change_password
    alumni = [p for p in company.people if p.status == "alumni"]
    assert all(db.session.get(Employee, p.id).deactivated_at for p in alumni)

    response = client.post("/login", data={"email": hr.email, "password": BENCH_PASSWORD})
    assert response.status_code == 302
    # An HR partner sees everyone, the CEO included.
    ceo = company.people[0]
    page = client.get(f"/people/?q={ceo.email.split('@')[0]}")
    assert page.status_code == 200
    assert ceo.full_name in page.get_data(as_text=True)
    # Sequences moved past the explicit ids, so the app can still add people.
    extra = Employee(email="new.person@bench.example", full_name="New Person",
                     timezone="Europe/London")
    db.session.add(extra)
    db.session.flush()
    assert extra.id == 301


def test_written_company_refuses_a_database_with_people(app):
    write_company(plan_company(20))
    db.session.commit()
    with pytest.raises(RuntimeError, match="empty database"):
        write_company(plan_company(20))


def test_csv_imports_through_the_real_importer(app, tmp_path):
    from touchpoints.people import importer

    company = plan_company(400)
    path = tmp_path / "people.csv"
    assert write_csv(company, path) == 400
    header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[:len(CSV_COLUMNS)] == list(CSV_COLUMNS)

    outcome = importer.apply_import(importer.decode_upload(path.read_bytes()),
                                    filename=path.name, actor_id=None)
    db.session.commit()
    assert outcome.created == 400
    ceo = company.people[0]
    report = company.person(ceo.report_ids[0])
    imported = db.session.scalar(select(Employee).where(Employee.email == report.email))
    assert imported.manager.email == ceo.email
    assert imported.team.name == company.teams[report.team_id - 1].name
    hr = db.session.scalar(select(User).join(User.employee)
                           .where(Employee.email == company.hr_partner.email))
    assert Role.HR_PARTNER in hr.roles


def test_wrk_report_and_csrf_parsing():
    line = ('WRK_JSON {"requests": 3000, "duration_us": 15000000, "bytes": 3000000, "not_ok": 0, '
            '"last_bad_status": 0, "connect": 0, "read": 1, "write": 0, "status": 0, "timeout": 0, '
            '"mean_us": 9000.0, "max_us": 90000.0, "p50_us": 8000.0, "p90_us": 15000.0, '
            '"p95_us": 20000.0, "p99_us": 40000.0}')
    load = parse_wrk(f"Running 15s test\n{line}\n", label="x", path="/")
    assert load.rps == 200 and load.p95_ms == 20 and load.socket_errors == 1
    assert load.bytes_per_response == 1000
    assert parse_wrk("no summary", label="x", path="/") is None
    assert csrf_token('<input id="csrf_token" name="csrf_token" type="hidden" value="abc.def">') == "abc.def"
    assert duration_seconds("15s") == 15 and duration_seconds("2m") == 120


def test_results_table_shows_verdicts():
    rows = [("pages", Result("throughput", 412.4, "req/s", at_least(300))),
            ("pages", Result("p50 latency", 31.0, "ms", below(30))),
            ("pages", Result("page size", 36.2, "KB"))]
    table = render_table(rows, [("enrol", "RuntimeError: boom")])
    assert "| pass" in table and "| FAIL" in table and "| ERROR" in table
    assert "412 req/s" in table and "≥ 300 req/s" in table and "< 30.0 ms" in table
    assert format_figure(1234.0, "req/s") == "1,234 req/s"
