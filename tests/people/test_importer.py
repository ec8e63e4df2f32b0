"""The CSV import service: every problem named by row and column, all or nothing, idempotent."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from tests.factories import make_employee, make_hr, make_team
from tests.querycount import count_queries
from touchpoints.audit.models import AuditEntry
from touchpoints.auth.models import Role, User
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.people.importer import (
    ImportFileError,
    ImportRejected,
    apply_import,
    decode_upload,
    validate_import,
)
from touchpoints.people.models import Employee, LifecycleStatus, Team

HEADER = "email,name,manager_email,team,location,country,time_zone,hire_date,start_date,job_title"


def csv(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def row(email: str, name: str, manager: str = "", team: str = "Engineering", tz: str = "Europe/Berlin",
        start: str = "2025-03-03", title: str = "Engineer", country: str = "DE") -> str:
    return f"{email},{name},{manager},{team},Berlin,{country},{tz},2025-02-01,{start},{title}"


def problems(text: str) -> set[tuple[int, str]]:
    return {(e.row, e.column) for e in validate_import(text).errors}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def person(email: str) -> Employee:
    return db.session.scalar(select(Employee).where(func.lower(Employee.email) == email.lower()))


def test_a_valid_file_creates_people_teams_managers_and_logins(app):
    text = csv(row("ada@example.com", "Ada Lovelace"),
               row("bob@example.com", "Bob Byte", manager="ada@example.com"),
               row("cy@example.com", "Cy Sharp", manager="bob@example.com", team="Data"))
    preview = validate_import(text)
    assert preview.ok and preview.summary() == "3 new, 0 updated, 0 unchanged"
    assert preview.new_teams == ["Data", "Engineering"]

    outcome = apply_import(text, filename="people.csv", actor_id=None)
    db.session.commit()
    assert (outcome.created, outcome.updated, outcome.unchanged) == (3, 0, 0)
    cy = person("cy@example.com")
    assert cy.manager.email == "bob@example.com" and cy.manager.manager.email == "ada@example.com"
    assert cy.team.name == "Data" and cy.timezone == "Europe/Berlin" and cy.country_code == "DE"
    assert cy.start_date == date(2025, 3, 3) and cy.status is LifecycleStatus.ACTIVE
    login = db.session.scalar(select(User).where(User.employee_id == cy.id))
    assert login.must_change_password and login.password_hash is None
    # Anyone with reports becomes a manager when the file has no roles column.
    bob_login = db.session.scalar(select(User).where(User.employee_id == person("bob@example.com").id))
    assert bob_login.roles == {Role.EMPLOYEE, Role.MANAGER}
    assert login.roles == {Role.EMPLOYEE}
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "people.imported")).all()
    assert len(entries) == 1 and entries[0].after["filename"] == "people.csv"
    assert entries[0].after["created"] == 3


def test_reimporting_the_same_file_changes_nothing_and_logs_nothing(app):
    text = csv(row("ada@example.com", "Ada Lovelace"),
               row("bob@example.com", "Bob Byte", manager="ada@example.com"))
    apply_import(text, filename="a.csv", actor_id=None)
    db.session.commit()
    stamp = person("bob@example.com").updated_at
    audit_before = count(AuditEntry)

    again = validate_import(text)
    assert again.summary() == "0 new, 0 updated, 2 unchanged"
    outcome = apply_import(text.replace("ada@example.com", "ADA@Example.com"), filename="a.csv",
                           actor_id=None)
    db.session.commit()
    assert (outcome.created, outcome.updated, outcome.unchanged) == (0, 0, 2)
    assert count(Employee) == 2 and count(AuditEntry) == audit_before
    db.session.expire_all()
    assert person("bob@example.com").updated_at == stamp
    assert person("ada@example.com").email == "ada@example.com"  # stored spelling kept


def test_changed_rows_are_updated_and_reported_with_what_changes(app):
    boss = make_employee("Old Boss", email="old.boss@example.com")
    make_employee("Ada Lovelace", email="ada@example.com", manager=boss, job_title="Engineer",
                  timezone="Europe/Berlin")
    text = csv(row("ada@example.com", "Ada King", title="Lead Engineer", tz="Europe/Lisbon"),
               row("new.boss@example.com", "New Boss"),
               header=HEADER)
    text = text.replace("ada@example.com,Ada King,,", "ada@example.com,Ada King,new.boss@example.com,")
    preview = validate_import(text)
    assert preview.ok, preview.errors
    (ada,) = preview.updated
    assert set(ada.changes) >= {"full_name", "job_title", "timezone", "manager_id", "team_id"}
    assert ada.changes["manager_id"] == ("old.boss@example.com", "new.boss@example.com")
    apply_import(text, filename="b.csv", actor_id=None)
    db.session.commit()
    db.session.expire_all()
    updated = person("ada@example.com")
    assert (updated.full_name, updated.job_title, updated.timezone) == (
        "Ada King", "Lead Engineer", "Europe/Lisbon")
    assert updated.manager.email == "new.boss@example.com" and updated.team.name == "Engineering"


def test_columns_left_out_keep_existing_values(app):
    team = make_team("Support")
    make_employee("Ada Lovelace", email="ada@example.com", team=team, job_title="Agent",
                  location="Leeds")
    text = "email,name,country,time_zone\nada@example.com,Ada Lovelace,GB,Europe/London\n"
    preview = validate_import(text)
    assert preview.summary() == "0 new, 0 updated, 1 unchanged"
    apply_import(text, filename="c.csv", actor_id=None)
    db.session.commit()
    ada = person("ada@example.com")
    assert (ada.team.name, ada.job_title, ada.location) == ("Support", "Agent", "Leeds")


@pytest.mark.parametrize(("cells", "column", "expected"), [
    ("not-an-email,Ann,,Eng,Berlin,DE,Europe/Berlin,,,", "email", "not a valid email"),
    (",Ann,,Eng,Berlin,DE,Europe/Berlin,,,", "email", "required"),
    ("ann@example.com,,,Eng,Berlin,DE,Europe/Berlin,,,", "name", "name is required"),
    ("ann@example.com,Ann,,Eng,Berlin,DE,Mars/Olympus,,,", "time_zone", "not a known IANA time zone"),
    ("ann@example.com,Ann,,Eng,Berlin,Germany,Europe/Berlin,,,", "country", "two-letter"),
    ("ann@example.com,Ann,,Eng,Berlin,DE,Europe/Berlin,2025-13-01,,", "hire_date", "YYYY-MM-DD"),
    ("ann@example.com,Ann,,Eng,Berlin,DE,Europe/Berlin,,03/04/2025,", "start_date", "YYYY-MM-DD"),
    ("ann@example.com,Ann,nobody@example.com,Eng,Berlin,DE,Europe/Berlin,,,", "manager_email",
     "No one in this file or in Touchpoints has the email nobody@example.com"),
    ("ann@example.com,Ann,boss@,Eng,Berlin,DE,Europe/Berlin,,,", "manager_email", "not a valid email"),
    ("ann@example.com,Ann,ann@example.com,Eng,Berlin,DE,Europe/Berlin,,,", "manager_email",
     "cannot be their own manager"),
    ("ann@example.com,Ann,,Eng,Berlin,DE,Europe/Berlin,,,,extra", "(whole row)", "cells"),
])
def test_each_problem_names_its_row_and_column(app, cells, column, expected):
    text = csv(row("ok@example.com", "Okay Person"), cells)
    (problem,) = validate_import(text).errors
    assert (problem.row, problem.column) == (3, column)
    assert expected in problem.message
    assert str(problem).startswith(f"Row 3, {column}: ")


def test_columns_are_named_as_the_file_heads_them(app):
    text = "Work Email;Full Name;Country;Time Zone;Start Date\nann@example.com;Ann;DE;Europe/Berlin;soon\n"
    (problem,) = validate_import(text).errors
    assert (problem.row, problem.column) == (2, "Start Date")


def test_missing_required_columns_are_reported_on_the_header_row(app):
    found = validate_import("email,job_title\nann@example.com,Chef\n").errors
    assert {(e.row, e.column) for e in found} == {(1, "name (or first_name and last_name)")}
    found = validate_import("name,first_name\nAnn,Ann\n").errors
    assert {(e.row, e.column) for e in found} == {(1, "email")}


def test_new_people_without_country_or_time_zone_get_the_company_default_with_a_warning(app):
    make_employee("Kept Zone", email="kept@example.com", timezone="Asia/Tokyo", country_code="JP")
    text = ("email,name,time_zone\n"
            "kept@example.com,Kept Zone,\n"
            "new@example.com,New Person,\n"
            "own@example.com,Own Zone,America/Chicago\n")
    preview = validate_import(text, default_country="DE", default_timezone="Europe/Berlin")
    assert preview.ok and preview.summary() == "2 new, 0 updated, 1 unchanged"
    assert preview.warnings == [
        "2 new people have no country in the file and will get DE, the company default. "
        "Add a country column to give each person their own.",
        "1 new person has no time zone in the file and will get Europe/Berlin, the company default. "
        "Add a time_zone column to give each person their own.",
    ]
    app.config.update(DEFAULT_COUNTRY="DE", DEFAULT_TIMEZONE="Europe/Berlin")
    apply_import(text, filename="zones.csv", actor_id=None)
    db.session.commit()
    assert (person("new@example.com").timezone, person("new@example.com").country_code) == (
        "Europe/Berlin", "DE")
    assert person("own@example.com").timezone == "America/Chicago"
    assert (person("kept@example.com").timezone, person("kept@example.com").country_code) == (
        "Asia/Tokyo", "JP")


def test_first_and_last_name_make_the_name_and_unknown_columns_are_warnings(app):
    text = ("EMAIL,First_Name,Last Name,Country,Time_Zone,Shoe Size\n"
            "ann@example.com,Ann,Smith,GB,Europe/London,38\n")
    preview = validate_import(text)
    assert preview.ok
    assert preview.rows[0].values["full_name"] == "Ann Smith"
    assert preview.warnings == ["These columns are not used and will be ignored: Shoe Size."]


def test_duplicate_emails_in_the_file_are_caught_whatever_their_case(app):
    text = csv(row("ann@example.com", "Ann"), row("bob@example.com", "Bob"),
               row("ANN@Example.COM", "Ann Again"))
    (problem,) = validate_import(text).errors
    assert (problem.row, problem.column) == (4, "email")
    assert "already on row 2" in problem.message


def test_manager_may_be_a_later_row_of_the_same_file(app):
    text = csv(row("ann@example.com", "Ann", manager="zed@example.com"), row("zed@example.com", "Zed"))
    assert validate_import(text).ok
    apply_import(text, filename="d.csv", actor_id=None)
    db.session.commit()
    assert person("ann@example.com").manager.email == "zed@example.com"


def test_manager_may_be_someone_already_in_touchpoints(app):
    make_employee("Existing Boss", email="boss@example.com")
    text = csv(row("ann@example.com", "Ann", manager="BOSS@example.com"))
    apply_import(text, filename="e.csv", actor_id=None)
    db.session.commit()
    assert person("ann@example.com").manager.email == "boss@example.com"


def test_a_reporting_loop_inside_the_file_is_refused_on_every_row_in_it(app):
    text = csv(row("a@example.com", "A", manager="b@example.com"),
               row("b@example.com", "B", manager="c@example.com"),
               row("c@example.com", "C", manager="a@example.com"),
               row("d@example.com", "D", manager="a@example.com"))
    found = validate_import(text).errors
    assert {(e.row, e.column) for e in found} == {(2, "manager_email"), (3, "manager_email"),
                                                  (4, "manager_email")}
    assert all("reporting loop" in e.message for e in found)


def test_a_reporting_loop_through_people_already_here_is_refused(app):
    # Today: top <- middle <- bottom (bottom reports to middle, middle to top).
    top = make_employee("Top", email="top@example.com")
    middle = make_employee("Middle", email="middle@example.com", manager=top)
    make_employee("Bottom", email="bottom@example.com", manager=middle)
    # The file only says the top now reports to the bottom: top -> bottom -> middle -> top.
    text = csv(row("top@example.com", "Top", manager="bottom@example.com"))
    (problem,) = validate_import(text).errors
    assert (problem.row, problem.column) == (2, "manager_email")
    assert "top@example.com → bottom@example.com → middle@example.com → top@example.com" in \
        problem.message


def test_a_file_with_one_bad_row_writes_nothing(app):
    make_employee("Existing", email="existing@example.com", job_title="Old")
    text = csv(row("existing@example.com", "Existing", title="New title"),
               row("new1@example.com", "New One", team="Brand New Team"),
               row("new2@example.com", "New Two", tz="Nowhere/Land"))
    with pytest.raises(ImportRejected) as rejected:
        apply_import(text, filename="bad.csv", actor_id=None)
    assert [(e.row, e.column) for e in rejected.value.preview.errors] == [(4, "time_zone")]
    db.session.commit()
    assert count(Employee) == 1 and count(Team) == 0 and count(AuditEntry) == 0
    assert person("existing@example.com").job_title == "Old"


def test_a_failure_while_writing_leaves_nothing_behind(app, monkeypatch):
    from touchpoints.people import importer

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(importer, "_write_logins", broken)
    text = csv(row("ann@example.com", "Ann", team="Fresh Team"))
    with pytest.raises(RuntimeError):
        apply_import(text, filename="f.csv", actor_id=None)
    db.session.commit()
    assert count(Employee) == 0 and count(Team) == 0


def test_formula_like_cells_are_kept_as_text(app):
    text = csv(row("ann@example.com", "+Ann", title="=SUM(A1)"),
               row("bob@example.com", "@Bob", title="-2+3", team="=HYPERLINK(\"x\")"))
    apply_import(text, filename="g.csv", actor_id=None)
    db.session.commit()
    ann, bob = person("ann@example.com"), person("bob@example.com")
    assert (ann.full_name, ann.job_title) == ("+Ann", "=SUM(A1)")
    assert (bob.full_name, bob.job_title, bob.team.name) == ("@Bob", "-2+3", '=HYPERLINK("x")')
    assert validate_import(text).summary() == "0 new, 0 updated, 2 unchanged"


def test_utf8_with_and_without_bom_and_windows_1252_all_read_the_same(app):
    text = csv(row("ines@example.com", "Inês Carvalho", title="Designer \u2013 Lead"))
    for data in (text.encode("utf-8"), b"\xef\xbb\xbf" + text.encode("utf-8"), text.encode("cp1252")):
        decoded = decode_upload(data)
        preview = validate_import(decoded)
        assert preview.ok
        assert preview.rows[0].values["full_name"] == "Inês Carvalho"
        assert preview.rows[0].values["job_title"] == "Designer \u2013 Lead"
    assert decode_upload(b"\xef\xbb\xbfemail").startswith("email")


def test_a_spreadsheet_workbook_is_refused_with_advice(app):
    with pytest.raises(ImportFileError, match="Save as"):
        decode_upload(b"PK\x03\x04rest-of-a-zip")


def test_roles_column_sets_roles_exactly(app):
    make_hr("Keeper HR", email="keeper@example.com")
    make_employee("Was Manager", email="was@example.com", roles={Role.MANAGER})
    text = ("email,name,country,time_zone,roles\n"
            "was@example.com,Was Manager,GB,Europe/London,\n"
            "new@example.com,New HR,GB,Europe/London,HR partner; manager\n")
    preview = validate_import(text)
    assert preview.summary() == "1 new, 1 updated, 0 unchanged"
    apply_import(text, filename="h.csv", actor_id=None)
    db.session.commit()
    roles = {e: db.session.scalar(select(User).join(User.employee).where(Employee.email == e)).roles
             for e in ("was@example.com", "new@example.com")}
    assert roles["was@example.com"] == {Role.EMPLOYEE}
    assert roles["new@example.com"] == {Role.EMPLOYEE, Role.HR_PARTNER, Role.MANAGER}
    assert validate_import(text).summary() == "0 new, 0 updated, 2 unchanged"


def test_role_flags_and_bad_values(app):
    text = ("email,name,country,time_zone,is_hr_partner,is_manager,roles\n"
            "a@example.com,A,GB,Europe/London,yes,no,\n"
            "b@example.com,B,GB,Europe/London,maybe,0,\n"
            "c@example.com,C,GB,Europe/London,,,boss\n")
    preview = validate_import(text)
    assert {(e.row, e.column) for e in preview.errors} == {(3, "is_hr_partner"), (4, "roles")}
    assert preview.rows[0].roles == {Role.EMPLOYEE, Role.HR_PARTNER}


def test_status_and_exit_date_rules(app):
    text = ("email,name,country,time_zone,status,start_date,exit_date\n"
            "a@example.com,A,GB,Europe/London,on leave,2024-01-01,\n"
            "b@example.com,B,GB,Europe/London,retired,2024-01-01,\n"
            "c@example.com,C,GB,Europe/London,,2024-01-01,2023-12-31\n"
            "d@example.com,D,GB,Europe/London,,,\n")
    preview = validate_import(text)
    assert {(e.row, e.column) for e in preview.errors} == {(3, "status"), (4, "exit_date")}
    assert preview.rows[0].values["status"] is LifecycleStatus.ON_LEAVE
    assert "status" not in preview.rows[3].values  # blank: active for someone new


def test_quoted_cells_with_commas_and_line_breaks_keep_row_numbers_right(app):
    text = ('email,name,country,time_zone,job_title\n'
            'a@example.com,"Smith, Ann",GB,Europe/London,"Head of\nThings"\n'
            'b@example.com,Bob,GB,Europe/Nowhere,Chef\n')
    preview = validate_import(text)
    assert preview.rows[0].values["full_name"] == "Smith, Ann"
    assert [(e.row, e.column) for e in preview.errors] == [(4, "time_zone")]


def test_empty_files_are_explained(app):
    assert [e.message for e in validate_import("").errors] == [
        "The file is empty; it needs a header row and one row per person."]
    assert "no people" in validate_import("email,name,country,time_zone\n").errors[0].message


def test_validation_loads_existing_people_in_a_fixed_number_of_queries(app):
    for n in range(30):
        make_employee(f"Existing {n}", email=f"e{n}@example.com")
    text = csv(*(row(f"e{n}@example.com", f"Existing {n}", manager="e0@example.com" if n else "")
                 for n in range(30)), *(row(f"n{n}@example.com", f"New {n}") for n in range(30)))
    with count_queries() as queries:
        preview = validate_import(text)
    assert preview.ok
    assert queries.count <= 3, queries.report()


def test_new_hires_and_moved_start_dates_reach_the_journeys(app):
    from touchpoints.journeys.models import LifecycleEvent, LifecycleEventKind

    make_employee("Sol Starter", email="sol@example.com", status=LifecycleStatus.PRE_BOARDING,
                  start_date=date(2031, 5, 5))
    text = ("email,name,country,time_zone,status,start_date\n"
            "sol@example.com,Sol Starter,GB,Europe/London,pre_boarding,2031-06-02\n"
            "neo@example.com,Neo Newhire,GB,Europe/London,pre_boarding,2031-06-02\n"
            "old@example.com,Old Hand,GB,Europe/London,active,2015-01-05\n")
    apply_import(text, filename="starters.csv", actor_id=None)
    db.session.commit()
    events = {(e.employee.email, e.kind) for e in db.session.scalars(select(LifecycleEvent))}
    assert events == {("neo@example.com", LifecycleEventKind.HIRE),
                      ("sol@example.com", LifecycleEventKind.START_DATE_MOVED)}
    apply_import(text, filename="starters.csv", actor_id=None)  # the same file again: no new events
    db.session.commit()
    assert count(LifecycleEvent) == 2


def test_an_exit_date_before_the_start_date_already_held_is_refused(app):
    make_employee("Ann Held", email="ann@example.com", start_date=date(2024, 6, 3))
    text = "email,name,country,time_zone,exit_date\nann@example.com,Ann Held,GB,Europe/London,2024-05-31\n"
    (problem,) = validate_import(text).errors
    assert (problem.row, problem.column) == (2, "exit_date")
    assert "start date held today: 2024-06-03" in problem.message


def test_a_flag_column_only_sets_its_own_role(app):
    hr = make_hr("Hana HR", email="hana@example.com")
    text = ("email,name,is_manager\n"
            f"{hr.email},Hana HR,yes\n")
    apply_import(text, filename="flags.csv", actor_id=None)
    db.session.commit()
    user = db.session.scalar(select(User).where(User.employee_id == hr.id))
    assert user.roles == {Role.EMPLOYEE, Role.HR_PARTNER, Role.MANAGER}


def test_a_roles_column_cannot_take_away_the_last_hr_partner(app):
    hr = make_hr("Hana HR", email="hana@example.com")
    make_hr("Gone HR", email="gone@example.com", deactivated_at=utcnow())
    text = "email,name,roles\nhana@example.com,Hana HR,manager\n"
    (problem,) = validate_import(text).errors
    assert (problem.row, problem.column) == (2, "roles")
    assert "last active HR partner" in problem.message
    # Handing the role to someone new in the same file is fine.
    text += "nia@example.com,Nia New,hr_partner\n"
    assert validate_import(text).ok
    apply_import(text, filename="handover.csv", actor_id=None)
    db.session.commit()
    assert db.session.scalar(select(User).where(User.employee_id == hr.id)).roles == {
        Role.EMPLOYEE, Role.MANAGER}
