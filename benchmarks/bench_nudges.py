"""Nudges: draining 10,000 nudges to a local fake Slack; the reminder pass over 1,000,000 touchpoints."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.core import ROOT, Context, Result, Stopwatch, at_least, below, run_alone, sqlite_url

NUDGES = 10_000
WARM_UP = 1_000
TOUCHPOINTS = 1_000_000
OWNERS = 2_000
STAMP = "%Y-%m-%d %H:%M:%S.%f"


def _rss_kib(field: str = "VmRSS") -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _start_fake_slack(users: int) -> tuple[subprocess.Popen, str]:
    """The fake Slack in its own process (so it does not share this one's interpreter), on 127.0.0.1."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.slack", "--port", "0", "--no-record", "--users", str(users)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    base_url = process.stdout.readline().strip()
    if not base_url.startswith("http://127.0.0.1:"):
        process.kill()
        raise RuntimeError(f"the fake Slack did not start: {base_url!r}")
    return process, base_url


def _posted(base_url: str) -> int:
    request = urllib.request.Request(base_url + "fake.stats", data=b"", method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - 127.0.0.1 only
        return json.loads(response.read())["posted"]


def _people(connection: sqlite3.Connection, count: int, now: datetime) -> None:
    stamp = now.strftime(STAMP)
    connection.executemany(
        "INSERT INTO employees (id, email, full_name, job_title, location, country_code, subdivision, "
        "timezone, work_start, work_end, work_days, status, preferred_channel, slack_user_id, created_at, "
        "updated_at) VALUES (?, ?, ?, '', '', 'GB', '', 'UTC', '00:00:00.000000', '23:59:00.000000', "
        "'1234567', 'active', 'slack', ?, ?, ?)",
        [(i + 1, f"person{i}@example.com", f"Person {i}", f"U{i:08d}", stamp, stamp) for i in range(count)],
    )
    # Steady state: every person's Slack id and direct-message channel are already known.
    connection.executemany(
        "INSERT INTO delivery_profiles (employee_id, daily_digest, teams_webhook_error, slack_dm_channel, "
        "updated_at) VALUES (?, 0, '', ?, ?)",
        [(i + 1, f"D{i:08d}", stamp) for i in range(count)],
    )


def _queue(connection: sqlite3.Connection, count: int, now: datetime, prefix: str) -> None:
    stamp = now.strftime(STAMP)
    connection.executemany(
        "INSERT INTO nudges (dedup_key, kind, recipient_id, channel, status, payload, next_attempt_at, "
        "attempts, last_error, bundled, created_at, updated_at) "
        "VALUES (?, 'reminder', ?, 'slack', 'pending', ?, ?, 0, '', 0, ?, ?)",
        [
            (f"{prefix}:{i}", i + 1, json.dumps({"headline": f"Reminder {i}"}), stamp, stamp, stamp)
            for i in range(count)
        ],
    )


def bench_drain(ctx: Context) -> list[Result]:
    path = ctx.empty_database("nudges-drain.sqlite")
    now = datetime.now(UTC)
    connection = sqlite3.connect(path)
    _people(connection, NUDGES, now)
    _queue(connection, WARM_UP, now, "warm")
    connection.commit()
    fake, base_url = _start_fake_slack(NUDGES)
    try:
        from benchmarks.core import make_app

        app = make_app(
            path,
            SLACK_BOT_TOKEN="xoxb-test-token",  # noqa: S106 - the fake's token
            SLACK_API_URL=base_url,
            BASE_URL="http://bench.test",
            NUDGE_RUN_SECONDS=600,
            NUDGE_DAILY_CAP=100,
        )
        from touchpoints.nudges.services import deliver

        with app.app_context():
            warm = deliver()
            assert warm.sent == WARM_UP, warm.summary()
        rss_before = _rss_kib()
        _queue(connection, NUDGES, now, "drain")
        connection.commit()
        connection.close()
        with app.app_context(), Stopwatch() as took:
            report = deliver()
        rss_after = _rss_kib()
        posted = _posted(base_url)
    finally:
        fake.terminate()
        fake.wait(10)
    if report.sent != NUDGES or posted != NUDGES + WARM_UP:
        raise RuntimeError(f"expected {NUDGES} sent, got {report.summary()}; the fake saw {posted - WARM_UP}")
    rate = NUDGES / took.wall
    ctx.log(
        f"drained {NUDGES:,} nudges in {took.wall:.1f}s ({rate:.0f}/s); RSS {rss_before // 1024} -> "
        f"{rss_after // 1024} MiB"
    )
    return [
        Result(
            f"outbox drain, {NUDGES:,} nudges to a local fake Slack",
            rate,
            "nudges/s",
            at_least(500),
            took.note,
        ),
        Result(
            "memory growth during the drain",
            (rss_after - rss_before) / 1024,
            "MiB",
            below(32),
            f"RSS {rss_before // 1024} → {rss_after // 1024} MiB",
        ),
    ]


def _touchpoints(connection: sqlite3.Connection, now: datetime, *, near: bool) -> None:
    """A million touchpoints: done ones in the past two years, open ones from a month ahead (or from now)."""
    stamp = now.strftime(STAMP)
    rows = []
    for i in range(TOUCHPOINTS):
        if i % 2:
            due, status = now - timedelta(minutes=1 + (i * 37) % (730 * 24 * 60)), "done"
        else:
            start = timedelta(0) if near else timedelta(days=30)
            due, status = now + start + timedelta(minutes=(i * 53) % (700 * 24 * 60)), "scheduled"
        rows.append((1 + i % OWNERS, i, due.strftime(STAMP), status, 1 + (i * 7) % OWNERS, stamp, stamp))
        if len(rows) == 50_000:
            _insert_touchpoints(connection, rows)
            rows = []
    _insert_touchpoints(connection, rows)


def _insert_touchpoints(connection: sqlite3.Connection, rows: list[tuple]) -> None:
    connection.executemany(
        "INSERT INTO touchpoints (employee_id, occurrence, kind, title, planned_mode, owner_role, owner_id, "
        "due_at, duration_minutes, sensitive, status, status_reason, confirmation_comment, sequence, "
        "created_at, updated_at) "
        "VALUES (?, ?, 'one_on_one', 'One-on-one', 'in_person', 'manager', ?, ?, 30, 0, ?, '', '', 0, ?, ?)",
        [(e, o, owner, due, status, c, u) for e, o, due, status, owner, c, u in rows],
    )


def bench_reminder_pass(ctx: Context) -> list[Result]:
    results = []
    now = datetime.now(UTC).replace(microsecond=0)
    for near in (False, True):
        name = "nudges-reminders-near.sqlite" if near else "nudges-reminders.sqlite"
        path = ctx.empty_database(name)
        connection = sqlite3.connect(path)
        _people(connection, OWNERS, now)
        started = time.perf_counter()
        _touchpoints(connection, now, near=near)
        connection.commit()
        connection.execute("ANALYZE")
        connection.close()
        ctx.log(f"wrote {TOUCHPOINTS:,} touchpoints in {time.perf_counter() - started:.1f}s")
        from benchmarks.core import make_app
        from touchpoints.nudges.reminders import remind_owners

        app = make_app(path)
        with app.app_context():
            remind_owners(now=now - timedelta(minutes=5))  # a pass five minutes ago set the watermark
            timings = []
            for minutes in range(5):
                with Stopwatch() as took:
                    outcome = remind_owners(now=now + timedelta(minutes=5 * minutes))
                timings.append(took.wall)
        best = min(timings) * 1000
        if near:
            results.append(
                Result(
                    "reminder pass, 1,000,000 touchpoints, open ones due every few minutes",
                    best,
                    "ms",
                    None,
                    f"read {outcome['read']:,} candidates, queued {outcome['queued']}",
                )
            )
        else:
            results.append(
                Result(
                    "reminder pass, 1,000,000 touchpoints, nothing due",
                    best,
                    "ms",
                    below(100),
                    f"read {outcome['read']} rows",
                )
            )
    return results


def run(ctx: Context) -> list[Result]:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("PYTHONPATH", str(ROOT))
    return bench_drain(ctx) + bench_reminder_pass(ctx)


__all__ = ["run", "sqlite_url"]


if __name__ == "__main__":
    raise SystemExit(run_alone(__spec__.name))
