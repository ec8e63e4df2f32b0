"""A fake Slack Web API on 127.0.0.1 that answers like the real one.

Documented response shapes (`ok: true` with the method's fields, `ok: false` with an `error`),
HTTP 429 with Retry-After, HTTP 500s, slow answers and answers held open until a test lets go.
slack-sdk's WebClient talks to it through `base_url`; each call is recorded.

Run alone (for benchmarks): `python -m tests.fakes.slack --port 0` prints its base URL.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import itertools
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

VALID_TOKEN = "xoxb-test-token"


def signed_interaction(payload: dict[str, Any], *, secret: str,
                       timestamp: int | None = None) -> tuple[str, dict[str, str]]:
    """A request body and headers as Slack sends an interaction: form-encoded payload, v0 HMAC-SHA256."""
    body = urlencode({"payload": json.dumps(payload)})
    ts = str(timestamp if timestamp is not None else int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return body, {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": "application/x-www-form-urlencoded",
    }


@dataclass
class Scripted:
    """One scripted answer for the next call of a method."""

    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    delay: float = 0.0
    hold: threading.Event | None = None
    body: str | None = None  # raw body (e.g. an HTML error page)


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    token: str
    at: float


@dataclass
class SlackState:
    users: dict[str, str] = field(default_factory=dict)  # email (lower) -> user id
    tokens: set[str] = field(default_factory=lambda: {VALID_TOKEN})
    revoked: set[str] = field(default_factory=set)
    script: dict[str, list[Scripted]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    record_calls: bool = True
    posted_count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Set when a held answer has been reached (the request arrived and waits).
    holding: threading.Event = field(default_factory=threading.Event)


class FakeSlack:
    """The server and its state; use as a context manager or call start()/stop()."""

    def __init__(self, port: int = 0):
        self.state = SlackState()
        self._ts = itertools.count(1)
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True, name="fake-slack")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/api/"

    def start(self) -> FakeSlack:
        self.thread.start()
        return self

    def stop(self) -> None:
        for answers in self.state.script.values():
            for answer in answers:
                if answer.hold is not None:
                    answer.hold.set()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ---------------------------------------------------------- scripting

    def add_user(self, email: str, user_id: str) -> None:
        self.state.users[email.lower()] = user_id

    def then(self, method: str, **answer) -> Scripted:
        """Script the next answer of a method (queued after earlier scripted ones)."""
        scripted = Scripted(**answer)
        with self.state.lock:
            self.state.script.setdefault(method, []).append(scripted)
        return scripted

    def revoke(self, token: str = VALID_TOKEN) -> None:
        self.state.revoked.add(token)

    def calls_to(self, method: str) -> list[Call]:
        with self.state.lock:
            return [c for c in self.state.calls if c.method == method]

    def messages(self) -> list[dict[str, Any]]:
        """The chat.postMessage calls that were answered ok (what people would see)."""
        return [c.params for c in self.calls_to("chat.postMessage") if c.params.get("_answered_ok")]

    # ---------------------------------------------------------- answering

    def answer(self, method: str, params: dict[str, Any], token: str) -> tuple[int, dict[str, str], bytes]:
        state = self.state
        call = Call(method, params, token, time.time())
        if state.record_calls:
            with state.lock:
                state.calls.append(call)
        with state.lock:
            queue = state.script.get(method)
            scripted = queue.pop(0) if queue else None
        if scripted is not None:
            if scripted.hold is not None:
                state.holding.set()
                scripted.hold.wait(60)
            if scripted.delay:
                time.sleep(scripted.delay)
            if scripted.body is not None or scripted.status != 200 or scripted.error:
                headers = (
                    {"Retry-After": str(scripted.retry_after)} if scripted.retry_after is not None else {}
                )
                if scripted.body is not None:
                    return scripted.status, {**headers, "Content-Type": "text/html"}, scripted.body.encode()
                error = scripted.error or ("ratelimited" if scripted.status == 429 else "internal_error")
                return scripted.status, headers, _json({"ok": False, "error": error})
        if method == "fake.stats":  # not Slack: lets a benchmark read the count from another process
            return 200, {}, _json({"ok": True, "posted": state.posted_count})
        if token in state.revoked:
            return 200, {}, _json({"ok": False, "error": "token_revoked"})
        if token not in state.tokens:
            return 200, {}, _json({"ok": False, "error": "invalid_auth"})
        payload = self._ok(method, params)
        if payload.get("ok") and method == "chat.postMessage":
            params["_answered_ok"] = True
            with state.lock:
                state.posted_count += 1
        return 200, {}, _json(payload)

    def _ok(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://example.slack.com/",
                "team": "Example",
                "user": "touchpoints",
                "team_id": "T0EXAMPLE",
                "user_id": "U0BOT",
                "bot_id": "B0BOT",
            }
        if method == "users.lookupByEmail":
            user_id = self.state.users.get(str(params.get("email", "")).lower())
            if user_id is None:
                return {"ok": False, "error": "users_not_found"}
            return {
                "ok": True,
                "user": {
                    "id": user_id,
                    "team_id": "T0EXAMPLE",
                    "name": user_id.lower(),
                    "deleted": False,
                    "tz": "Europe/London",
                    "profile": {"email": params.get("email")},
                },
            }
        if method == "conversations.open":
            users = str(params.get("users", ""))
            if not users:
                return {"ok": False, "error": "invalid_arguments"}
            return {
                "ok": True,
                "no_op": True,
                "already_open": True,
                "channel": {"id": "D" + users.lstrip("U")},
            }
        if method in ("chat.postMessage", "chat.update"):
            channel = str(params.get("channel", ""))
            if not channel:
                return {"ok": False, "error": "channel_not_found"}
            if not params.get("text") and not params.get("blocks"):
                return {"ok": False, "error": "no_text"}
            ts = params.get("ts") or f"{1700000000 + next(self._ts)}.000100"
            return {
                "ok": True,
                "channel": channel,
                "ts": ts,
                "message": {
                    "type": "message",
                    "text": params.get("text", ""),
                    "ts": ts,
                    "bot_id": "B0BOT",
                    "blocks": params.get("blocks", []),
                },
            }
        if method == "views.open":
            return {
                "ok": True,
                "view": {"id": f"V{next(self._ts):08d}", "type": "modal", **(params.get("view") or {})},
            }
        return {"ok": False, "error": "unknown_method"}


def _json(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode("utf-8")


def _handler(fake: FakeSlack):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body leave in separate writes: without this, Nagle's algorithm meets the
            # client's delayed ACK and every answer waits ~40 ms, which real services do not do.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, *args) -> None:  # quiet
            return

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            kind = self.headers.get("Content-Type", "")
            params: dict[str, Any] = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
            if "json" in kind and raw:
                params.update(json.loads(raw))
            elif raw:
                params.update({k: v[0] for k, v in parse_qs(raw.decode()).items()})
            for key in ("blocks", "view"):
                if isinstance(params.get(key), str):
                    params[key] = json.loads(params[key])
            token = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
            method = urlsplit(self.path).path.rsplit("/", 1)[-1]
            status, headers, body = fake.answer(method, params, token)
            self.send_response(status)
            self.send_header("Content-Type", headers.pop("Content-Type", "application/json; charset=utf-8"))
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description="A fake Slack Web API on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--users", type=int, default=0, help="known users person{i}@example.com")
    parser.add_argument("--no-record", action="store_true", help="do not keep calls (flat memory)")
    args = parser.parse_args()
    fake = FakeSlack(args.port)
    fake.state.record_calls = not args.no_record
    for i in range(args.users):
        fake.add_user(f"person{i}@example.com", f"U{i:08d}")
    print(fake.base_url, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        fake.server.serve_forever()


if __name__ == "__main__":
    main()
