"""The nudges API: my notifications (list, mark read); the outbox, retry and dismiss, and the scheduler's
jobs for HR partners only."""

from __future__ import annotations

from tests.api.conftest import ApiClient
from tests.factories import make_employee, make_hr, make_manager
from tests.nudges.conftest import nudges
from touchpoints.api.services import issue_token, user_for_email
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.nudges.models import DeliveryChannel, Nudge, NudgeKind, NudgeStatus
from touchpoints.nudges.services import enqueue
from touchpoints.people.models import Channel


def _api(client, employee) -> ApiClient:
    issued = issue_token(user_for_email(employee.email), "Nudges API tests", created_by=None)
    db.session.commit()
    return ApiClient(client, issued.raw)


def _notice(person, key: str, *, status=NudgeStatus.SENT, read: bool = False, error: str = "") -> Nudge:
    enqueue(
        dedup_key=key,
        kind=NudgeKind.NOTICE,
        recipient=person,
        channel=DeliveryChannel.IN_APP,
        payload={"headline": f"Notice {key}", "detail": "Something to know", "link": "/"},
    )
    db.session.commit()
    [nudge] = [n for n in nudges() if n.dedup_key == key]
    nudge.status, nudge.last_error = status, error
    if status is NudgeStatus.SENT:
        nudge.sent_at = utcnow()
    if read:
        nudge.read_at = utcnow()
    db.session.commit()
    return nudge


def test_my_notifications_are_mine_only_and_can_be_marked_read(app, client):
    me = make_employee("Ravi Report", preferred_channel=Channel.IN_APP)
    other = make_employee("Olga Other")
    first = _notice(me, "n1")
    _notice(me, "n2", read=True)
    _notice(me, "n3", status=NudgeStatus.PENDING)  # not delivered yet: not a notification
    theirs = _notice(other, "n4")
    api = _api(client, me)
    listed = api.get("/api/v1/notifications")
    assert listed.status_code == 200
    assert [n["headline"] for n in listed.json["data"]] == ["Notice n2", "Notice n1"]  # newest first
    assert listed.json["meta"]["total"] == 2
    unread = api.get("/api/v1/notifications?unread=true").json["data"]
    assert [n["id"] for n in unread] == [first.id] and unread[0]["unread"] is True
    assert unread[0]["facts"] == [{"label": "Details", "value": "Something to know"}]
    assert api.get("/api/v1/notifications?unread=maybe").status_code == 400
    # Someone else's notification does not exist for me.
    assert api.post(f"/api/v1/notifications/{theirs.id}/read").status_code == 404
    one = api.post(f"/api/v1/notifications/{first.id}/read")
    assert one.status_code == 200 and one.json["data"]["unread"] is False
    assert api.get("/api/v1/notifications?unread=true").json["data"] == []
    # Marking all touches only mine.
    _notice(me, "n5")
    assert api.post("/api/v1/notifications/read", json={}).json["data"]["marked"] == 1
    db.session.expire_all()
    assert db.session.get(Nudge, theirs.id).read_at is None


def test_marking_chosen_ids_read_checks_the_body(app, client):
    me = make_employee("Ravi Report")
    a, b = _notice(me, "a"), _notice(me, "b")
    api = _api(client, me)
    assert api.post("/api/v1/notifications/read", json={"ids": "all"}).status_code == 422
    assert api.post("/api/v1/notifications/read", json={"everything": True}).json["error"]["fields"] == {
        "everything": "Unknown field."
    }
    assert api.post("/api/v1/notifications/read", json={"ids": [a.id]}).json["data"]["marked"] == 1
    db.session.expire_all()
    assert db.session.get(Nudge, a.id).read_at is not None and db.session.get(Nudge, b.id).read_at is None


def test_the_outbox_is_for_hr_partners_only(app, client):
    hr, manager = make_hr("Hana HR"), make_manager("Mia Manager")
    employee = make_employee("Ravi Report", manager=manager)
    _notice(employee, "dead", status=NudgeStatus.DEAD, error="Slack: channel_not_found")
    for who in (manager, employee):
        api = _api(client, who)
        assert api.get("/api/v1/nudges").status_code == 403
        assert api.get("/api/v1/scheduler/jobs").status_code == 403
        assert api.post("/api/v1/nudges/1/retry").status_code == 403
        assert api.post("/api/v1/nudges/1/dismiss", json={}).status_code == 403
    listed = _api(client, hr).get("/api/v1/nudges")
    assert listed.status_code == 200
    [row] = listed.json["data"]
    assert row["status"] == "dead" and row["reason"] == "Slack: channel_not_found"
    assert row["recipient"]["full_name"] == "Ravi Report"


