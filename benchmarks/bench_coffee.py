"""Coffee pairing round for 10,000 participants on SQLite (target: a few seconds, here < 5 s).

10,000 people of the synthetic company opt in every week, in their own time zones and teams. Four
weekly rounds run one after another through the real service, so the later rounds carry the
earlier rounds' pairs as history (never paired twice within the window). Each round is timed
whole (reading participants and history, pairing, writing the groups, 10,000 coffee-chat
touchpoints and 10,000 introductions into the outbox, committing); the pairing alone (in memory,
the same participants and history) is timed too.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, date, datetime

from benchmarks.core import LARGE_SIZE, Context, Result, at_most, run_alone

PARTICIPANTS = 10_000
ROUNDS = 4
MAX_SECONDS = 5.0
FIRST_ROUND = date(2026, 3, 2)  # a Monday; the third round falls in the weeks between the clock changes


def _opt_in(app, ctx: Context) -> int:
    from sqlalchemy import insert, select

    from touchpoints.coffee.models import CoffeeParticipant
    from touchpoints.coffee.services import TAKING_PART_STATUSES
    from touchpoints.extensions import db
    from touchpoints.people.models import Employee

    with app.app_context():
        ids = db.session.scalars(
            select(Employee.id)
            .where(Employee.deactivated_at.is_(None), Employee.status.in_(TAKING_PART_STATUSES))
            .order_by(Employee.id)
            .limit(PARTICIPANTS)
        ).all()
        joined = datetime(2026, 2, 1, tzinfo=UTC)
        db.session.execute(
            insert(CoffeeParticipant),
            [
                {
                    "employee_id": i,
                    "active": True,
                    "frequency_weeks": 1,
                    "joined_at": joined,
                    "updated_at": joined,
                }
                for i in ids
            ],
        )
        zones = db.session.execute(select(Employee.timezone).where(Employee.id.in_(ids)).distinct()).all()
        db.session.commit()
        db.engine.dispose()
    ctx.log(f"opted in {len(ids):,} people in {len(zones)} time zones")
    return len(ids)


def run(ctx: Context) -> list[Result]:
    """Run weekly rounds over 10,000 participants and time them."""
    from datetime import timedelta

    from touchpoints.coffee import services
    from touchpoints.coffee.pairing import pair_up
    from touchpoints.extensions import db

    company = ctx.company(LARGE_SIZE + LARGE_SIZE // 5, fresh="coffee")  # 10,000 of them at work
    app = company.app()
    opted = _opt_in(app, ctx)
    timings, cpu, pairing_only = [], [], []
    last = None
    with app.app_context():
        for week in range(ROUNDS):
            day = FIRST_ROUND + timedelta(weeks=week)
            plan = services.plan_round(
                day, seed=week
            )  # the same reads the round does, for the in-memory timing
            blocked, earlier = services._history(day, plan.window_days)
            started = time.perf_counter()
            pair_up(
                list(plan.participants.values()),
                seed=week,
                min_overlap=plan.min_overlap,
                blocked=blocked,
                met_before=earlier,
                window_days=plan.window_days,
                round_on=day,
            )
            pairing_only.append(time.perf_counter() - started)
            db.session.rollback()
            started, cpu_started = time.perf_counter(), time.process_time()
            last = services.run_round(day, seed=week)
            db.session.commit()
            timings.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
            ctx.log(
                f"round of {day}: {last.participants:,} due, {last.pairs:,} pairs, {last.trios} trio(s), "
                f"{last.unpaired} unpaired, {last.cross_team_share:.0%} across teams in {timings[-1]:.2f}s"
            )
            db.session.remove()
        db.engine.dispose()
    assert last is not None
    return [
        Result(
            f"pairing round, {opted:,} participants (read, pair, write, commit)",
            max(timings),
            "s",
            at_most(MAX_SECONDS),
            note=f"slowest of {ROUNDS} weekly rounds; median {statistics.median(timings):.2f} s; "
            f"{statistics.median(cpu):.2f} s of CPU; {last.pairs:,} pairs, {last.trios} group(s) of three, "
            f"{last.unpaired} unpaired",
        ),
        Result(
            "pairing alone, in memory (same participants and history)",
            max(pairing_only),
            "s",
            note=f"median {statistics.median(pairing_only):.2f} s",
        ),
        Result(
            "groups across teams in the last round (for information)", 100 * (last.cross_team_share or 0), "%"
        ),
    ]


if __name__ == "__main__":
    raise SystemExit(run_alone(__spec__.name))
