"""`python -m benchmarks [name ...]`: run the benchmarks and print one table of the results."""
from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import sys
import time
import traceback

import benchmarks
from benchmarks.core import Context, Result, load_average, machine_summary, render_table

PREFIX = "bench_"


def discover() -> dict[str, str]:
    """Every benchmark module in the package: short name -> module name."""
    return {
        info.name.removeprefix(PREFIX): f"benchmarks.{info.name}"
        for info in sorted(pkgutil.iter_modules(benchmarks.__path__), key=lambda i: i.name)
        if info.name.startswith(PREFIX)
    }


def describe(module_name: str) -> str:
    """The first line of a benchmark module's docstring."""
    module = importlib.import_module(module_name)
    return (module.__doc__ or "").strip().splitlines()[0] if module.__doc__ else ""


def parse_args(argv: list[str], available: dict[str, str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Generate the synthetic company, run the benchmarks, print the results table.",
    )
    parser.add_argument("names", nargs="*", metavar="name",
                        help=f"benchmarks to run (default: all): {', '.join(available)}")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--quick", action="store_true",
                        help="short load runs for development (same as BENCH_QUICK=1)")
    parser.add_argument("--duration", help="wrk's -d for each load run (default 15s, 3s when quick)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmarks; exit status 1 when a target is missed or a benchmark failed."""
    argv = list(sys.argv[1:] if argv is None else argv)
    available = discover()
    args = parse_args(argv, available)
    if args.list:
        for name, module in available.items():
            print(f"{name:<16} {describe(module)}")
        return 0
    unknown = [n for n in args.names if n.removeprefix(PREFIX) not in available]
    if unknown:
        print(f"Unknown benchmark(s): {', '.join(unknown)}. Available: {', '.join(available)}",
              file=sys.stderr)
        return 2
    chosen = [n.removeprefix(PREFIX) for n in args.names] or list(available)

    quick = args.quick or os.environ.get("BENCH_QUICK", "") not in ("", "0")
    ctx = Context(quick=quick, duration=args.duration or "")
    machine = machine_summary()
    command = " ".join(["python -m benchmarks", *argv])
    if quick and "--quick" not in argv:
        command = f"BENCH_QUICK=1 {command}"
    ctx.log(f"running {', '.join(chosen)} on {machine['cores']} cores, {machine['memory']}; "
            f"load runs of {ctx.duration}{' (quick mode: indicative only)' if quick else ''}")

    load_before = load_average()
    rows: list[tuple[str, Result]] = []
    errors: list[tuple[str, str]] = []
    timings: dict[str, float] = {}
    for name in chosen:
        started = time.perf_counter()
        ctx.log(f"== {name}")
        try:
            module = importlib.import_module(available[name])
            results = module.run(ctx)
        except Exception as error:  # one broken benchmark must not hide the others' figures
            traceback.print_exc(file=sys.stderr)
            errors.append((name, f"{type(error).__name__}: {error}"))
        else:
            rows.extend((name, result) for result in results)
        timings[name] = time.perf_counter() - started
        ctx.log(f"== {name} took {timings[name]:.0f}s")

    table = render_table(rows, errors)
    heading = (f"Benchmarks, {machine['date']}: {machine['cores']} cores, {machine['memory']} memory, "
               f"Python {machine['python']}, SQLite {machine['sqlite']}; wrk -t{ctx.threads} "
               f"-c{ctx.connections} -d{ctx.duration} against gunicorn with 2 sync workers; "
               f"load average {load_before} before, {load_average()} after.\n"
               f"Command: `{command}`")
    busy = max(_number(load_before), _number(load_average()))
    if busy > int(machine["cores"] or 1):
        heading += (f"\nNote: the machine was busy (load average up to {busy:.1f} on "
                    f"{machine['cores']} cores), so absolute throughput and latency are low; "
                    "the ratios to the trivial route and the bare WSGI ceiling travel better.")
    print()
    print(heading)
    print()
    print(table)
    (ctx.out_dir / "results.md").write_text(f"{heading}\n\n{table}\n", encoding="utf-8")
    (ctx.out_dir / "results.json").write_text(json.dumps({
        "machine": machine, "command": command, "duration": ctx.duration, "quick": quick,
        "results": [{"benchmark": name, **result.as_dict()} for name, result in rows],
        "errors": [{"benchmark": name, "error": message} for name, message in errors],
        "seconds": timings,
    }, indent=2, ensure_ascii=False), encoding="utf-8")
    missed = [r for _, r in rows if r.passed is False]
    print(f"\n{sum(r.passed is True for _, r in rows)} targets met, {len(missed)} missed, "
          f"{len(errors)} benchmark(s) failed. Written to {ctx.out_dir / 'results.md'}.")
    return 1 if missed or errors else 0


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


if __name__ == "__main__":
    raise SystemExit(main())
