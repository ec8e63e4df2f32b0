"""Buddy and mentor suggestions at 10,000 people on SQLite (target: a person's list in 150 ms of CPU).

The synthetic company of 10,000 people loads the shipped programmes; 2,000 of them already have a
buddy (some buddies at the cap) so load counts and the cap matter. Suggestions for 40 people,
spread over teams and time zones, are timed through the real service from a cold session, with
their queries counted (one, whatever the size). The figure is CPU time: this machine is shared,
so wall-clock time mostly measures the other work (its median is in the note). Making a pair
(assignment, enrolment, the journey's meetings, notes to both) and the programme's figures are
timed too.
"""
from __future__ import annotations

import random
import statistics
import time
from datetime import date

from benchmarks.core import LARGE_SIZE, Context, Result, Stopwatch, at_most, run_alone

PEOPLE_ASKED = 40
EXISTING_PAIRS = 2_000
MAX_SUGGESTION_SECONDS = 0.15


def _existing_load(app, rng: random.Random) -> list[int]:
    """Buddy assignments for 2,000 people (their buddies from anywhere), and the ids of people at work."""
    from sqlalchemy import insert, select

    from touchpoints.extensions import db
    from touchpoints.journeys.models import SupportAssignment, SupportKind
    from touchpoints.people.models import Employee, LifecycleStatus
    from touchpoints.programmes.defaults import load_default_programmes

    with app.app_context():
        load_default_programmes()
        ids = list(db.session.scalars(select(Employee.id).where(Employee.status == LifecycleStatus.ACTIVE,
                                                                Employee.deactivated_at.is_(None))
                                      .order_by(Employee.id)))
        buddies = rng.sample(ids, 1_200)
        mentees = rng.sample(ids, EXISTING_PAIRS)
        db.session.execute(insert(SupportAssignment), [
            {"employee_id": mentee, "kind": SupportKind.BUDDY, "partner_id": rng.choice(buddies),
             "started_on": date(2026, 1, 5)} for mentee in mentees if mentee not in buddies])
        db.session.commit()
        db.engine.dispose()
    return ids


def run(ctx: Context) -> list[Result]:
    """Time suggestions, making a pair, and the programme's figures at 10,000 people."""
    from sqlalchemy import event, select

    from touchpoints.auth.models import Role, User, UserRole
    from touchpoints.extensions import db
    from touchpoints.people.models import Employee
    from touchpoints.programmes.models import Programme
    from touchpoints.programmes.services import (
        ProgrammeError,
        create_match,
        programme_figures,
        suggestions_for,
    )

    rng = random.Random(8)
    company = ctx.company(LARGE_SIZE + LARGE_SIZE // 5, fresh="programmes")
    app = company.app()
    ids = _existing_load(app, rng)
    ctx.log(f"{len(ids):,} people at work; {EXISTING_PAIRS:,} buddy pairs already")
    asked = rng.sample(ids, PEOPLE_ASKED)
    timings: list[float] = []
    cpu: list[float] = []
    statements: list[int] = []
    with app.app_context():
        buddy = db.session.scalar(select(Programme).where(Programme.key == "new-hire-buddy"))
        buddy.load_cap = 3
        db.session.commit()
        buddy_id = buddy.id
        seen: list[str] = []

        def on_execute(conn, cursor, statement, parameters, context, executemany) -> None:
            seen.append(statement)

        for person_id in asked:
            db.session.remove()
            programme = db.session.get(Programme, buddy_id)
            person = db.session.get(Employee, person_id)
            seen.clear()
            event.listen(db.engine, "before_cursor_execute", on_execute)
            with Stopwatch() as clock:
                found = suggestions_for(programme, person)
            timings.append(clock.wall)
            cpu.append(clock.cpu)
            event.remove(db.engine, "before_cursor_execute", on_execute)
            statements.append(len(seen))
            assert found, "someone is always suggested in a company this size"
        ctx.log(f"suggestions: median {statistics.median(timings) * 1000:.0f} ms wall clock, "
                f"{statistics.median(cpu) * 1000:.0f} ms of CPU, over {PEOPLE_ASKED} people")

        hr = db.session.scalar(select(User).join(UserRole, UserRole.user_id == User.id)
                               .where(UserRole.role == Role.HR_PARTNER.value).limit(1))
        pair_times: list[float] = []
        for person_id in asked[:10]:
            programme = db.session.get(Programme, buddy_id)
            person = db.session.get(Employee, person_id)
            choice = suggestions_for(programme, person, limit=1)[0]
            started = time.perf_counter()
            try:
                create_match(programme, person, db.session.get(Employee, choice.employee_id), actor=hr)
                db.session.commit()
            except ProgrammeError:
                db.session.rollback()  # already has a buddy: the pair is refused, as it should be
                continue
            pair_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        figures = programme_figures(db.session.get(Programme, buddy_id), timezone="Europe/London")
        figures_seconds = time.perf_counter() - started
        db.engine.dispose()
    timings.sort()
    return [
        Result(f"suggestions for one person, {len(ids):,} people at work (CPU)", statistics.median(cpu), "s",
               at_most(MAX_SUGGESTION_SECONDS),
               note=f"median of {PEOPLE_ASKED}; wall clock median "
                    f"{statistics.median(timings) * 1000:.0f} ms, slowest {timings[-1] * 1000:.0f} ms"),
        Result("queries per suggestion list", max(statements), "", at_most(1)),
        Result("making a pair (assignment, enrolment, meetings, notes, commit)",
               statistics.median(pair_times) if pair_times else 0.0, "s",
               note=f"median of {len(pair_times)}"),
        Result("programme figures", figures_seconds, "s",
               note=f"{figures.active_pairs} live pairs; {len(figures.at_cap)} people at the cap"),
    ]


if __name__ == "__main__":
    raise SystemExit(run_alone(__spec__.name))
