"""Survey results at 10,000 people with 26 fortnightly rounds of answers: time per page and queries.

The history is written the way the app writes it, round by round: each round is planned and opened
by the survey services (which invite the audience with coarsened groups), about 80% answer (the
participation, response and answer rows are bulk-inserted exactly as `submit_response` stores them),
and the round is closed by the services (responses rewritten out of arrival order, result cells
built, the feedback loop run). Pages are then timed in-process for an HR partner and a director,
and their queries counted after the second round and after the twenty-sixth: the count must not grow.
"""
from __future__ import annotations

import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from types import SimpleNamespace

from benchmarks.company import BENCH_PASSWORD
from benchmarks.core import LARGE_SIZE, CompanyDatabase, Context, Result, at_most, load_average, run_alone
from benchmarks.serving import count_queries, csrf_token

ROUNDS = 26
EVERY_DAYS = 14
OPEN_DAYS = 5
ANSWER_RATE = 0.8
TIMED_REQUESTS = 25
MAX_MS = 200
MAX_QUERIES = 14


def _write_history(company: CompanyDatabase, ctx: Context) -> tuple[int, int, list[str], dict[int, int]]:
    """Plan, open, answer and close the rounds; returns the survey id, answers written, the paths to
    measure and the query counts seen after the second round."""
    from sqlalchemy import insert, select

    from touchpoints.db_types import utcnow
    from touchpoints.extensions import db
    from touchpoints.surveys import services
    from touchpoints.surveys.models import (
        QuestionKind,
        SurveyAnswer,
        SurveyInvitation,
        SurveyParticipation,
        SurveyResponse,
        SurveyRound,
        new_response_id,
    )
    from touchpoints.surveys.pack import load_pack

    rng = random.Random(26)
    app = company.app()
    answers_written = 0
    first_counts: dict[int, int] = {}
    with app.app_context():
        (survey,) = load_pack()
        db.session.commit()
        survey_id = survey.id
        # Plain copies: the session is swapped out when queries are counted after round 2.
        questions = [SimpleNamespace(id=q.id, kind=q.kind, choices=list(q.choices),
                                     applies_to=q.applies_to) for q in survey.current_version.questions]
        today = utcnow().date()
        for index in range(ROUNDS):
            started = time.perf_counter()
            opens_on = today - timedelta(days=EVERY_DAYS * (ROUNDS - index) + 1)
            plan = services.plan_round({"opens_on": opens_on, "open_days": OPEN_DAYS}, tz="UTC",
                                       today=opens_on)
            round_ = SurveyRound(survey_id=survey_id, sequence=index + 1)
            plan.apply(round_)
            db.session.add(round_)
            db.session.commit()
            opened = datetime.combine(opens_on, clock(8), UTC)
            services.open_round(round_.id, now=opened)
            invitations = db.session.execute(
                select(SurveyInvitation.employee_id, SurveyInvitation.team_id, SurveyInvitation.stage,
                       SurveyInvitation.tenure_band, SurveyInvitation.new_hire)
                .where(SurveyInvitation.round_id == round_.id)).all()
            # Each team has its own mood that drifts from round to round, so trends have a shape.
            participation, responses, answers = [], [], []
            for employee_id, team_id, stage, band, new_hire in invitations:
                if rng.random() > ANSWER_RATE:
                    continue
                day = opens_on + timedelta(days=rng.randrange(OPEN_DAYS))
                participation.append({"round_id": round_.id, "employee_id": employee_id, "responded_on": day})
                response_id = new_response_id()
                responses.append({"id": response_id, "round_id": round_.id, "team_id": team_id,
                                  "stage": stage, "tenure_band": band})
                mood = 3.2 + ((team_id or 0) * 7 + index) % 13 / 10
                for q in questions:
                    if not q.applies_to(new_hire):
                        continue
                    row = {"response_id": response_id, "question_id": q.id, "score": None, "choice": None,
                           "text": None}
                    if q.kind is QuestionKind.AGREEMENT:
                        row["score"] = max(1, min(5, round(rng.gauss(mood, 0.8))))
                    elif q.kind is QuestionKind.ENPS:
                        row["score"] = max(0, min(10, round(rng.gauss(mood * 2, 1.8))))
                    elif q.kind is QuestionKind.SINGLE_CHOICE:
                        row["choice"] = rng.choice(q.choices)["key"]
                    elif rng.random() < 0.2:
                        row["text"] = "More time together in person would help."
                    else:
                        continue
                    answers.append(row)
            db.session.execute(insert(SurveyParticipation), participation)
            db.session.execute(insert(SurveyResponse), responses)
            db.session.execute(insert(SurveyAnswer), answers)
            db.session.commit()
            answers_written += len(answers)
            closing = time.perf_counter()
            services.close_round(round_.id, now=round_.closes_at)
            close_seconds = time.perf_counter() - closing
            ctx.log(f"round {index + 1}: {len(invitations):,} invited, {len(responses):,} answered, "
                    f"{len(answers):,} answers; closed in {close_seconds:.1f}s "
                    f"(round written in {time.perf_counter() - started:.1f}s)")
            if index == 1:
                # From the second round on, the page has a trend and a previous round to compare.
                # Counted on an app of its own: requests inside this app context would share its
                # session and find rows already loaded.
                first_counts = _query_counts(company.app(), company, survey_id)
        db.session.remove()
        db.engine.dispose()
    return survey_id, answers_written, _paths(app, survey_id), first_counts


