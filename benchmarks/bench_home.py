"""Home pages at 10,000 employees for an HR partner, a director and an employee, against /healthz."""
from __future__ import annotations

from benchmarks.company import BENCH_PASSWORD
from benchmarks.core import LARGE_SIZE, Context, Result, run_alone
from benchmarks.serving import Server, memory_results, page_results, query_count_results

SMALL_SIZE = 10
MAX_P95_MS = 100
MIN_SHARE_OF_TRIVIAL = 40  # percent of /healthz throughput in the same run
MAX_QUERIES = 10


def run(ctx: Context) -> list[Result]:
    """Queries per home page in-process, then each role's home page under wrk."""
    small, large = ctx.company(SMALL_SIZE), ctx.company(LARGE_SIZE)
    results = query_count_results("home page", [small, large], ["/"],
                                  roles=("hr_partner", "manager", "employee"),
                                  max_queries=MAX_QUERIES)
    people = [("HR partner", large.plan.hr_partner), ("director", large.plan.manager),
              ("employee", large.plan.employee)]
    with Server(ctx, large.path) as server:
        trivial = server.load("/healthz", label="/healthz (trivial route)")
        results.append(Result("/healthz (trivial route): throughput", trivial.rps, "req/s"))
        for role, person in people:
            cookie = server.sign_in(person.email, BENCH_PASSWORD)
            load = server.load("/", cookie=cookie,
                               label=f"home page, {role}, {large.plan.size:,} people")
            results += page_results(load, trivial, max_p95_ms=MAX_P95_MS,
                                    min_ratio=MIN_SHARE_OF_TRIVIAL)
        results += memory_results(server)
    return results


if __name__ == "__main__":
    raise SystemExit(run_alone(__spec__.name))
