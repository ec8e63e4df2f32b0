"""People list at 10,000 employees: queries per request, throughput and latency, worker memory."""
from __future__ import annotations

from benchmarks.company import BENCH_PASSWORD
from benchmarks.core import LARGE_SIZE, Context, Result, at_least, run_alone
from benchmarks.serving import Server, memory_results, page_results, query_count_results

SMALL_SIZE = 10
# The first page, a later page, and a search with a filter: none may cost more queries.
QUERY_PATHS = ["/people/", "/people/?page=3", "/people/?q=an&status=active"]
MAX_QUERIES = 10
MIN_RPS, MAX_P50_MS, MIN_HEALTHZ_RPS = 300, 30, 1_000


def run(ctx: Context) -> list[Result]:
    """Count queries in-process, then load the page through gunicorn with wrk."""
    small, large = ctx.company(SMALL_SIZE), ctx.company(LARGE_SIZE)
    results = query_count_results("people list", [small, large], QUERY_PATHS,
                                  max_queries=MAX_QUERIES)
    # What gunicorn alone serves on this machine right now: the ceiling for every page.
    with Server(ctx, None, wsgi_app="benchmarks.bare_wsgi:app", ready_path="/") as bare:
        ceiling = bare.load("/", label="bare WSGI app (gunicorn's ceiling here, now)")
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
            Result(f"{ceiling.label}: throughput", ceiling.rps, "req/s"),
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
