"""The outbox itself: one row per key ever, claims that never overlap, leases that end in `unknown`."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import make_employee
from tests.nudges.conftest import NOW, nudges
from touchpoints.extensions import db
from touchpoints.nudges.models import DeliveryChannel, NudgeKind, NudgeStatus
from touchpoints.nudges.services import (
    backoff_delay,
    claim_due_nudges,
    deliver,
    enqueue,
    expire_stale,
    recover_lost_leases,
)
from touchpoints.nudges.settings import NudgeSettings
from touchpoints.people.models import Channel


def _queue(person, count: int, *, at=NOW, **extra) -> None:
    for i in range(count):
        enqueue(
            dedup_key=f"test:{person.id}:{i}",
            kind=NudgeKind.NOTICE,
            recipient=person,
            at=at,
            payload={"headline": f"Notice {i}"},
            **extra,
        )
    db.session.commit()


def test_the_same_key_is_queued_once_ever(app):
    person = make_employee("Ada", preferred_channel=Channel.IN_APP)
    assert enqueue(dedup_key="reminder:1", kind=NudgeKind.NOTICE, recipient=person, at=NOW)
    db.session.commit()
    deliver(now=NOW)
    # Again later, after it was sent: still nothing new.
    assert not enqueue(
        dedup_key="reminder:1", kind=NudgeKind.NOTICE, recipient=person, at=NOW + timedelta(days=9)
    )
    db.session.commit()
    assert [n.status for n in nudges()] == [NudgeStatus.SENT]


def test_a_nudge_is_written_in_the_callers_transaction(app):
    person = make_employee("Ada", preferred_channel=Channel.IN_APP)
    enqueue(dedup_key="rolled-back", kind=NudgeKind.NOTICE, recipient=person, at=NOW)
    db.session.rollback()
    assert nudges() == []


def test_claims_take_only_due_rows_and_never_the_same_row_twice(app):
    person = make_employee("Ada", preferred_channel=Channel.IN_APP)
    _queue(person, 5)
    enqueue(dedup_key="later", kind=NudgeKind.NOTICE, recipient=person, at=NOW + timedelta(hours=1))
    db.session.commit()
    first = claim_due_nudges("worker-a", limit=3, now=NOW, lease_seconds=60)
    second = claim_due_nudges("worker-b", limit=10, now=NOW, lease_seconds=60)
    assert len(first) == 3 and len(second) == 2
    assert not set(first) & set(second)
    assert claim_due_nudges("worker-c", limit=10, now=NOW, lease_seconds=60) == []
    leased = {n.id: n.lease_owner for n in nudges(status=NudgeStatus.SENDING)}
    assert {leased[i] for i in first} == {"worker-a"} and {leased[i] for i in second} == {"worker-b"}


def test_a_lost_lease_requeues_what_never_left_and_marks_the_one_in_flight_unknown(app):
    person = make_employee("Ada", preferred_channel=Channel.IN_APP)
    _queue(person, 3)
    ids = claim_due_nudges("dead-worker", limit=3, now=NOW, lease_seconds=60)
    # The dead worker had started sending the first one when it was killed.
    from sqlalchemy import update

    from touchpoints.nudges.models import Nudge

    db.session.execute(update(Nudge).where(Nudge.id == ids[0]).values(send_started_at=NOW))
    db.session.commit()
    assert recover_lost_leases(NOW + timedelta(seconds=30)) == (0, 0)  # lease still running
    assert recover_lost_leases(NOW + timedelta(seconds=61)) == (2, 1)
    states = {n.id: n for n in nudges()}
    assert states[ids[0]].status is NudgeStatus.UNKNOWN
    assert "answer was lost" in states[ids[0]].last_error
    assert {states[i].status for i in ids[1:]} == {NudgeStatus.PENDING}


def test_stale_nudges_expire_instead_of_arriving_late(app):
    person = make_employee("Ada", preferred_channel=Channel.IN_APP)
    enqueue(
        dedup_key="stale",
        kind=NudgeKind.NOTICE,
        recipient=person,
        at=NOW - timedelta(days=3),
        expires_at=NOW - timedelta(days=2),
    )
    enqueue(
        dedup_key="fresh", kind=NudgeKind.NOTICE, recipient=person, at=NOW, expires_at=NOW + timedelta(days=1)
    )
    db.session.commit()
    assert expire_stale(NOW) == 1
    assert {n.dedup_key: n.status for n in nudges()} == {
        "stale": NudgeStatus.EXPIRED,
        "fresh": NudgeStatus.PENDING,
    }


@pytest.mark.parametrize("attempts", [1, 2, 5, 12])
def test_backoff_grows_with_jitter_and_honours_retry_after(app, attempts):
    settings = NudgeSettings(backoff_base_seconds=30, backoff_max_seconds=3600)
    ceiling = min(3600, 30 * 2 ** (attempts - 1))
    delays = {backoff_delay(attempts, settings) for _ in range(50)}
    assert all(ceiling / 2 <= d <= ceiling for d in delays)
    assert len(delays) > 1  # jitter: two runs do not retry in lockstep
    assert 120 <= backoff_delay(attempts, settings, retry_after=120) <= 126


def test_in_app_nudges_are_delivered_without_any_outside_call(app, fake_slack):
    person = make_employee("Ada", preferred_channel=Channel.IN_APP)
    _queue(person, 3)
    report = deliver(now=NOW)
    assert report.sent == 3
    assert [n.channel for n in nudges()] == [DeliveryChannel.IN_APP] * 3
    assert fake_slack.state.calls == []
