"""The CSV import pages and `flask people import`: upload, preview, commit, limits, permissions."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from tests.factories import DEFAULT_PASSWORD, make_employee, make_hr, make_manager
from touchpoints.audit.models import AuditEntry
from touchpoints.extensions import db
from touchpoints.people.models import Employee, ImportBatch

GOOD = ("email,name,manager_email,team,country,time_zone,start_date,job_title\n"
        "ada@example.com,Ada Lovelace,,Engineering,GB,Europe/London,2025-03-03,=SUM(A1)\n"
        "bob@example.com,Bob Byte,ada@example.com,Engineering,GB,Europe/London,2025-03-03,<b>Dev</b>\n")
BAD = GOOD.replace("Europe/London,2025-03-03,<b>", "Europe/Londres,2025-03-03,<b>")


def upload(client, text: str | bytes, filename: str = "people.csv"):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return client.post("/people/import", data={"csv_file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def people_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Employee))


def test_the_upload_page_has_a_labelled_file_input(client, login):
    login(make_hr())
    page = client.get("/people/import").get_data(as_text=True)
    assert '<label class="field__label" for="csv_file">CSV file</label>' in page
    assert 'type="file"' in page and 'enctype="multipart/form-data"' in page


def test_upload_preview_then_import(client, login):
    login(make_hr())
    response = upload(client, GOOD)
    assert response.status_code == 302
    preview = client.get(response.location).get_data(as_text=True)
    assert "2 new, 0 updated, 0 unchanged" in preview
    assert "New teams will be created: Engineering." in preview
    # Cells that look like formulas or markup are shown as the plain text they are.
    assert "=SUM(A1)" in preview and "&lt;b&gt;Dev&lt;/b&gt;" in preview and "<b>Dev" not in preview
    assert ">Import 2 people</button>" in preview
    assert people_count() == 1  # only the HR partner: nothing is written before the commit

    done = client.post(response.location, follow_redirects=True)
    page = done.get_data(as_text=True)
    assert "Import finished: 2 new, 0 updated, 0 unchanged." in page
    assert "Ada Lovelace" in page and "Bob Byte" in page
    ada = db.session.scalar(select(Employee).where(Employee.email == "ada@example.com"))
    assert ada.job_title == "=SUM(A1)"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "people.imported"))
    assert entry.after["filename"] == "people.csv" and entry.after["created"] == 2


def test_a_file_with_only_the_required_columns_previews_and_imports(client, login):
    login(make_hr())
    minimal = "email,name,time_zone\ncy@example.com,Cy Minimal,Europe/Paris\n"
    response = upload(client, minimal)
    preview = client.get(response.location)
    assert preview.status_code == 200
    assert ">Import 1 person</button>" in preview.get_data(as_text=True)
    client.post(response.location)
    assert db.session.scalar(select(Employee).where(Employee.email == "cy@example.com")).job_title == ""


def test_a_file_with_a_bad_row_shows_a_table_of_problems_and_imports_nothing(client, login):
    login(make_hr())
    response = upload(client, BAD)
    page = client.get(response.location).get_data(as_text=True)
    assert "<th scope=\"col\">Row</th><th scope=\"col\">Column</th><th scope=\"col\">Problem</th>" in page
    assert ('<tr><td class="num">3</td><td>time_zone</td><td>&#39;Europe/Londres&#39; is not a known '
            "IANA time zone") in page
    assert "Nothing has been imported" in page and "Import 1" not in page
    assert 'for="csv_file">CSV file</label>' in page  # the corrected file can be uploaded right here
    # Even a forced POST cannot import it.
    client.post(response.location)
    assert people_count() == 1
    fixed = upload(client, GOOD)
    client.post(fixed.location)
    assert people_count() == 3


def test_the_import_is_checked_again_when_committed(client, login):
    login(make_hr())
    response = upload(client, GOOD.replace("bob@example.com,Bob Byte,ada@example.com",
                                           "bob@example.com,Bob Byte,cy@example.com"))
    make_employee("Cy Sharp", email="cy@example.com")
    assert "2 new" in client.get(response.location).get_data(as_text=True)
    db.session.execute(Employee.__table__.delete().where(Employee.email == "cy@example.com"))
    db.session.commit()
    page = client.post(response.location, follow_redirects=True).get_data(as_text=True)
    assert "no longer imports cleanly" in page
    assert "No one in this file or in Touchpoints has the email cy@example.com" in page
    assert people_count() == 1


def test_a_staged_file_imports_once(client, login):
    login(make_hr())
    response = upload(client, GOOD)
    client.post(response.location)
    again = client.post(response.location, follow_redirects=True).get_data(as_text=True)
    assert "already imported" in again
    assert people_count() == 3
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "people.imported")) == 1
    batch = db.session.scalar(select(ImportBatch))
    assert batch.committed_at is not None and batch.content == ""  # the personal data is not kept


def test_reimporting_the_same_file_offers_nothing_to_do(client, login):
    login(make_hr())
    client.post(upload(client, GOOD).location)
    page = client.get(upload(client, GOOD).location).get_data(as_text=True)
    assert "0 new, 0 updated, 2 unchanged" in page and "Nothing to import" in page


def test_windows_1252_files_upload(client, login):
    login(make_hr())
    text = GOOD.replace("Ada Lovelace", "Adélaïde Lovelace")
    response = upload(client, text.encode("cp1252"))
    client.post(response.location)
    assert db.session.scalar(select(Employee.full_name).where(Employee.email == "ada@example.com")) \
        == "Adélaïde Lovelace"


def test_a_workbook_is_refused_on_the_upload_page(client, login):
    login(make_hr())
    response = upload(client, b"PK\x03\x04binary", filename="people.xlsx")
    assert response.status_code == 400
    assert "spreadsheet workbook, not a CSV file" in response.get_data(as_text=True)


def test_a_file_over_the_size_limit_gets_a_clear_413_page(make_app):
    app = make_app(MAX_CONTENT_LENGTH=2048)
    with app.app_context():
        hr = make_hr()
        client = app.test_client()
        client.post("/login", data={"email": hr.email, "password": DEFAULT_PASSWORD})
        big = GOOD + "x@example.com,X,,,GB,Europe/London,,\n" * 200
        response = upload(client, big)
        assert response.status_code == 413
        page = response.get_data(as_text=True)
        assert "That file is too large" in page and "split a large import" in page
        assert db.session.scalar(select(func.count()).select_from(ImportBatch)) == 0


@pytest.mark.parametrize("role", ["manager", "employee"])
def test_managers_and_employees_cannot_import(client, login, role):
    hr = make_hr()
    login(hr)
    staged = upload(client, GOOD).location
    client.post("/logout")
    login(make_manager() if role == "manager" else make_employee("Plain Person"))
    assert client.get("/people/import").status_code == 403
    assert upload(client, GOOD).status_code == 403
    assert client.get(staged).status_code == 403
    assert client.post(staged).status_code == 403
    assert db.session.scalar(select(Employee).where(Employee.email == "ada@example.com")) is None


# --- flask people import -------------------------------------------------------------------------

def test_cli_dry_run_reports_and_writes_nothing(runner, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text(GOOD, encoding="utf-8")
    result = runner.invoke(args=["people", "import", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Importing would give: 2 new, 0 updated, 0 unchanged." in result.output
    assert people_count() == 0


def test_cli_imports_and_is_idempotent(runner, tmp_path):
    path = tmp_path / "people.csv"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode("utf-8"))
    first = runner.invoke(args=["people", "import", str(path)])
    assert first.exit_code == 0, first.output
    assert "Imported people.csv: 2 new, 0 updated, 0 unchanged." in first.output
    again = runner.invoke(args=["people", "import", str(path)])
    assert "0 new, 0 updated, 2 unchanged" in again.output
    assert people_count() == 2


def test_cli_prints_each_problem_by_row_and_column_and_fails(runner, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(BAD + "ada@example.com,Ada Again,,,GB,Europe/London,,\n", encoding="utf-8")
    result = runner.invoke(args=["people", "import", str(path)])
    assert result.exit_code == 1
    assert "Row 3, time_zone: 'Europe/Londres' is not a known IANA time zone" in result.output
    assert "Row 4, email: ada@example.com is already on row 2" in result.output
    assert "2 problems in bad.csv; nothing was imported." in result.output
    assert people_count() == 0
