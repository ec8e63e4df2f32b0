"""Configuration read from the environment, one class per deployment mode."""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"
DEV_SECRET_KEY = "dev-only-insecure-secret-key"  # noqa: S105 - refused in production


def database_url(raw: str | None) -> str:
    """Normalise a DATABASE_URL so PostgreSQL URLs use the psycopg 3 driver."""
    if not raw:
        return f"sqlite:///{INSTANCE_DIR / 'touchpoints.sqlite'}"
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix):]
    return raw


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


class Config:
    """Development defaults; every value can be overridden from the environment."""

    ENV_NAME = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL"))
    # hide_parameters: a failed statement's error message (and so the log) must not carry the values
    # it was saving: survey answers, private notes, grievance details.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True, "hide_parameters": True}
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Flask refuses a session cookie signed longer ago than this, so a sign-in lasts a working
    # day and a copied cookie does not work for weeks.
    PERMANENT_SESSION_LIFETIME = timedelta(hours=_int("SESSION_HOURS", 12))
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # bound to the session instead of a clock
    MAX_CONTENT_LENGTH = _int("MAX_UPLOAD_BYTES", 5 * 1024 * 1024)
    PEOPLE_PER_PAGE = 25
    # Login throttling: failures allowed inside the window before sign-in is refused.
    LOGIN_MAX_FAILURES_PER_ACCOUNT = _int("LOGIN_MAX_FAILURES_PER_ACCOUNT", 5)
    LOGIN_MAX_FAILURES_PER_ADDRESS = _int("LOGIN_MAX_FAILURES_PER_ADDRESS", 20)
    LOGIN_THROTTLE_WINDOW_SECONDS = _int("LOGIN_THROTTLE_WINDOW_SECONDS", 15 * 60)
    PASSWORD_RESET_HOURS = _int("PASSWORD_RESET_HOURS", 48)
    # scrypt N=2^14, r=8, p=5: one of OWASP's equivalent minimum settings. Half the memory of
    # werkzeug's default (16 MiB a hash instead of 32, so a web worker stays small) for 2.5 times
    # its work (werkzeug's N=2^15, p=1 is below OWASP's minimum for that N, which asks p=3).
    # Hashes made with other parameters keep verifying and are redone at the next sign-in.
    PASSWORD_HASH_METHOD = os.environ.get("PASSWORD_HASH_METHOD", "scrypt:16384:8:5")
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are trusted. 0 ignores
    # those headers: anyone can send them, and sign-in throttling counts client addresses.
    TRUSTED_PROXY_COUNT = _int("TRUSTED_PROXY_COUNT", 0)
    DEFAULT_TIMEZONE = os.environ.get("DEFAULT_TIMEZONE", "Europe/London")
    DEFAULT_COUNTRY = os.environ.get("DEFAULT_COUNTRY", "GB")
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")
    # The embedded scheduler runs only where explicitly asked for (make run, flask scheduler).
    SCHEDULER_EMBEDDED = os.environ.get("SCHEDULER_EMBEDDED", "0") == "1"
    SLACK_BOT_TOKEN = os.environ.get("SLACK_BOT_TOKEN")
    SLACK_SIGNING_SECRET = os.environ.get("SLACK_SIGNING_SECRET")
    SLACK_API_URL = os.environ.get("SLACK_API_URL", "https://slack.com/api/")
    # Journeys: one-on-one cadence when neither the person nor the team sets one, and how far
    # ahead recurring series are materialised.
    DEFAULT_ONE_ON_ONE_CADENCE_DAYS = _int("DEFAULT_ONE_ON_ONE_CADENCE_DAYS", 14)
    JOURNEY_HORIZON_DAYS = _int("JOURNEY_HORIZON_DAYS", 90)
    # Home pages: how long each person's drawn page is served again (0: drawn on every request).
    HOME_CACHE_SECONDS = _int("HOME_CACHE_SECONDS", 60)
    # Privacy: retention periods in days (touchpoints/privacy/retention.py says what each covers).
    RETENTION_GRIEVANCE_DAYS = _int("RETENTION_GRIEVANCE_DAYS", 730)
    RETENTION_IMPORT_DAYS = _int("RETENTION_IMPORT_DAYS", 30)
    RETENTION_RESET_LINK_DAYS = _int("RETENTION_RESET_LINK_DAYS", 30)


class ProductionConfig(Config):
    """Production: secure cookies and a real secret key are mandatory."""

    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True


class TestConfig(Config):
    """Tests: a throwaway database and fast password hashing."""

    ENV_NAME = "testing"
    TESTING = True
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"  # noqa: S105 - cheap hashing for tests only
    HOME_CACHE_SECONDS = 0  # a home page shows what the test just wrote


CONFIGS = {"development": Config, "production": ProductionConfig, "testing": TestConfig}


def config_for_environment() -> type[Config]:
    """Pick the configuration class named by TOUCHPOINTS_ENV (development by default)."""
    name = os.environ.get("TOUCHPOINTS_ENV", "development")
    if name not in CONFIGS:
        raise RuntimeError(f"TOUCHPOINTS_ENV must be one of {', '.join(CONFIGS)}, not {name!r}")
    return CONFIGS[name]
