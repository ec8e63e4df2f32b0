"""Security headers on every response."""
from __future__ import annotations

from flask import Flask, Response, request
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


def init_app(app: Flask) -> None:
    """Trust the configured proxies' client address and scheme, and attach the header hook."""
    proxies = app.config.get("TRUSTED_PROXY_COUNT", 0)
    if proxies:
        # Only address and scheme: a forwarded Host would let a client choose the host that
        # password reset links are built with.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        # No other site's window keeps a handle on ours (tab-nabbing, cross-window leaks).
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config["ENV_NAME"] == "production":
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        # Personal data must not linger in shared browser or proxy caches.
        if request.endpoint != "static" and _signed_in():
            headers["Cache-Control"] = "no-store"
        return response


def _signed_in() -> bool:
    """Whether the request is signed in; unknown (the database is away) counts as signed in."""
    try:
        return bool(current_user and current_user.is_authenticated)
    except Exception:  # an error page is on its way; keep it out of caches
        return True
