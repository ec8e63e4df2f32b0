"""A fake Teams Workflows webhook receiver on 127.0.0.1: 202 Accepted like the real one, or scripted
404/410 (workflow deleted), 429 with Retry-After, 500s and slow answers. Each POST is recorded."""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class TeamsAnswer:
    status: int = 202
    retry_after: int | None = None
    delay: float = 0.0


@dataclass
class FakeTeamsState:
    gone: set[str] = field(default_factory=set)  # webhook names answering 404
    script: list[TeamsAnswer] = field(default_factory=list)
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    accepted: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class FakeTeams:
    """Webhook URLs look like {base}/workflows/<name>."""

    def __init__(self):
        self.state = FakeTeamsState()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True, name="fake-teams")

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/workflows/{name}"

    def then(self, **answer) -> None:
        with self.state.lock:
            self.state.script.append(TeamsAnswer(**answer))

    def __enter__(self) -> FakeTeams:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def _handler(fake: FakeTeams):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body leave in separate writes: without this, Nagle's algorithm meets the
            # client's delayed ACK and every answer waits ~40 ms, which real services do not do.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, *args) -> None:
            return

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            name = self.path.rsplit("/", 1)[-1]
            state = fake.state
            with state.lock:
                state.received.append((name, body))
                answer = state.script.pop(0) if state.script else TeamsAnswer()
            if name in state.gone:
                answer = TeamsAnswer(status=404)
            if answer.delay:
                time.sleep(answer.delay)
            if answer.status == 202:
                with state.lock:
                    state.accepted.append((name, body))
            payload = (
                b""
                if answer.status == 202
                else json.dumps(
                    {
                        "error": {
                            "code": "WorkflowNotFound" if answer.status in (404, 410) else "Error",
                            "message": "scripted",
                        }
                    }
                ).encode()
            )
            self.send_response(answer.status)
            if answer.retry_after is not None:
                self.send_header("Retry-After", str(answer.retry_after))
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler
