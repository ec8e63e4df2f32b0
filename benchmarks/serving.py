"""Serving a benchmark database as production would, loading it with wrk, and counting queries.

`Server` runs `gunicorn -w 2 -b 127.0.0.1:<free port> app:app` on a SQLite file, signs in
through the real form (CSRF token and all), runs `wrk` with the session cookie, and reads each
worker's peak memory from /proc. Traffic only ever goes to 127.0.0.1, every wait is bounded,
and the server is stopped by its own process id, also when a benchmark fails.
"""
from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from benchmarks.core import ROOT, Context, Result, at_least, at_most, below, sqlite_url

HOST = "127.0.0.1"
WRK_SCRIPT = Path(__file__).with_name("wrk_report.lua")
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
REQUEST_TIMEOUT = 30.0
CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


class BenchmarkError(RuntimeError):
    """The benchmark could not measure what it meant to (server down, sign-in refused, ...)."""


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, list[str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass(frozen=True)
class LoadResult:
    """What one wrk run measured."""

    label: str
    path: str
    requests: int
    seconds: float
    bytes: int
    not_ok: int
    socket_errors: int
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def bytes_per_response(self) -> float:
        return self.bytes / self.requests if self.requests else 0.0


@dataclass
class Server:
    """gunicorn serving one benchmark database on a free loopback port."""

    ctx: Context
    database: Path | None
    workers: int = 2
    wsgi_app: str = "app:app"
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen | None = None
    worker_pids: list[int] = field(default_factory=list)
    log_path: Path | None = None
    ready_path: str = "/healthz"

    def __enter__(self) -> Server:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        """Start gunicorn and wait (bounded) until /healthz answers and every worker is up."""
        self.port = free_port()
        env = {**os.environ, "SECRET_KEY": secrets.token_urlsafe(48),
               "TOUCHPOINTS_ENV": "production", "SCHEDULER_EMBEDDED": "0", **self.env}
        if self.database is not None:
            env["DATABASE_URL"] = sqlite_url(self.database)
        self.log_path = self.ctx.path(f"gunicorn-{self.port}.log")
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-w", str(self.workers), "-b",
                 f"{HOST}:{self.port}", "--log-level", "warning", self.wsgi_app],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchmarkError(f"gunicorn exited with {self.process.returncode}: "
                                     f"{self._log_tail()}")
            self.worker_pids = child_pids(self.process.pid)
            if len(self.worker_pids) >= self.workers:
                try:
                    if self.get(self.ready_path).status == 200:
                        self.ctx.log(f"gunicorn up on {self.base_url} (master {self.process.pid}, "
                                     f"workers {', '.join(map(str, self.worker_pids))})")
                        return
                except OSError:
                    pass
            time.sleep(0.2)
        raise BenchmarkError(f"gunicorn did not answer within {START_TIMEOUT:.0f}s: {self._log_tail()}")

    def stop(self) -> None:
        """Stop the master by its id (it stops its workers); kill any straggler by its own id."""
        if self.process is None:
            return
        workers = child_pids(self.process.pid) or self.worker_pids
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT)
        for pid in workers:
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
        # The log is kept only when gunicorn did not stop cleanly: it says why.
        if self.process.returncode == 0 and self.log_path is not None:
            self.log_path.unlink(missing_ok=True)
        self.process = None

    def _log_tail(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return "(no log)"
        return self.log_path.read_text(errors="replace")[-1500:]

    def request(self, method: str, path: str, *, cookie: str | None = None,
                form: dict[str, str] | None = None) -> Response:
        """One HTTP request to the server (no redirects followed)."""
        headers = {"Host": f"{HOST}:{self.port}"}
        if cookie:
            headers["Cookie"] = cookie
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection(HOST, self.port, timeout=REQUEST_TIMEOUT)
        try:
            conn.request(method, path, body=body, headers=headers)
            raw = conn.getresponse()
            collected: dict[str, list[str]] = {}
            for name, value in raw.getheaders():
                collected.setdefault(name.lower(), []).append(value)
            return Response(raw.status, collected, raw.read())
        finally:
            conn.close()

    def get(self, path: str, *, cookie: str | None = None) -> Response:
        return self.request("GET", path, cookie=cookie)

    def sign_in(self, email: str, password: str) -> str:
        """Sign in through the real login form; returns the Cookie header of the session."""
        page = self.get("/login")
        token = csrf_token(page.text)
        first = session_cookie(page)
        if page.status != 200 or not token or not first:
            raise BenchmarkError(f"the login page gave no form to sign in with (HTTP {page.status})")
        answer = self.request("POST", "/login", cookie=first,
                              form={"email": email, "password": password, "csrf_token": token,
                                    "next": ""})
        cookie = session_cookie(answer)
        if answer.status not in (302, 303) or not cookie:
            raise BenchmarkError(f"signing in as {email} was refused (HTTP {answer.status})")
        home = self.get("/", cookie=cookie)
        if home.status != 200:
            raise BenchmarkError(f"signed in as {email}, yet the home page answers HTTP {home.status}")
        return cookie

    def load(self, path: str, *, label: str, cookie: str | None = None) -> LoadResult:
        """Run wrk against one path and return what it measured; refuses to measure errors."""
        wrk = shutil.which("wrk")
        if wrk is None:
            raise BenchmarkError("wrk is not installed: apt-get install -y wrk")
        check = self.get(path, cookie=cookie)
        if check.status != 200:
            raise BenchmarkError(f"{path} answers HTTP {check.status} before the load; not measured")
        command = [wrk, f"-t{self.ctx.threads}", f"-c{self.ctx.connections}", f"-d{self.ctx.duration}",
                   "--timeout", "10s", "--latency", "-s", str(WRK_SCRIPT)]
        if cookie:
            command += ["-H", f"Cookie: {cookie}"]
        command.append(self.base_url + path)
        self.ctx.log(f"wrk -t{self.ctx.threads} -c{self.ctx.connections} -d{self.ctx.duration} "
                     f"{path} ({label})")
        finished = subprocess.run(command, capture_output=True, text=True, check=False,
                                  timeout=duration_seconds(self.ctx.duration) + 60)
        result = parse_wrk(finished.stdout, label=label, path=path)
        if finished.returncode != 0 or result is None:
            raise BenchmarkError(f"wrk failed ({finished.returncode}): {finished.stderr[-500:]}"
                                 f"{finished.stdout[-500:]}")
        if result.not_ok or result.socket_errors:
            raise BenchmarkError(f"{path}: {result.not_ok} responses were not 200 and "
                                 f"{result.socket_errors} socket errors under load; not measured")
        self.ctx.log(f"  {result.rps:,.0f} req/s, p50 {result.p50_ms:.1f} ms, "
                     f"p95 {result.p95_ms:.1f} ms, p99 {result.p99_ms:.1f} ms")
        return result

    def worker_memory_mb(self) -> dict[int, tuple[float, float]]:
        """Peak (VmHWM) and current (VmRSS) resident memory of each live worker, in MiB."""
        memory = {}
        for pid in child_pids(self.process.pid) if self.process else []:
            status = proc_status(pid)
            if "VmHWM" in status and "VmRSS" in status:
                memory[pid] = (int(status["VmHWM"].split()[0]) / 1024,
                               int(status["VmRSS"].split()[0]) / 1024)
        return memory


def free_port() -> int:
    """A free TCP port on the loopback address (never 5000 or 5055, which people use)."""
    for _ in range(20):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((HOST, 0))
            port = sock.getsockname()[1]
        if port not in (5000, 5055):
            return port
    raise BenchmarkError("no free port on 127.0.0.1")


def proc_status(pid: int) -> dict[str, str]:
    """The fields of /proc/<pid>/status (empty when the process is gone)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def child_pids(parent: int) -> list[int]:
    """The ids of the live children of a process (gunicorn's workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        status = proc_status(int(entry.name))
        if status.get("PPid", "").strip() == str(parent) and status.get("State", "").strip()[:1] != "Z":
            found.append(int(entry.name))
    return sorted(found)


def pid_alive(pid: int) -> bool:
    status = proc_status(pid)
    return bool(status) and status.get("State", "").strip()[:1] != "Z"


def csrf_token(html: str) -> str | None:
    """The CSRF token of the first form on a page."""
    match = CSRF_FIELD.search(html)
    return (match.group(1) or match.group(2)) if match else None


def session_cookie(response: Response) -> str | None:
    """The `session=...` pair from a response's Set-Cookie headers."""
    for header in response.headers.get("set-cookie", []):
        pair = header.split(";", 1)[0].strip()
        if pair.startswith("session=") and pair != "session=":
            return pair
    return None


def duration_seconds(duration: str) -> float:
    """wrk's duration syntax (15s, 2m, 1h or bare seconds) in seconds."""
    units = {"s": 1, "m": 60, "h": 3600}
    if duration and duration[-1] in units:
        return float(duration[:-1]) * units[duration[-1]]
    return float(duration)


def parse_wrk(output: str, *, label: str, path: str) -> LoadResult | None:
    """Read the JSON line wrk_report.lua prints at the end of a run."""
    for line in output.splitlines():
        if line.startswith("WRK_JSON "):
            data = json.loads(line.removeprefix("WRK_JSON "))
            return LoadResult(
                label=label, path=path, requests=data["requests"],
                seconds=data["duration_us"] / 1e6, bytes=data["bytes"], not_ok=data["not_ok"],
                socket_errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
                p50_ms=data["p50_us"] / 1000, p90_ms=data["p90_us"] / 1000,
                p95_ms=data["p95_us"] / 1000, p99_ms=data["p99_us"] / 1000,
                max_ms=data["max_us"] / 1000, mean_ms=data["mean_us"] / 1000,
            )
    return None


def page_results(load: LoadResult, trivial: LoadResult | None, *, min_rps: float | None = None,
                 max_p50_ms: float | None = None, max_p95_ms: float | None = None,
                 min_ratio: float | None = None) -> list[Result]:
    """Rows for one page under load: throughput, latency percentiles, ratio, page size."""
    rows = [
        Result(f"{load.label}: throughput", load.rps, "req/s",
               at_least(min_rps) if min_rps is not None else None),
        Result(f"{load.label}: p50 latency", load.p50_ms, "ms",
               below(max_p50_ms) if max_p50_ms is not None else None),
        Result(f"{load.label}: p95 latency", load.p95_ms, "ms",
               below(max_p95_ms) if max_p95_ms is not None else None),
        Result(f"{load.label}: p99 latency", load.p99_ms, "ms"),
    ]
    if trivial is not None and trivial.rps:
        ratio = 100 * load.rps / trivial.rps
        rows.append(Result(f"{load.label}: throughput vs {trivial.path}", ratio, "%",
                           at_least(min_ratio) if min_ratio is not None else None))
    rows.append(Result(f"{load.label}: page size", load.bytes_per_response / 1024, "KB"))
    return rows


def memory_results(server: Server, *, limit_mb: float = 100) -> list[Result]:
    """One row per gunicorn worker: its peak memory after the load, and what it holds now."""
    memory = server.worker_memory_mb()
    if not memory:
        raise BenchmarkError("no gunicorn worker left to read memory from")
    return [Result(f"gunicorn worker {n} peak memory (VmHWM) after the load", peak, "MB",
                   at_most(limit_mb), note=f"holds {held:.0f} MB now")
            for n, (peak, held) in enumerate(sorted(memory.values()), start=1)]


@dataclass
class QueryCount:
    path: str
    status: int
    count: int
    statements: list[str]


def query_count_results(page: str, companies: list, paths: list[str], *,
                        roles: tuple[str, ...] = ("hr_partner", "manager"),
                        max_queries: int) -> list[Result]:
    """Rows for queries per request of one page, per role, per company size, plus the growth.

    companies are CompanyDatabase objects, smallest first; roles name the plan's people to
    sign in as (hr_partner, manager, employee). The worst path counts for each size.
    """
    from benchmarks.company import BENCH_PASSWORD

    labels = {"hr_partner": "HR partner", "manager": "manager", "employee": "employee"}
    rows = []
    for role in roles:
        worst = {}
        for db in companies:
            email = getattr(db.plan, role).email
            counts = count_queries(db.app(), email, BENCH_PASSWORD, paths)
            for count in counts:
                if count.status != 200:
                    raise BenchmarkError(f"{count.path} answered HTTP {count.status} to {email}")
            worst[db.plan.size] = max(c.count for c in counts)
            detail = ", ".join(f"{c.path} {c.count}" for c in counts) if len(counts) > 1 else ""
            rows.append(Result(f"{page} as {labels[role]}, {db.plan.size:,} people: queries per request",
                               worst[db.plan.size], "queries", at_most(max_queries), note=detail))
        smallest, largest = companies[0].plan.size, companies[-1].plan.size
        rows.append(Result(f"{page} as {labels[role]}: extra queries at {largest:,} vs {smallest:,} "
                           "people", worst[largest] - worst[smallest], "queries", at_most(0)))
    return rows


def count_queries(app, email: str, password: str, paths: list[str]) -> list[QueryCount]:
    """SQL statements per request for each path, in-process, signed in through the real form.

    Each path is requested once to warm up, then once more with a before_cursor_execute
    listener counting every statement the request sends to the database.
    """
    from sqlalchemy import event

    from touchpoints.extensions import db

    statements: list[str] = []

    def on_execute(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    client = app.test_client()
    with app.app_context():
        engine = db.engine
    page = client.get("/login")
    token = csrf_token(page.get_data(as_text=True))
    answer = client.post("/login", data={"email": email, "password": password,
                                         "csrf_token": token or "", "next": ""})
    if answer.status_code not in (302, 303):
        raise BenchmarkError(f"in-process sign-in as {email} was refused (HTTP {answer.status_code})")
    counts = []
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        for path in paths:
            client.get(path)
            statements.clear()
            response = client.get(path)
            counts.append(QueryCount(path, response.status_code, len(statements), list(statements)))
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        with app.app_context():
            db.engine.dispose()
    return counts
