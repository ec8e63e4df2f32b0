"""Bulk enrolment of 10,000 people in a 12-touchpoint journey, against a plain executemany of the rows.

Email is set up (an SMTP host nothing is sent to), and the enrolment starts today, so the journey's
first one-on-one falls within the invitation window: both people's calendar invitations are queued
in the same transaction and counted among the rows the baseline writes.
"""
from __future__ import annotations

import time

from sqlalchemy import func, select, text

from benchmarks.core import LARGE_SIZE, CompanyDatabase, Context, Result, at_most, run_alone

MAX_RATIO = 3.0
# The synthetic company has leavers too; a slightly larger one gives 10,000 people still here.
COMPANY_SIZE = LARGE_SIZE + LARGE_SIZE // 10
ENROLMENT_COLUMNS = ("employee_id", "journey_id", "journey_key", "status", "enrolled_at", "enrolled_by_id",
                     "source", "materialised_until", "ended_at", "end_reason")
TOUCHPOINT_COLUMNS = (
    "employee_id", "enrolment_id", "template_id", "occurrence", "kind", "title", "planned_mode",
    "owner_role", "owner_id", "anchor", "due_at", "duration_minutes", "sensitive", "status",
    "status_reason", "actual_mode", "happened_at", "logged_by_id", "logged_at", "confirmation",
    "confirmed_at", "confirmation_comment", "sequence", "created_at", "updated_at",
)
NUDGE_COLUMNS = (
    "dedup_key", "kind", "recipient_id", "team_id", "touchpoint_id", "channel", "status", "payload",
    "next_attempt_at", "expires_at", "attempts", "last_error", "bundled", "created_at", "updated_at",
)


def _programme() -> dict:
    """The shipped onboarding journey's twelve moments, anchored on the enrolment itself.

    Everyone in the synthetic company has long since started, so onboarding as shipped would plan
    nothing for them; a programme that starts on enrolment plans all twelve moments for each person,
    with the same mix of working-day and calendar-day offsets, modes and owners.
    """
    from touchpoints.journeys.defaults import DEFAULTS_DIR, read_journey_file

    data = read_journey_file(DEFAULTS_DIR / "onboarding.yaml")
    for moment in data["touchpoints"]:
        moment["anchor"] = "enrolment"
        moment["offset"] = abs(moment.get("offset") or 0)
    return {**data, "key": "bench-programme", "name": "Benchmark programme", "enrols_on": None}


def _prepare(company: CompanyDatabase):
    """The app on a fresh copy of the company, with the programme active; returns (app, journey id)."""
    from touchpoints.extensions import db
    from touchpoints.journeys.templates import create_journey

    app = company.app(SMTP_HOST="127.0.0.1")  # invitations are queued, never sent here
    with app.app_context():
        journey = create_journey(_programme(), actor_id=None, activate=True)
        db.session.commit()
        return app, journey.id


def _timed_enrolment(company: CompanyDatabase) -> tuple[float, float, int, int, list, list, list, float]:
    """Enrol everyone; returns timings, counts and the rows written (for the baseline)."""
    from touchpoints.extensions import db
    from touchpoints.journeys.enrolment import enrol_many
    from touchpoints.journeys.models import JourneyTemplate
    from touchpoints.people.models import Employee

    app, journey_id = _prepare(company)
    with app.app_context():
        journey = db.session.get(JourneyTemplate, journey_id)
        ids = list(db.session.scalars(
            select(Employee.id).where(Employee.status != "alumni", Employee.deactivated_at.is_(None))
            .order_by(Employee.id).limit(LARGE_SIZE)))
        started, cpu = time.perf_counter(), time.process_time()
        result = enrol_many(ids, journey, actor_id=None, source="benchmark")
        db.session.commit()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu

        started = time.perf_counter()
        again = enrol_many(ids, journey, actor_id=None, source="benchmark")
        db.session.commit()
        again_seconds = time.perf_counter() - started

        # The rows exactly as stored, in the driver's own types, for the executemany baseline.
        raw = db.session.connection().exec_driver_sql
        # Column names are constants of this module, never input.
        enrolments = raw(f"SELECT {', '.join(ENROLMENT_COLUMNS)} FROM enrolments ORDER BY id").all()  # noqa: S608
        touchpoints = raw(f"SELECT {', '.join(TOUCHPOINT_COLUMNS)} FROM touchpoints ORDER BY id").all()  # noqa: S608
        nudges = raw(f"SELECT {', '.join(NUDGE_COLUMNS)} FROM nudges ORDER BY id").all()  # noqa: S608
        db.session.rollback()
        db.engine.dispose()
    if result.enrolled != len(ids) or again.enrolled or again.touchpoints_created:
        raise RuntimeError(f"enrolled {result.enrolled} of {len(ids)}, then {again.enrolled} again")
    if not nudges:
        raise RuntimeError("no calendar invitation was queued")
    return (seconds, cpu, result.enrolled, result.touchpoints_created,
            [tuple(r) for r in enrolments], [tuple(r) for r in touchpoints], [tuple(r) for r in nudges],
            again_seconds)