def test_hr_filters_retries_and_dismisses_with_the_reason(app, client):
    hr = make_hr("Hana HR")
    person = make_employee("Ravi Report", preferred_channel=Channel.EMAIL)
    dead = _notice(person, "dead", status=NudgeStatus.DEAD, error="Gave up after 8 attempts")
    unknown = _notice(person, "unknown", status=NudgeStatus.UNKNOWN, error="No answer from Slack")
    failed = _notice(person, "failed", status=NudgeStatus.FAILED, error="Slack answered HTTP 500")
    sent = _notice(person, "sent")
    api = _api(client, hr)
    problems = {n["id"] for n in api.get("/api/v1/nudges").json["data"]}
    assert problems == {dead.id, unknown.id, failed.id}
    assert [n["id"] for n in api.get("/api/v1/nudges?status=unknown").json["data"]] == [unknown.id]
    bad = api.get("/api/v1/nudges?status=lost")
    assert bad.status_code == 400 and "status" in bad.json["error"]["fields"]

    retried = api.post(f"/api/v1/nudges/{dead.id}/retry")
    assert retried.status_code == 200
    assert retried.json["data"]["status"] == "pending" and "was dead" in retried.json["data"]["reason"]
    assert retried.json["data"]["channel"] == "email"  # chosen afresh from the person's preference
    assert api.post(f"/api/v1/nudges/{sent.id}/retry").status_code == 409
    assert api.post("/api/v1/nudges/999999/retry").status_code == 404

    assert api.post(f"/api/v1/nudges/{unknown.id}/dismiss", json={"arrived": "yes"}).status_code == 422
    arrived = api.post(f"/api/v1/nudges/{unknown.id}/dismiss", json={"arrived": True})
    assert arrived.json["data"]["status"] == "sent"
    assert arrived.json["data"]["reason"] == "Marked as arrived by an HR partner."
    refused = api.post(f"/api/v1/nudges/{failed.id}/dismiss", json={"arrived": True})
    assert refused.status_code == 409  # only an unknown one can have arrived
    closed = api.post(f"/api/v1/nudges/{failed.id}/dismiss")
    assert closed.status_code == 200 and closed.json["data"]["status"] == "dismissed"
    assert closed.json["data"]["resolved_at"] is not None


def test_hr_sees_the_scheduler_jobs(app, client):
    from touchpoints.scheduling.models import JobRun
    from touchpoints.scheduling.scheduler import JOBS

    db.session.add(
        JobRun(job_id=JOBS[0].id, last_started_at=utcnow(), last_duration_ms=12, last_error="Boom", runs=3,
               failures=1, last_runner="host:1")
    )
    db.session.commit()
    jobs = _api(client, make_hr("Hana HR")).get("/api/v1/scheduler/jobs").json["data"]
    assert [j["id"] for j in jobs] == [spec.id for spec in JOBS]
    assert jobs[0]["duration_ms"] == 12 and jobs[0]["last_error"] == "Boom" and jobs[0]["failures"] == 1
    assert jobs[1]["runs"] == 0 and jobs[1]["last_run_at"] is None


def test_the_lists_cost_the_same_queries_for_few_or_many_rows(app, client):
    from datetime import timedelta

    from tests.nudges.conftest import make_touchpoint
    from tests.querycount import count_queries

    hr = make_hr("Hana HR")
    manager = make_manager("Mia Manager")
    report = make_employee("Ravi Report", manager=manager)
    api_manager, api_hr = _api(client, manager), _api(client, hr)

    def add(count: int, start: int) -> None:
        for i in range(start, start + count):
            due = utcnow() + timedelta(days=i + 1)
            tp = make_touchpoint(report, manager, due_at=due, title=f"Check-in {i}")
            enqueue(dedup_key=f"r{i}", kind=NudgeKind.REMINDER, recipient=manager, touchpoint_id=tp.id,
                    channel=DeliveryChannel.IN_APP, payload={"lead": "2wd"})
        db.session.commit()
        for nudge in nudges():
            if nudge.status is NudgeStatus.PENDING:
                nudge.status, nudge.sent_at = NudgeStatus.SENT, utcnow()
            if nudge.dedup_key.startswith("r") and int(nudge.dedup_key[1:]) % 2:
                nudge.status, nudge.last_error = NudgeStatus.DEAD, "Slack: channel_not_found"
        db.session.commit()

    shown: list[tuple[int, int]] = []

    def cost() -> tuple[int, int]:
        with count_queries() as mine:
            notifications = api_manager.get("/api/v1/notifications").json["data"]
        with count_queries() as outbox:
            problems = api_hr.get("/api/v1/nudges").json["data"]
        shown.append((len(notifications), len(problems)))
        return mine.count, outbox.count

    add(4, 0)
    cost()  # the first call of a token also records its first use
    few = cost()
    add(30, 4)
    assert cost() == few
    assert shown[-2] == (2, 2) and shown[-1] == (17, 17)
