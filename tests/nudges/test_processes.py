"""Real scheduler processes against one database: killed in the middle of a delivery run and
restarted (nothing lost, nothing sent twice, the one in flight marked unknown), and two delivery
processes draining one queue on PostgreSQL without sending anything twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.factories import make_employee
from tests.nudges.conftest import nudges
from touchpoints.extensions import db
from touchpoints.nudges.models import NudgeKind, NudgeStatus
from touchpoints.nudges.services import enqueue
from touchpoints.people.models import Channel

ROOT = Path(__file__).resolve().parents[2]
DRIVER = """
import sys
from touchpoints import create_app
from touchpoints.config import TestConfig
from touchpoints.nudges.services import deliver
app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=sys.argv[1])
with app.app_context():
    print(deliver().summary(), flush=True)
"""


def _delivery_process(database_url: str, wired_config: dict, **extra) -> subprocess.Popen:
    env = {
        **os.environ,
        **{k: str(v) for k, v in wired_config.items()},
        "TOUCHPOINTS_ENV": "testing",
        "NUDGE_LEASE_SECONDS": "3",
        **{k: str(v) for k, v in extra.items()},
    }
    return subprocess.Popen(
        [sys.executable, "-c", DRIVER, database_url],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _people_on_slack(fake_slack, count: int):
    people = []
    for i in range(count):
        person = make_employee(f"Owner {i}", password=None, preferred_channel=Channel.SLACK)
        fake_slack.add_user(person.email, f"U{person.id:07d}")
        people.append(person)
    for person in people:
        enqueue(
            dedup_key=f"proc:{person.id}",
            kind=NudgeKind.REMINDER,
            recipient=person,
            payload={"headline": f"Hello {person.full_name}"},
        )
    db.session.commit()
    return people


def _channels_posted(fake_slack) -> list[str]:
    return [c.params["channel"] for c in fake_slack.calls_to("chat.postMessage")]


def test_a_scheduler_killed_mid_send_loses_nothing_and_sends_nothing_twice(
    app, database_url, wired_config, fake_slack
):
    """One sender thread: the run is killed while the third message is in flight."""
    _people_on_slack(fake_slack, 5)
    fake_slack.then("chat.postMessage")
    fake_slack.then("chat.postMessage")
    held = fake_slack.then("chat.postMessage", hold=__import__("threading").Event())
    process = _delivery_process(database_url, wired_config, NUDGE_SEND_THREADS=1)
    try:
        assert fake_slack.state.holding.wait(60), (
            process.stderr.read() if process.poll() is not None else "no send"
        )
        process.send_signal(signal.SIGKILL)  # killed while the third message is in flight
        process.wait(10)
    finally:
        held.hold.set()
        if process.poll() is None:
            process.kill()
    assert len(_channels_posted(fake_slack)) == 3
    time.sleep(3.5)  # the dead run's lease runs out
    restarted = _delivery_process(database_url, wired_config, NUDGE_SEND_THREADS=1)
    out, err = restarted.communicate(timeout=120)
    assert restarted.returncode == 0, err
    posted = _channels_posted(fake_slack)
    assert len(posted) == 5 and len(set(posted)) == 5  # every person once, no one twice
    states = [n.status for n in nudges()]
    assert states.count(NudgeStatus.SENT) == 4 and states.count(NudgeStatus.UNKNOWN) == 1
    assert states[2] is NudgeStatus.UNKNOWN  # the one in flight: a person decides, it is not resent
    assert "1 recovered unknown" in out and "2 sent" in out


def _wait_until_sent(count: int, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if len(nudges(status=NudgeStatus.SENT)) >= count:
            return
        assert process.poll() is None, process.stderr.read()
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} nudges were recorded as sent")


def test_a_run_with_several_sender_threads_killed_mid_send_leaves_only_the_one_in_flight_unknown(
    app, database_url, wired_config, fake_slack
):
    """Four sender threads: the others carry on and are recorded while one answer is held; then a kill."""
    people = _people_on_slack(fake_slack, 6)
    fake_slack.then("chat.postMessage")
    held = fake_slack.then("chat.postMessage", hold=__import__("threading").Event())
    process = _delivery_process(database_url, wired_config, NUDGE_SEND_THREADS=4)
    try:
        assert fake_slack.state.holding.wait(60), (
            process.stderr.read() if process.poll() is not None else "no send"
        )
        _wait_until_sent(5, process)  # every other message went out and its answer is recorded
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        calls = fake_slack.calls_to("chat.postMessage")
        unanswered = [c.params["channel"] for c in calls if "_answered_ok" not in c.params]
    finally:
        held.hold.set()
        if process.poll() is None:
            process.kill()
    assert len(unanswered) == 1
    in_flight = unanswered[0]
    time.sleep(3.5)  # the dead run's lease runs out
    restarted = _delivery_process(database_url, wired_config, NUDGE_SEND_THREADS=4)
    out, err = restarted.communicate(timeout=120)
    assert restarted.returncode == 0, err
    posted = _channels_posted(fake_slack)
    assert len(posted) == 6 and len(set(posted)) == 6  # every person once, no one twice
    by_person = {n.recipient_id: n.status for n in nudges()}
    unknown = [p for p in people if by_person[p.id] is NudgeStatus.UNKNOWN]
    assert [f"D{p.id:07d}" for p in unknown] == [in_flight]  # only the one in flight, never resent
    assert sum(s is NudgeStatus.SENT for s in by_person.values()) == 5
    assert "1 recovered unknown" in out and "sent" not in out


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_two_schedulers_on_postgresql_never_send_the_same_nudge(app, database_url, wired_config, fake_slack):
    _people_on_slack(fake_slack, 120)
    # Slack holds the first two answers until both have been asked for. A run sends one message at
    # a time until Slack has answered once, so the two held posts come from the two processes:
    # both are at work together however fast either starts or sends.
    # The held answers wait for the slower process to start, which takes seconds on a busy machine:
    # Slack's timeout and the lease are long enough that no held message is given up as unknown.
    gate = threading.Event()
    fake_slack.then("chat.postMessage", hold=gate)
    fake_slack.then("chat.postMessage", hold=gate)
    patient = {"NUDGE_BATCH_SIZE": 10, "NUDGE_SLACK_TIMEOUT": 90, "NUDGE_LEASE_SECONDS": 90}
    first = _delivery_process(database_url, wired_config, **patient)
    second = _delivery_process(database_url, wired_config, **patient)
    deadline = time.monotonic() + 60
    while len(fake_slack.calls_to("chat.postMessage")) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    gate.set()
    outputs = [p.communicate(timeout=180) for p in (first, second)]
    assert first.returncode == 0 and second.returncode == 0, outputs
    posted = _channels_posted(fake_slack)
    assert len(posted) == 120 and len(set(posted)) == 120
    assert {n.status for n in nudges()} == {NudgeStatus.SENT}
    sent_by = [int(out.split(" sent")[0].split()[-1]) if " sent" in out else 0 for out, _ in outputs]
    assert sum(sent_by) == 120 and min(sent_by) > 0, outputs  # both did a share of the work


def test_a_slow_answer_keeps_its_lease_so_no_other_run_takes_the_message(
    app, database_url, wired_config, fake_slack
):
    """The lease (3 s here) is renewed while an answer takes longer than it: nothing is sent twice."""
    from touchpoints.db_types import utcnow
    from touchpoints.nudges.services import recover_lost_leases

    _people_on_slack(fake_slack, 1)
    fake_slack.then("chat.postMessage", delay=6)
    process = _delivery_process(database_url, wired_config, NUDGE_SLACK_TIMEOUT=20)
    try:
        deadline = time.monotonic() + 30
        while not fake_slack.calls_to("chat.postMessage") and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(4.5)  # longer than the lease: the run must have renewed it by now
        assert recover_lost_leases(utcnow()) == (0, 0)  # what another scheduler would do first
        [nudge] = nudges()
        assert nudge.status is NudgeStatus.SENDING and nudge.lease_until > utcnow()
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "1 sent" in out
    assert [n.status for n in nudges()] == [NudgeStatus.SENT]
    assert len(_channels_posted(fake_slack)) == 1


def test_a_run_that_stalls_past_its_lease_does_not_send_what_another_run_took_over(
    app, database_url, wired_config, fake_slack
):
    """A run frozen (SIGSTOP) longer than its lease wakes up to find its messages sent by another run."""
    from touchpoints.nudges.services import deliver

    _people_on_slack(fake_slack, 3)
    held = fake_slack.then("chat.postMessage", hold=threading.Event())
    stalled = _delivery_process(database_url, wired_config, NUDGE_SEND_THREADS=1, NUDGE_SLACK_TIMEOUT=60)
    try:
        assert fake_slack.state.holding.wait(60), (
            stalled.stderr.read() if stalled.poll() is not None else "no send"
        )
        stalled.send_signal(signal.SIGSTOP)  # frozen with the first message in flight, two waiting
        time.sleep(3.5)  # its lease runs out
        report = deliver()  # another scheduler takes over
        assert report.recovered_unknown == 1 and report.sent == 2
        held.hold.set()
        stalled.send_signal(signal.SIGCONT)
        out, err = stalled.communicate(timeout=60)
    finally:
        held.hold.set()
        if stalled.poll() is None:
            stalled.send_signal(signal.SIGCONT)
            stalled.kill()
    assert stalled.returncode == 0, err
    posted = _channels_posted(fake_slack)
    assert len(posted) == 3 and len(set(posted)) == 3  # the two it had waiting were not sent again
    assert "2 lease lost" in out
