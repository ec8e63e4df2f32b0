"""Building and starting the scheduler, embedded in development or as its own process."""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from touchpoints.auth.services import prune_old_login_attempts
from touchpoints.journeys.services import run_daily_journey_upkeep
from touchpoints.policies.compliance import record_compliance_snapshot
from touchpoints.surveys.services import close_expired_rounds, open_due_rounds, send_due_reminders


@dataclass(frozen=True)
class JobSpec:
    """A periodic job: a service function called inside an app context every `seconds`."""

    id: str
    description: str
    func: Callable[[], object]
    seconds: int


# Capabilities add their jobs here as they land (journeys, nudges, surveys).
JOBS: list[JobSpec] = [
    JobSpec("prune-login-attempts", "Forget sign-in attempts older than a day",
            prune_old_login_attempts, 3600),
    # Idempotent, so it runs every six hours: a restart never waits a day for new series.
    JobSpec("journey-upkeep", "Record starts, extend recurring touchpoints to the horizon, "
            "close finished enrolments", run_daily_journey_upkeep, 6 * 3600),
    # Surveys: each claims its rounds with a status guard, so two schedulers never act twice.
    JobSpec("survey-open-rounds", "Open planned survey rounds whose day has come and invite their "
            "audience", open_due_rounds, 300),
    JobSpec("survey-close-rounds", "Close survey rounds whose window has ended, build their results "
            "and run the feedback loop", close_expired_rounds, 300),
    # Policies: this week's figures for the compliance trend (replaced on each run, so idempotent).
    JobSpec("policy-compliance-snapshot", "Evaluate the human-touch policies over the company and keep "
            "this week's figures for the trend", record_compliance_snapshot, 6 * 3600),
    JobSpec("survey-reminders", "Remind, once, the people who have not answered an open round",
            send_due_reminders, 900),
]

JOB_DEFAULTS = {
    "coalesce": True,  # a downed scheduler runs a missed job once, not once per missed slot
    "max_instances": 1,
    "misfire_grace_time": 6 * 3600,  # still run after a restart within six hours
}


def build_scheduler(app: Flask, *, blocking: bool) -> BaseScheduler:
    """A scheduler in UTC with every registered job wrapped in an app context."""
    cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = cls(timezone="UTC", job_defaults=JOB_DEFAULTS)
    for spec in JOBS:
        scheduler.add_job(_in_app_context(app, spec.func), "interval", seconds=spec.seconds,
                          id=spec.id, name=spec.description, replace_existing=True)
    return scheduler


def _in_app_context(app: Flask, func: Callable[[], object]) -> Callable[[], object]:
    def run() -> object:
        with app.app_context():
            return func()

    run.__name__ = func.__name__
    return run


def start_embedded(app: Flask) -> BaseScheduler | None:
    """Start the in-process scheduler once (never in the reloader's watcher process)."""
    if os.environ.get("FLASK_RUN_FROM_CLI") == "true" and app.debug \
            and os.environ.get("WERKZEUG_RUN_MAIN") != "true":
        return None
    scheduler = build_scheduler(app, blocking=False)
    scheduler.start()
    app.extensions["touchpoints_scheduler"] = scheduler
    return scheduler
