"""Finding a PostgreSQL server for the tests: TEST_DATABASE_URL, or a throwaway local cluster."""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalCluster:
    """A PostgreSQL cluster in a temporary folder, for non-root developers with the binaries."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="tp-pg-"))
        self.port = _free_port()

    def start(self) -> str:
        data = self.root / "data"
        subprocess.run([self.bindir / "initdb", "-D", data, "-U", "postgres", "--auth=trust",
                        "-E", "UTF8", "--no-sync"], check=True, capture_output=True)
        subprocess.run([self.bindir / "pg_ctl", "-D", data, "-l", self.root / "log", "-w", "start",
                        "-o", f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                              "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"],
                       check=True, capture_output=True)
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        subprocess.run([self.bindir / "pg_ctl", "-D", self.root / "data", "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


def _local_bindir() -> Path | None:
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return None  # initdb refuses root; CI starts Debian's cluster and sets TEST_DATABASE_URL
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


def server_url() -> tuple[str | None, LocalCluster | None, str]:
    """(url, cluster to stop afterwards, reason when there is none)."""
    from touchpoints.config import database_url

    if os.environ.get("TEST_DATABASE_URL"):
        return database_url(os.environ["TEST_DATABASE_URL"]), None, ""
    bindir = _local_bindir()
    if bindir is None:
        return None, None, ("no PostgreSQL: set TEST_DATABASE_URL (running as root, the tests "
                            "cannot start their own cluster)")
    cluster = LocalCluster(bindir)
    for _ in range(3):
        try:
            return cluster.start(), cluster, ""
        except subprocess.CalledProcessError as error:  # a port race: try another port
            cluster.stop()
            cluster = LocalCluster(bindir)
            reason = error.stderr.decode(errors="replace") if error.stderr else str(error)
            time.sleep(0.2)
    return None, None, f"could not start a local PostgreSQL: {reason}"
