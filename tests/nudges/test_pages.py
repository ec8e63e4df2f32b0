"""HR's delivery page (problems, decisions, jobs, channels) and the scheduler's record of its runs."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from tests.factories import make_employee
from tests.nudges.conftest import NOW, nudges
from tests.querycount import count_queries
from touchpoints.extensions import db
from touchpoints.nudges.models import NudgeKind, NudgeStatus
from touchpoints.nudges.services import deliver, enqueue
from touchpoints.people.models import Channel
from touchpoints.scheduling.models import JobRun
from touchpoints.scheduling.scheduler import JOBS, _first_runs, job_specs, run_job, start_embedded


def _problems(fake_slack, count: int) -> None:
    for i in range(count):
        person = make_employee(f"Owner {i}", password=None, preferred_channel=Channel.SLACK)
        fake_slack.add_user(person.email, f"U{person.id:06d}")
        enqueue(
            dedup_key=f"problem:{i}",
            kind=NudgeKind.REMINDER,
            recipient=person,
            at=NOW,
            payload={"headline": f"Problem {i}"},
        )
        fake_slack.then("chat.postMessage", error="channel_not_found")
    db.session.commit()
    deliver(now=NOW)


def test_hr_sees_dead_nudges_with_their_reason_and_can_retry_or_dismiss(client, login, people, fake_slack):
    _problems(fake_slack, 2)
    login(people["hr"])
    page = client.get("/nudges/delivery")
    assert page.status_code == 200
    assert page.data.count(b"channel_not_found") == 2 and b"Scheduler jobs" in page.data
    first, second = nudges(status=NudgeStatus.DEAD)
    client.post(f"/nudges/{first.id}/retry")
    client.post(f"/nudges/{second.id}/dismiss")
    db.session.expire_all()
    assert nudges()[0].status is NudgeStatus.PENDING and nudges()[1].status is NudgeStatus.DISMISSED
    assert deliver().sent == 1  # retried now (real time)


def test_an_unknown_nudge_can_be_marked_as_arrived(client, login, people, fake_slack, app):
    app.config["NUDGE_SLACK_TIMEOUT"] = 1
    enqueue(
        dedup_key="lost",
        kind=NudgeKind.REMINDER,
        recipient=people["manager"],
        at=NOW,
        payload={"headline": "Lost answer"},
    )
    db.session.commit()
    fake_slack.then("chat.postMessage", delay=2)
    deliver(now=NOW)
    [lost] = nudges()
    assert lost.status is NudgeStatus.UNKNOWN
    login(people["hr"])
    assert b"It arrived" in client.get("/nudges/delivery").data
    client.post(f"/nudges/{lost.id}/dismiss", data={"arrived": "1"})
    assert nudges()[0].status is NudgeStatus.SENT


def test_the_delivery_page_costs_the_same_queries_for_many_problems(app, client, login, people, fake_slack):
    login(people["hr"])
    _problems(fake_slack, 2)
    with count_queries(db.engine) as small:
        client.get("/nudges/delivery")
    _problems(fake_slack, 30)
    with count_queries(db.engine) as large:
        assert client.get("/nudges/delivery").status_code == 200
    assert small.count == large.count <= 14, large.report()


def test_only_hr_partners_see_the_delivery_page(client, login, people):
    login(people["manager"])
    assert client.get("/nudges/delivery").status_code == 403


def test_each_job_run_is_recorded_for_the_page_with_its_errors(app, client, login, people):
    spec = job_specs()["nudge-reminders"]
    run_job(spec)
    row = db.session.get(JobRun, "nudge-reminders")
    assert row.runs == 1 and row.last_duration_ms is not None and row.next_run_at > row.last_started_at
    assert "queued" in row.last_result and row.last_error == ""
    from dataclasses import replace

    def broken() -> None:
        raise RuntimeError("the database went away")

    failing = replace(spec, func=broken)
    with contextlib.suppress(RuntimeError):
        run_job(failing)
    db.session.expire_all()
    row = db.session.get(JobRun, "nudge-reminders")
    assert row.failures == 1 and "the database went away" in row.last_error
    login(people["hr"])
    page = client.get("/nudges/delivery")
    assert b"the database went away" in page.data and b"1 failure" in page.data


def test_a_restarted_scheduler_runs_an_overdue_job_at_once(app):
    from touchpoints.db_types import utcnow

    long_ago = utcnow() - timedelta(days=3)
    db.session.add(JobRun(job_id="nudge-escalations", last_started_at=long_ago, runs=1))
    recent = utcnow() - timedelta(minutes=10)
    db.session.add(JobRun(job_id="journey-upkeep", last_started_at=recent, runs=1))
    db.session.commit()
    firsts = _first_runs(app)
    assert firsts["nudge-escalations"] <= utcnow() + timedelta(seconds=len(JOBS) + 1)
    assert firsts["journey-upkeep"] >= recent + timedelta(hours=6) - timedelta(seconds=1)


def test_the_embedded_scheduler_starts_only_when_asked_and_only_once(app):
    app.config["SCHEDULER_EMBEDDED"] = False
    assert start_embedded(app) is None
    app.config["SCHEDULER_EMBEDDED"] = True
    scheduler = start_embedded(app)
    try:
        assert scheduler is not None and start_embedded(app) is scheduler
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert set(jobs) == {spec.id for spec in JOBS}
        delivery = jobs["nudge-delivery"]
        assert (
            delivery.coalesce is True
            and delivery.max_instances == 1
            and delivery.misfire_grace_time == 6 * 3600
        )
        assert str(scheduler.timezone) == "UTC"
    finally:
        scheduler.shutdown(wait=False)