def _paths(app, survey_id: int) -> list[str]:
    """The views HR reads most: the default, by stage, one team by tenure, the CSV, the API."""
    from sqlalchemy import func, select

    from touchpoints.extensions import db
    from touchpoints.surveys.models import SurveyResponse

    with app.app_context():
        # The largest team: its slice and breakdown have the most groups to judge.
        team_id = db.session.scalar(select(SurveyResponse.team_id).where(SurveyResponse.team_id.is_not(None))
                                    .group_by(SurveyResponse.team_id)
                                    .order_by(func.count().desc()).limit(1))
        db.engine.dispose()
    base = f"/surveys/{survey_id}/results"
    return [base, f"{base}?by=stage", f"{base}?team={team_id}&by=tenure", f"{base}.csv?by=team"]


def _query_counts(app, company: CompanyDatabase, survey_id: int) -> dict[int, int]:
    counts = count_queries(app, company.plan.hr_partner.email, BENCH_PASSWORD, _paths(app, survey_id))
    return {i: c.count for i, c in enumerate(counts)}


def _time_pages(app, email: str, paths: list[str]) -> list[tuple[str, int, list[float], list[float]]]:
    """Each path requested TIMED_REQUESTS times after a warm-up: wall and CPU milliseconds per request.

    The CPU time of the process covers the whole request here (SQLite runs in-process), and unlike
    the wall clock it does not stretch when other work shares this machine's two cores.
    """
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    signed_in = client.post("/login", data={"email": email, "password": BENCH_PASSWORD,
                                            "csrf_token": token or "", "next": ""})
    if signed_in.status_code not in (302, 303):
        raise RuntimeError(f"could not sign in as {email} (HTTP {signed_in.status_code})")
    timings = []
    for path in paths:
        status = client.get(path).status_code
        wall, cpu = [], []
        for _ in range(TIMED_REQUESTS):
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(path)
            cpu.append((time.process_time() - started_cpu) * 1000)
            wall.append((time.perf_counter() - started) * 1000)
            status = response.status_code
        timings.append((path, status, wall, cpu))
    return timings


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] if len(samples) > 1 else samples[0]


def run(ctx: Context) -> list[Result]:
    """Write 26 rounds of history, then time and count the results pages."""
    company = ctx.company(LARGE_SIZE, fresh="surveys")
    started = time.perf_counter()
    _, answers, paths, first_counts = _write_history(company, ctx)
    results = [Result(f"write {ROUNDS} rounds of answers for {company.plan.size:,} people", answers, "rows",
                      note=f"{time.perf_counter() - started:.0f}s incl. closing each round")]
    app = company.app()
    last = count_queries(app, company.plan.hr_partner.email, BENCH_PASSWORD, paths)
    for index, counted in enumerate(last):
        label = paths[index].split("/results", 1)[1] or " (default: by team)"
        results.append(Result(f"queries, results{label}, after round 2 → {ROUNDS}",
                              counted.count, "queries", at_most(min(MAX_QUERIES, first_counts.get(index, 0))),
                              note=f"{first_counts.get(index, '?')} after round 2"))
        if counted.status != 200:
            raise RuntimeError(f"{paths[index]} answered HTTP {counted.status}")
    people = [("HR partner", company.plan.hr_partner.email, paths),
              ("director", company.plan.manager.email, paths[:2])]
    for role, email, role_paths in people:
        for path, status, wall, cpu in _time_pages(app, email, role_paths):
            if status != 200:
                raise RuntimeError(f"{path} answered HTTP {status} for the {role}")
            label = path.split("/results", 1)[1] or " (default: by team)"
            results.append(Result(f"results{label}, {role}, CPU median of {TIMED_REQUESTS}",
                                  statistics.median(cpu), "ms", at_most(MAX_MS),
                                  note=f"p95 {_p95(cpu):.0f} ms, with garbage-collection pauses"))
            results.append(Result(f"results{label}, {role}, wall-clock median", statistics.median(wall), "ms",
                                  note=f"p95 {_p95(wall):.0f} ms, load {load_average()}"))
    with app.app_context():
        from touchpoints.extensions import db

        db.engine.dispose()
    return results


if __name__ == "__main__":
    raise SystemExit(run_alone(__spec__.name))
