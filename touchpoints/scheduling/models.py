"""What the scheduler did: one row per job with its last run, next run, duration and last error."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from touchpoints.db_types import UTCDateTime
from touchpoints.extensions import db


class JobRun(db.Model):
    """The latest run of one periodic job, written by whichever scheduler process ran it."""

    __tablename__ = "scheduler_jobs"

    job_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    description: Mapped[str] = mapped_column(String(300), default="")
    interval_seconds: Mapped[int] = mapped_column(default=0)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_duration_ms: Mapped[int | None]
    last_result: Mapped[str] = mapped_column(String(500), default="")
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    runs: Mapped[int] = mapped_column(default=0)
    failures: Mapped[int] = mapped_column(default=0)
    # Which process ran it last (host:pid), to tell two schedulers apart.
    last_runner: Mapped[str] = mapped_column(String(120), default="")
