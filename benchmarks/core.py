"""What every benchmark shares: results with targets, the run context, and benchmark databases."""
from __future__ import annotations

import os
import platform
import shutil
import sys
import time
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from benchmarks.company import Company

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "benchmarks" / "out"
DEFAULT_SIZE = 2_000
LARGE_SIZE = 10_000

_OPERATORS = {
    "≥": lambda value, bound: value >= bound,
    ">": lambda value, bound: value > bound,
    "≤": lambda value, bound: value <= bound,
    "<": lambda value, bound: value < bound,
}


@dataclass(frozen=True)
class Target:
    """A bound a figure must meet, e.g. Target("≥", 300) for "at least 300"."""

    op: str
    bound: float

    def __post_init__(self) -> None:
        if self.op not in _OPERATORS:
            raise ValueError(f"unknown target operator {self.op!r}; use one of {', '.join(_OPERATORS)}")

    def met_by(self, value: float) -> bool:
        """Whether the value meets this target."""
        return _OPERATORS[self.op](value, self.bound)


def at_least(bound: float) -> Target:
    """The figure must be at least bound."""
    return Target("≥", bound)


def at_most(bound: float) -> Target:
    """The figure may be at most bound."""
    return Target("≤", bound)


def below(bound: float) -> Target:
    """The figure must be strictly below bound."""
    return Target("<", bound)


@dataclass(frozen=True)
class Result:
    """One row of the results table: what was measured, the figure, and the target if any."""

    what: str
    value: float
    unit: str
    target: Target | None = None
    note: str = ""

    @property
    def passed(self) -> bool | None:
        """True or False against the target; None for figures shown for information."""
        return None if self.target is None else self.target.met_by(self.value)

    @property
    def figure(self) -> str:
        return format_figure(self.value, self.unit)

    @property
    def target_text(self) -> str:
        if self.target is None:
            return ""
        return f"{self.target.op} {format_figure(self.target.bound, self.unit)}"

    @property
    def verdict(self) -> str:
        return {True: "pass", False: "FAIL", None: "—"}[self.passed]

    def as_dict(self) -> dict:
        return {"what": self.what, "value": self.value, "unit": self.unit, "figure": self.figure,
                "target": self.target_text, "passed": self.passed, "note": self.note}


def format_figure(value: float, unit: str) -> str:
    """A figure with as many decimals as its unit deserves."""
    if unit in ("ms", "s", "x"):
        digits = 2 if abs(value) < 10 else 1
        text = f"{value:,.{digits}f}"
    elif unit in ("queries", "rows", "people", "requests", "") or float(value).is_integer():
        text = f"{value:,.0f}"
    else:
        text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}"
    if unit == "x":  # a multiple, e.g. "2.4x" a baseline
        return f"{text}x"
    if unit == "%":
        return f"{text}%"
    return f"{text} {unit}".rstrip()


def quick_mode() -> bool:
    """BENCH_QUICK=1 shortens load runs for development; figures are then indicative only."""
    return os.environ.get("BENCH_QUICK", "") not in ("", "0")


@dataclass(frozen=True)
class CompanyDatabase:
    """A SQLite file holding a synthetic company, with the plan it was written from."""

    path: Path
    plan: Company

    @property
    def url(self) -> str:
        return sqlite_url(self.path)

    def app(self, **overrides: object):
        """The real application on this database."""
        return make_app(self.path, **overrides)


