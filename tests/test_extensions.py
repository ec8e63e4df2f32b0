"""Web workers load only what pages need: Flask-Migrate binds lazily (migration commands still
work), and Alembic, icalendar, slack-sdk, holidays, PyYAML and email-validator wait until used."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_python(code: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'lazy.sqlite'}", "FLASK_APP": "app"}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def test_serving_the_app_does_not_load_alembic_calendars_or_slack(tmp_path):
    # Each costs every worker memory (Alembic 10 MB, icalendar 3, slack-sdk 2.5, holidays 2.6,
    # PyYAML 1, email-validator 0.5).
    rarely_needed = ("alembic", "flask_migrate", "icalendar", "slack_sdk", "holidays", "yaml",
                     "email_validator")
    result = run_python(
        "import sys, app\n"
        "client = app.app.test_client()\n"
        "assert client.get('/login').status_code == 200\n"
        "assert client.get('/healthz').status_code == 200\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {rarely_needed!r}))", tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_flask_db_commands_and_upgrade_still_work(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}", "FLASK_APP": "app"}
    flask = [sys.executable, "-m", "flask", "db"]
    upgrade = subprocess.run([*flask, "upgrade"], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=300, check=False)
    assert upgrade.returncode == 0, upgrade.stderr
    current = subprocess.run([*flask, "-d", str(ROOT / "migrations"), "current"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120, check=False)
    assert current.returncode == 0, current.stderr
    assert "(head)" in current.stdout
