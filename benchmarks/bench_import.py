"""CSV import of 10,000 people through the real importer: preview, import, re-import, all or nothing."""
from __future__ import annotations

import csv
import io

from sqlalchemy import func, select

from benchmarks.company import Company, plan_company, write_csv
from benchmarks.core import (
    LARGE_SIZE,
    Context,
    Result,
    Stopwatch,
    at_most,
    below,
    make_app,
    run_alone,
)

MAX_SECONDS = 5.0
CHANGED_ROWS = 1_000


def _counts() -> tuple[int, int]:
    from touchpoints.auth.models import User
    from touchpoints.extensions import db
    from touchpoints.people.models import Employee

    return (db.session.scalar(select(func.count()).select_from(Employee)),
            db.session.scalar(select(func.count()).select_from(User)))


def _rewrite(text: str, change) -> str:
    """The CSV text with change(header, data_rows) applied to its rows."""
    rows = list(csv.reader(io.StringIO(text)))
    change(rows[0], rows[1:])
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()


def _changed(text: str, every: int) -> str:
    """The same file with every n-th person's job title and location changed (HR's next export)."""
    def change(header: list[str], rows: list[list[str]]) -> None:
        title, location = header.index("job_title"), header.index("location")
        for row in rows[::every]:
            row[title] = f"Senior {row[title]}"[:200]
            row[location] = "Remote"

    return _rewrite(text, change)


def _broken(text: str) -> str:
    """The same file with an unknown time zone on its very last row."""
    def change(header: list[str], rows: list[list[str]]) -> None:
        rows[-1][header.index("time_zone")] = "Europe/Atlantis"

    return _rewrite(text, change)


def run(ctx: Context) -> list[Result]:
    """Time preview, import and re-import of a 10,000-row file; check a bad row writes nothing."""
    from touchpoints.extensions import db
    from touchpoints.people import importer

    company: Company = plan_company(LARGE_SIZE)
    csv_path = ctx.path(f"people-{LARGE_SIZE}.csv")
    rows = write_csv(company, csv_path)
    data = csv_path.read_bytes()
    ctx.log(f"wrote {rows:,} rows to {csv_path.name} ({len(data) / 1024:.0f} KB)")
    app = make_app(ctx.empty_database("import.sqlite"))
    results: list[Result] = []
    with app.app_context():
        with Stopwatch() as preview_time:
            preview = importer.validate_import(importer.decode_upload(data))
        db.session.rollback()
        if not preview.ok:
            raise RuntimeError(f"the generated file does not validate: {preview.errors[:3]}")
        results.append(Result(f"preview {rows:,} rows (validate only, as the upload page)",
                              preview_time.wall, "s", below(MAX_SECONDS), note=preview_time.note))

        # All or nothing: the same file with its last row wrong writes none of the other rows.
        with Stopwatch() as reject_time:
            try:
                importer.apply_import(_broken(data.decode("utf-8")), filename="one-bad-row.csv",
                                      actor_id=None)
            except importer.ImportRejected as rejected:
                problems = len(rejected.preview.errors)
            else:
                db.session.commit()
                problems = 0
        db.session.rollback()
        written = _counts()[0]
        results += [
            Result(f"people written from a {rows:,}-row file with one bad row", written, "rows",
                   at_most(0), note=f"{problems} problem(s) reported"),
            Result("time to reject that file", reject_time.wall, "s", below(MAX_SECONDS),
                   note=reject_time.note),
        ]

        with Stopwatch() as import_time:
            outcome = importer.apply_import(importer.decode_upload(data), filename=csv_path.name,
                                            actor_id=None)
            db.session.commit()
        people, logins = _counts()
        if outcome.created != rows or people != rows or logins != rows:
            raise RuntimeError(f"the import wrote {people} people and {logins} logins from {rows} rows")
        results.append(Result(f"import {rows:,} new people (validate, write, commit)",
                              import_time.wall, "s", below(MAX_SECONDS),
                              note=f"{import_time.note}, {rows / import_time.wall:,.0f} rows/s"))

        changed = _changed(importer.decode_upload(data), LARGE_SIZE // CHANGED_ROWS)
        with Stopwatch() as update_time:
            outcome = importer.apply_import(changed, filename="changed.csv", actor_id=None)
            db.session.commit()
        results.append(Result(f"re-import {rows:,} rows, {outcome.updated:,} changed",
                              update_time.wall, "s", below(MAX_SECONDS),
                              note=f"{update_time.note}; {outcome.summary()}"))
        db.engine.dispose()
    return results


if __name__ == "__main__":
    raise SystemExit(run_alone(__spec__.name))
