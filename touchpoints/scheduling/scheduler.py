"""Building and starting the scheduler, embedded in development or as its own process."""
from __future__ import annotations

import os
import socket
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from sqlalchemy import select

from touchpoints.auth.services import prune_old_login_attempts
from touchpoints.coffee.services import run_due_round
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.services import run_daily_journey_upkeep
from touchpoints.nudges.invitations import invite_upcoming
from touchpoints.nudges.reminders import (
    escalate_overdue,
    queue_survey_nudges,
    queue_team_digests,
    raise_policy_escalations,
    remind_owners,
)
from touchpoints.nudges.services import deliver
from touchpoints.policies.compliance import record_compliance_snapshot
from touchpoints.privacy.retention import run_retention
from touchpoints.programmes.services import run_programme_upkeep
from touchpoints.rituals.services import extend_ritual_series, remind_organisers
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
    # Nudges: each pass inserts with de-duplication keys, delivery claims rows under a lease.
    JobSpec("nudge-reminders", "Remind owners before their touchpoints are due (lead times per kind)",
            remind_owners, 300),
    JobSpec("nudge-escalations", "Tell the HR partner about touchpoints overdue for several days",
            escalate_overdue, 3600),
    JobSpec("nudge-policy-escalations", "Tell the HR partner, once, about new breaches of blocking "
            "human-touch policies, a person's or a team's", raise_policy_escalations, 3600),
    JobSpec("nudge-surveys", "Deliver survey invitations and reminders through the outbox",
            queue_survey_nudges, 300),
    JobSpec("nudge-calendar-invitations", "Email calendar invitations for one-on-ones and check-ins as "
            "they come within reach, and cancellations of those called off in bulk",
            invite_upcoming, 6 * 3600),
    JobSpec("nudge-team-digests", "Queue the weekly team digest for teams with a Slack channel or a "
            "Teams workflow that asked for it",
            queue_team_digests, 3600),
    JobSpec("nudge-delivery", "Deliver the outbox: Slack, Teams, email and in the app",
            deliver, 60),
    # Team rituals: occurrences are unique per ritual and due time, reminders per occurrence and
    # recipient, so both are idempotent.
    JobSpec("ritual-series", "Extend team rituals (team meetings, town halls) to the planning horizon",
            extend_ritual_series, 6 * 3600),
    JobSpec("ritual-reminders", "Remind organisers a day before their team rituals, and the morning "
            "after one nobody logged", remind_organisers, 900),
    # Coffee pairing: a round claims its date (unique), so it runs once however often this fires.
    JobSpec("coffee-pairing", "Close coffee chats whose window ended and, on the round day, pair the "
            "people who opted in", run_due_round, 900),
    # Privacy: idempotent deletes of what has outlived its retention period (privacy/retention.py).
    JobSpec("privacy-retention", "Delete grievance records two years after exit, old uploaded people "
            "files and expired reset links", run_retention, 24 * 3600),
    # Programmes: a pair whose buddy, mentor or mentee has left ends (idempotent: only live pairs).
    JobSpec("programme-upkeep", "End buddy and mentor pairs in which someone has left the company",
            run_programme_upkeep, 6 * 3600),
]

JOB_DEFAULTS = {
    "coalesce": True,  # a downed scheduler runs a missed job once, not once per missed slot
    "max_instances": 1,
    "misfire_grace_time": 6 * 3600,  # still run after a restart within six hours
}
RUNNER = f"{socket.gethostname()[:60]}:{os.getpid()}"