@dataclass
class Context:
    """What a benchmark is handed: where to write, how long to load, and the benchmark companies."""

    out_dir: Path = OUT_DIR
    quick: bool = field(default_factory=quick_mode)
    duration: str = ""
    connections: int = 10
    threads: int = 2
    log_stream: object = sys.stderr
    _companies: dict[int, CompanyDatabase] = field(default_factory=dict)
    _empty: Path | None = None

    def __post_init__(self) -> None:
        self.out_dir = Path(self.out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        if not self.duration:
            self.duration = os.environ.get("BENCH_DURATION") or ("3s" if self.quick else "15s")

    def log(self, message: str) -> None:
        """Progress for the person watching; the results table goes to stdout at the end."""
        stamp = time.strftime("%H:%M:%S")
        print(f"[{stamp}] {message}", file=self.log_stream, flush=True)

    def path(self, name: str) -> Path:
        """A file path under the output folder."""
        return self.out_dir / name

    def empty_database(self, name: str) -> Path:
        """A fresh copy of an empty database at the current migration head."""
        if self._empty is None:
            template = self.path("empty.sqlite")
            template.unlink(missing_ok=True)
            started = time.perf_counter()
            migrate_database(template)
            self.log(f"migrated an empty database in {time.perf_counter() - started:.1f}s")
            self._empty = template
        target = self.path(name)
        copy_database(self._empty, target)
        return target

    def company(self, size: int = DEFAULT_SIZE, *, fresh: str | None = None) -> CompanyDatabase:
        """The synthetic company of this size in SQLite, generated once per run.

        Benchmarks that only read share one file; a benchmark that writes passes
        fresh="<its name>" and gets its own copy, so it cannot disturb another's figures.
        """
        if size not in self._companies:
            from benchmarks.company import build_company_database

            path = self.empty_database(f"company-{size}.sqlite")
            started = time.perf_counter()
            plan = build_company_database(path, size)
            self.log(f"generated a company of {size:,} people ({len(plan.teams)} teams, "
                     f"{plan.depth} levels) in {time.perf_counter() - started:.1f}s")
            self._companies[size] = CompanyDatabase(path, plan)
        shared = self._companies[size]
        if fresh is None:
            return shared
        target = self.path(f"company-{size}-{fresh}.sqlite")
        copy_database(shared.path, target)
        return CompanyDatabase(target, shared.plan)


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of a SQLite file."""
    return f"sqlite:///{Path(path).resolve()}"


def copy_database(source: Path, target: Path) -> None:
    """Copy a SQLite database file (and remove any stale journal beside the target)."""
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    # The app opens SQLite in WAL mode: fold the write-ahead log into the file before copying it.
    import sqlite3

    with closing(sqlite3.connect(source)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copyfile(source, target)


def make_app(path: Path, **overrides: object):
    """The real application on a benchmark database, configured as in development."""
    from touchpoints import create_app
    from touchpoints.config import Config

    return create_app(Config, SQLALCHEMY_DATABASE_URI=sqlite_url(path), **overrides)


def migrate_database(path: Path) -> None:
    """Bring a database to the migration head, the way `flask db upgrade` does."""
    import logging

    from flask_migrate import upgrade

    from touchpoints.extensions import db

    app = make_app(path)
    with app.app_context():
        # Alembic logs every revision at INFO; the benchmark log stays readable without it.
        logging.disable(logging.INFO)
        try:
            upgrade()
        finally:
            logging.disable(logging.NOTSET)
        db.engine.dispose()


class Stopwatch:
    """Wall-clock and CPU seconds of a block: `with Stopwatch() as took: ...; took.wall, took.cpu`.

    CPU time beside wall time says how much of a slow figure a busy, shared machine stole.
    """

    def __enter__(self) -> Stopwatch:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc_info) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu

    @property
    def note(self) -> str:
        return f"{self.cpu:.2f} s of CPU"


def machine_summary() -> dict[str, str]:
    """The facts a reader needs to compare figures: date, cores, memory, Python, SQLite."""
    import sqlite3

    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
                break
    except OSError:
        memory = "unknown"
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": str(os.cpu_count() or "?"),
        "memory": memory,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "machine": platform.machine(),
    }


def load_average() -> str:
    """The 1-minute load average: on a shared machine it says how far to trust absolute figures."""
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "unknown"


def render_table(results: list[tuple[str, Result]], errors: list[tuple[str, str]] = ()) -> str:
    """The results as a Markdown table: benchmark, what, figure, target, verdict."""
    header = ("benchmark", "what", "figure", "target", "result")
    rows = [(name, r.what + (f" ({r.note})" if r.note else ""), r.figure, r.target_text, r.verdict)
            for name, r in results]
    rows += [(name, f"did not finish: {message}", "", "", "ERROR") for name, message in errors]
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h)
              for i, h in enumerate(header)]

    def line(cells) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    out = [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(row) for row in rows]
    return "\n".join(out)


def run_alone(module_name: str) -> int:
    """Run one benchmark module by itself (`python -m benchmarks.bench_x`) and print its table."""
    from benchmarks.__main__ import main

    name = module_name.rsplit(".", 1)[-1].removeprefix("bench_")
    return main([name, *sys.argv[1:]])