def _insert(table: str, columns: tuple[str, ...]) -> str:
    """A plain parameterised INSERT (table and column names are this module's constants)."""
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"  # noqa: S608


def _timed_executemany(company: CompanyDatabase, enrolments: list, touchpoints: list,
                       nudges: list) -> tuple[float, float]:
    """The same rows written with the driver's executemany in one transaction, nothing else."""
    from touchpoints.extensions import db

    app, _ = _prepare(company)
    with app.app_context():
        connection = db.engine.raw_connection()
        try:
            cursor = connection.cursor()
            started, cpu = time.perf_counter(), time.process_time()
            cursor.executemany(_insert("enrolments", ENROLMENT_COLUMNS), enrolments)
            cursor.executemany(_insert("touchpoints", TOUCHPOINT_COLUMNS), touchpoints)
            cursor.executemany(_insert("nudges", NUDGE_COLUMNS), nudges)
            connection.commit()
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        finally:
            connection.close()
        written = db.session.scalar(select(func.count()).select_from(text("touchpoints")))
        db.engine.dispose()
    if written != len(touchpoints):
        raise RuntimeError(f"the baseline wrote {written} of {len(touchpoints)} rows")
    return seconds, cpu


def run(ctx: Context) -> list[Result]:
    """Time the bulk enrolment service and the bare executemany on identical fresh copies."""
    enrol_db = ctx.company(COMPANY_SIZE, fresh="enrol")
    seconds, cpu, people, planned, enrolments, touchpoints, nudges, again = _timed_enrolment(enrol_db)
    ctx.log(f"enrolled {people:,} people, {planned:,} touchpoints, {len(nudges):,} calendar invitations "
            f"in {seconds:.2f}s")
    baseline, baseline_cpu = _timed_executemany(ctx.company(COMPANY_SIZE, fresh="enrol-baseline"), enrolments,
                                                touchpoints, nudges)
    rows = len(enrolments) + len(touchpoints) + len(nudges)
    ctx.log(f"plain executemany of the same {rows:,} rows: {baseline:.2f}s")
    return [
        Result(f"enrol {people:,} people x 12 touchpoints (enrol_many, commit)", seconds, "s",
               note=f"{planned:,} touchpoints + {people:,} enrolments + {len(nudges):,} calendar "
                    f"invitations; {cpu:.2f} s of CPU"),
        Result("plain executemany of the same rows (sqlite3, one transaction)", baseline, "s",
               note=f"{baseline_cpu:.2f} s of CPU"),
        Result("bulk enrolment / plain executemany (wall clock)", seconds / baseline, "x",
               at_most(MAX_RATIO)),
        Result("bulk enrolment / plain executemany (CPU time: steadier on a busy machine)",
               cpu / baseline_cpu, "x"),
        Result(f"enrol the same {people:,} again (nothing created)", again, "s"),
    ]


if __name__ == "__main__":
    raise SystemExit(run_alone(__spec__.name))
