"""People list at 10,000 employees: queries per request, throughput and latency, worker memory."""
from __future__ import annotations

from benchmarks.company import BENCH_PASSWORD
from benchmarks.core import LARGE_SIZE, CompanyDatabase, Context, Result, at_least, at_most, run_alone
from benchmarks.serving import (
    BenchmarkError,
    Server,
    count_queries,
    memory_results,
    page_results,
)

SMALL_SIZE = 10
# The first page, a later page, and a search with a filter: none may cost more queries.
QUERY_PATHS = ["/people/", "/people/?page=3", "/people/?q=an&status=active"]
MAX_QUERIES = 10
MIN_RPS, MAX_P50_MS, MIN_HEALTHZ_RPS = 300, 30, 1_000


def query_counts(db: CompanyDatabase, email: str) -> dict[str, int]:
    """Queries per request for each people-list path, signed in as email."""
    counts = count_queries(db.app(), email, BENCH_PASSWORD, QUERY_PATHS)
    for count in counts:
        if count.status != 200:
            raise BenchmarkError(f"{count.path} answered HTTP {count.status} to {email}")
    return {c.path: c.count for c in counts}


def query_rows(small: CompanyDatabase, large: CompanyDatabase) -> list[Result]:
    """Queries per request as HR partner and as manager, for a tiny and a large company."""
    rows = []
    for role in ("hr_partner", "manager"):
        label = "HR partner" if role == "hr_partner" else "manager"
        worst = {}
        for db in (small, large):
            counts = query_counts(db, getattr(db.plan, role).email)
            worst[db.plan.size] = max(counts.values())
            detail = ", ".join(f"{path} {n}" for path, n in counts.items())
            rows.append(Result(f"people list as {label}, {db.plan.size:,} people: queries per request",
                               worst[db.plan.size], "queries", at_most(MAX_QUERIES), note=detail))
        growth = worst[large.plan.size] - worst[small.plan.size]
        rows.append(Result(f"people list as {label}: extra queries at {large.plan.size:,} vs "
                           f"{small.plan.size} people", growth, "queries", at_most(0)))
    return rows


def run(ctx: Context) -> list[Result]:
    """Count queries in-process, then load the page through gunicorn with wrk."""
    small, large = ctx.company(SMALL_SIZE), ctx.company(LARGE_SIZE)
    results = query_rows(small, large)
    hr, director = large.plan.hr_partner, large.plan.manager
    with Server(ctx, large.path) as server:
        trivial = server.load("/healthz", label="/healthz (trivial route)")
        static = server.load("/static/css/app.css", label="static file (app.css)")
        hr_cookie = server.sign_in(hr.email, BENCH_PASSWORD)
        as_hr = server.load("/people/", cookie=hr_cookie,
                            label=f"people list, HR partner, {large.plan.size:,} people")
        director_cookie = server.sign_in(director.email, BENCH_PASSWORD)
        as_director = server.load(
            "/people/", cookie=director_cookie,
            label=f"people list, director with {large.plan.org_size(director):,} reports")
        results += [
            Result("/healthz (trivial route): throughput", trivial.rps, "req/s",
                   at_least(MIN_HEALTHZ_RPS)),
            Result("/healthz (trivial route): p50 latency", trivial.p50_ms, "ms"),
            Result("static file (app.css): throughput", static.rps, "req/s"),
        ]
        for load in (as_hr, as_director):
            results += page_results(load, trivial, min_rps=MIN_RPS, max_p50_ms=MAX_P50_MS)
        results += memory_results(server)
    return results


if __name__ == "__main__":
    raise SystemExit(run_alone(__spec__.name))
