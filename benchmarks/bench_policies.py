"""Human-touch policy evaluation over 10,000 people and 200,000 touchpoints on SQLite (target < 1 s).

The history is six months of a believable company: monthly one-on-ones (mostly in person or by
video, some slipping to chat, some people left without for weeks), check-ins, training modules
done self-serve with a live discussion after most of them, pulse surveys, performance reviews
(a few logged over chat), new hires' first-week meetings with their manager and buddy, and open
touchpoints planned ahead. The shipped policy pack is loaded, plus an automation-streak policy, so
every rule kind with data to judge runs. The evaluation is timed in-process (the median of several
runs, each from a cold session), and its queries counted; the dry run of a change is timed too.
"""
from __future__ import annotations

import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta

from benchmarks.core import LARGE_SIZE, CompanyDatabase, Context, Result, at_most, run_alone

TOUCHPOINTS = 200_000
RUNS = 5
MAX_SECONDS = 1.0
NOW = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)
HISTORY_DAYS = 180
COLUMNS = ("employee_id", "kind", "title", "planned_mode", "owner_role", "owner_id", "due_at",
           "duration_minutes", "sensitive", "status", "status_reason", "actual_mode", "happened_at",
           "logged_by_id", "logged_at", "occurrence", "sequence", "confirmation_comment", "created_at",
           "updated_at")


def _people(app) -> list[tuple[int, int | None, date | None]]:
    from sqlalchemy import select

    from touchpoints.extensions import db
    from touchpoints.people.models import Employee, LifecycleStatus

    with app.app_context():
        rows = db.session.execute(
            select(Employee.id, Employee.manager_id, Employee.start_date)
            .where(Employee.deactivated_at.is_(None), Employee.status != LifecycleStatus.ALUMNI)
            .order_by(Employee.id).limit(LARGE_SIZE)).all()
        return [tuple(row) for row in rows]


def _history(people, rng: random.Random) -> tuple[list[tuple], list[tuple]]:
    """About TOUCHPOINTS rows of touchpoints, and buddy assignments for the recent starters."""
    rows: list[tuple] = []
    buddies: list[tuple] = []
    ids = [p[0] for p in people]

    def add(employee_id, owner_id, kind, mode, when, *, role="manager", done=True):
        planned = mode if rng.random() < 0.9 else "in_person"
        title = kind.replace("_", " ").capitalize()
        sensitive = kind in ("performance_review", "grievance_meeting")
        rows.append((employee_id, kind, title, planned, role, owner_id, when, 30, sensitive,
                     "done" if done else "scheduled", "", mode if done else None, when if done else None,
                     owner_id if done else None,
                     when + timedelta(hours=2) if done else None, 0, 0, "", when - timedelta(days=14), when))

    for employee_id, manager_id, start in people:
        owner = manager_id or employee_id
        if start and NOW.date() - timedelta(days=60) <= start <= NOW.date():
            first = datetime.combine(start, datetime.min.time(), tzinfo=UTC) + timedelta(hours=10)
            buddy = rng.choice(ids)
            buddies.append((employee_id, "buddy", buddy, start, None))
            add(employee_id, owner, "welcome", "in_person", first + timedelta(days=rng.choice([0, 0, 1, 8])))
            add(employee_id, buddy, "buddy_intro", rng.choice(["in_person", "video", "video", "chat"]),
                first + timedelta(days=rng.choice([1, 2, 3, 9])), role="buddy")
        # Most managers keep a rhythm within the month; some let it slip.
        cadence = rng.choices([14, 21, 28, 30, 40, 60], [25, 20, 25, 15, 10, 5])[0]
        modes = ["in_person", "video", "phone", "chat"]
        day = NOW - timedelta(days=HISTORY_DAYS - rng.randint(0, cadence))
        while day < NOW - timedelta(hours=6):
            add(employee_id, owner, "one_on_one", rng.choices(modes, [12, 8, 2, 1])[0], day)
            day += timedelta(days=cadence + rng.randint(-2, 2))
        day = NOW - timedelta(days=HISTORY_DAYS - rng.randint(0, 28))
        while day < NOW - timedelta(hours=6):
            add(employee_id, employee_id, "pulse_survey", "self_serve", day, role="employee")
            day += timedelta(days=28)
        day = NOW - timedelta(days=HISTORY_DAYS - rng.randint(0, 40))
        while day < NOW - timedelta(hours=6):
            add(employee_id, employee_id, "training_module", "self_serve", day, role="employee")
            if rng.random() < 0.9 and day + timedelta(days=9) < NOW:  # a few are late or never happen
                later = day + timedelta(days=rng.choices([1, 2, 3, 5, 6, 9], [20, 25, 25, 15, 10, 5])[0])
                add(employee_id, owner, "live_discussion", "video", later, role="hr_partner")
            day += timedelta(days=rng.randint(30, 50))
        review_mode = rng.choices(["in_person", "video", "chat"], [40, 3, 1])[0]
        add(employee_id, owner, "performance_review", review_mode, NOW - timedelta(days=rng.randint(1, 180)))
        add(employee_id, owner, "check_in", rng.choice(modes), NOW - timedelta(days=rng.randint(1, 180)))
        add(employee_id, owner, "one_on_one", "in_person", NOW + timedelta(days=rng.randint(1, 30)),
            done=False)
    # Exactly TOUCHPOINTS rows: drop some surveys, or plan more ahead.
    rng.shuffle(rows)
    while len(rows) < TOUCHPOINTS:
        employee_id, owner = rows[len(rows) % len(people)][0], rows[len(rows) % len(people)][5]
        add(employee_id, owner, "check_in", "video", NOW + timedelta(days=rng.randint(1, 60)), done=False)
    surplus = len(rows) - TOUCHPOINTS
    if surplus > 0:
        surveys = [i for i, row in enumerate(rows) if row[1] == "pulse_survey"][:surplus]
        dropped = set(surveys)
        rows = [row for i, row in enumerate(rows) if i not in dropped]
    return rows[:TOUCHPOINTS], buddies


def _write(company: CompanyDatabase, ctx: Context) -> int:
    from sqlalchemy import func, select, text

    from touchpoints.extensions import db
    from touchpoints.journeys.models import Touchpoint
    from touchpoints.policies.services import DEFAULT_POLICY_DIR, create_policy, load_policy_files
    from touchpoints.policies.services import activate as activate_version

    app = company.app()
    people = _people(app)
    rows, buddies = _history(people, random.Random(2026))
    with app.app_context():
        connection = db.engine.raw_connection()
        try:
            cursor = connection.cursor()
            sql = (f"INSERT INTO touchpoints ({', '.join(COLUMNS)}) "  # noqa: S608 - this module's constants
                   f"VALUES ({', '.join('?' for _ in COLUMNS)})")
            stamp = "%Y-%m-%d %H:%M:%S.%f"
            cursor.executemany(sql, [tuple(v.astimezone(UTC).strftime(stamp) if isinstance(v, datetime) else v
                                           for v in row) for row in rows])
            cursor.executemany("INSERT INTO support_assignments (employee_id, kind, partner_id, started_on, "
                               "ended_on, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                               [(*b[:3], b[3].isoformat(), b[4], NOW.strftime(stamp)) for b in buddies])
            connection.commit()
        finally:
            connection.close()
        db.session.execute(text("ANALYZE"))
        load_policy_files([DEFAULT_POLICY_DIR])
        activate_version(create_policy({
            "key": "automation-streak", "name": "No more than 4 automated moments in a row",
            "rule": "automation_streak", "severity": "warn", "params": {"max_in_a_row": 4}}, actor_id=None),
            actor_id=None)
        db.session.commit()
        written = db.session.scalar(select(func.count()).select_from(Touchpoint))
        db.engine.dispose()
    ctx.log(f"wrote {written:,} touchpoints for {len(people):,} people and loaded the policy pack")
    return written


def _count_statements(engine, work) -> int:
    """How many SQL statements a piece of work sends."""
    from sqlalchemy import event

    seen: list[str] = []

    def on_execute(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
    return len(seen)


def run(ctx: Context) -> list[Result]:
    """Time a full evaluation and a dry run over the company."""
    from touchpoints.extensions import db
    from touchpoints.policies import services
    from touchpoints.policies.engine import evaluate

    company = ctx.company(LARGE_SIZE + LARGE_SIZE // 10, fresh="policies")
    written = _write(company, ctx)
    app = company.app()
    timings, cpu = [], []
    with app.app_context():
        evaluate(now=NOW)  # warm the page cache and the zone caches, as a running server would be
        db.session.remove()
        for _ in range(RUNS):
            started, cpu_started = time.perf_counter(), time.process_time()
            report = evaluate(now=NOW)
            timings.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
            db.session.remove()
        statements = _count_statements(db.engine, lambda: evaluate(now=NOW))
        item = services.policy_by_key("one-on-one-every-30-days")
        draft = services.save_draft(item, {**services.spec_of(services.active_version(item)).as_data(),
                                           "params": {"days": 14}}, actor_id=None)
        started = time.perf_counter()
        dry = services.dry_run_version(draft, now=NOW)
        dry_seconds = time.perf_counter() - started
        db.session.rollback()
        people, violations = report.people_out_of_compliance, len(report.violations)
        covered = len(report.people)
        db.engine.dispose()
    median = statistics.median(timings)
    ctx.log(f"evaluation: median {median:.3f}s over {RUNS} runs; {violations:,} violations")
    return [
        Result(f"evaluate {len(report.policies)} policies, {covered:,} people / {written:,} touchpoints",
               median, "s", at_most(MAX_SECONDS),
               note=f"median of {RUNS}; best {min(timings):.3f} s; {statistics.median(cpu):.3f} s of CPU"),
        Result("queries per evaluation", statements, "", at_most(12)),
        Result("violations found (for information)", violations, "",
               note=f"{people:,} people out of compliance"),
        Result("dry run of a change (one-on-one every 14 days instead of 30)", dry_seconds, "s",
               note=f"would put {dry.people:,} people out of compliance (now {dry.current_people:,})"),
    ]


if __name__ == "__main__":
    raise SystemExit(run_alone(__spec__.name))