def _first_runs(app: Flask) -> dict[str, datetime]:
    """When each job runs first: its last run plus its interval, as recorded in the database.

    The interval trigger alone would wait a whole interval after every restart; reading the last
    run from the table makes a restarted scheduler run an overdue job at once (once: coalesced).
    """
    from touchpoints.scheduling.models import JobRun

    now = utcnow()
    with app.app_context():
        try:
            last = {row.job_id: row.last_started_at for row in db.session.scalars(select(JobRun))}
        except Exception:
            db.session.rollback()
            last = {}
        finally:
            db.session.remove()
    firsts = {}
    for index, spec in enumerate(JOBS):
        started = last.get(spec.id)
        due = started + timedelta(seconds=spec.seconds) if started else now
        # Staggered by a second each, so a fresh start does not run every job in the same instant.
        firsts[spec.id] = max(due, now + timedelta(seconds=index + 1))
    return firsts


def build_scheduler(app: Flask, *, blocking: bool) -> BaseScheduler:
    """A scheduler in UTC with every registered job wrapped in an app context that records its runs."""
    cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = cls(timezone="UTC", job_defaults=JOB_DEFAULTS)
    firsts = _first_runs(app)
    for spec in JOBS:
        scheduler.add_job(_in_app_context(app, spec), "interval", seconds=spec.seconds,
                          id=spec.id, name=spec.description, replace_existing=True,
                          next_run_time=firsts[spec.id])
    return scheduler


def record_run(spec: JobSpec, *, started: datetime, duration: float, result: object = None,
               error: str | None = None) -> None:
    """Keep a job's last run (works across processes: the HR page reads this table). Commits."""
    from touchpoints.scheduling.models import JobRun

    row = db.session.get(JobRun, spec.id)
    if row is None:
        row = JobRun(job_id=spec.id)
        db.session.add(row)
    row.description, row.interval_seconds = spec.description[:300], spec.seconds
    row.last_started_at, row.last_finished_at = started, started + timedelta(seconds=duration)
    row.last_duration_ms = int(duration * 1000)
    row.next_run_at = started + timedelta(seconds=spec.seconds)
    row.runs = (row.runs or 0) + 1
    row.last_runner = RUNNER
    if error is None:
        row.last_result = _describe(result)[:500]
    else:
        row.failures = (row.failures or 0) + 1
        row.last_error, row.last_error_at = error[-4000:], started
        row.last_result = "failed"
    db.session.commit()


def _describe(result: object) -> str:
    if hasattr(result, "summary"):
        return result.summary()
    if isinstance(result, dict):
        return ", ".join(f"{k}: {v}" for k, v in result.items()) or "done"
    return "done" if result is None else str(result)


def run_job(spec: JobSpec) -> object:
    """Run one job now in the current app context and record the run (what the scheduler calls)."""
    started, clock = utcnow(), time.perf_counter()
    try:
        result = spec.func()
    except Exception:
        db.session.rollback()
        record_run(spec, started=started, duration=time.perf_counter() - clock, error=traceback.format_exc())
        raise
    record_run(spec, started=started, duration=time.perf_counter() - clock, result=result)
    return result


def _in_app_context(app: Flask, spec: JobSpec) -> Callable[[], object]:
    def run() -> object:
        with app.app_context():
            try:
                return run_job(spec)
            finally:
                db.session.remove()

    run.__name__ = spec.func.__name__
    return run


_embedded_lock = threading.Lock()


def start_embedded(app: Flask) -> BaseScheduler | None:
    """Start the in-process scheduler once: only when asked for (SCHEDULER_EMBEDDED=1, `make run`),
    never in the reloader's watcher process, and never twice for one app."""
    if not app.config.get("SCHEDULER_EMBEDDED"):
        return None
    if os.environ.get("FLASK_RUN_FROM_CLI") == "true" and app.debug \
            and os.environ.get("WERKZEUG_RUN_MAIN") != "true":
        return None
    with _embedded_lock:
        existing = app.extensions.get("touchpoints_scheduler")
        if existing is not None:
            return existing
        scheduler = build_scheduler(app, blocking=False)
        scheduler.start()
        app.extensions["touchpoints_scheduler"] = scheduler
    return scheduler


def job_specs() -> dict[str, JobSpec]:
    """The registered jobs by id."""
    return {spec.id: spec for spec in JOBS}
