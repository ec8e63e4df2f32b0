"""The smallest WSGI app: what gunicorn itself can serve on this machine right now (the ceiling)."""
from __future__ import annotations


def app(environ: dict, start_response) -> list[bytes]:
    """Answer every request with a two-byte 200."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
