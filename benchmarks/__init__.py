"""Reproducible performance runs for Touchpoints: `make bench` (or `python -m benchmarks`).

The entry point (`benchmarks/__main__.py`) finds every module named `benchmarks/bench_<name>.py`,
runs the ones asked for (all by default; `make bench BENCH_ARGS="people_list import"` picks by
name), and prints one table: benchmark, what, figure, target, pass/fail. Everything it writes
(SQLite files, CSVs, the results as Markdown and JSON) goes to `benchmarks/out/`, which git ignores.

Adding a benchmark: drop a module `benchmarks/bench_<name>.py` with a one-line docstring and

    from benchmarks.core import Context, Result, Stopwatch, at_least, at_most, below, run_alone

    def run(ctx: Context) -> list[Result]:
        db = ctx.company(10_000, fresh="enrol")   # own copy when the benchmark writes
        ...                                        # db.path, db.url, db.plan, db.app()
        return [Result("enrol 10,000 people x 12 touchpoints", seconds, "s", at_most(3 * base))]

    if __name__ == "__main__":
        raise SystemExit(run_alone(__spec__.name))

- `ctx.company(size)` is the synthetic company (benchmarks/company.py) written once per run
  into a migrated SQLite file; `plan` has the people (`plan.hr_partner`, `plan.manager`,
  `plan.employee` to sign in as, all with password `company.BENCH_PASSWORD`).
- `ctx.empty_database(name)` is a fresh empty database at the migration head.
- `ctx.duration` (wrk's `-d`: 15s, 3s with BENCH_QUICK=1, or BENCH_DURATION) and `ctx.log()`;
  `with Stopwatch() as took:` times a block in wall and CPU seconds (`took.note` for the row).
- `benchmarks/serving.py` serves a database with gunicorn (2 sync workers), signs in through
  the real form, runs wrk against 127.0.0.1 only and reads each worker's peak memory;
  `count_queries()` counts SQL statements per request in-process.
- A `Result` is one row: what, value, unit, optional target (`at_least`, `at_most`, `below`);
  a row without a target is shown for information. A benchmark that raises shows as an error
  row and the run carries on; `make bench` exits 1 when any target is missed or a run failed.
- Bound every loop in time and count, send traffic only to 127.0.0.1, and stop what you start.
"""
