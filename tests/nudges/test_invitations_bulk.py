"""Calendar invitations for the one-on-ones and check-ins journeys create in bulk: enrolment of one
person or many, the horizon extension, and the scheduler's pass that invites later ones as they come
within reach and sends the cancellation when a whole enrolment is called off."""

from __future__ import annotations

from datetime import time, timedelta

from icalendar import Calendar
from sqlalchemy import select

from tests.factories import make_employee, make_manager
from tests.nudges.conftest import nudges
from tests.querycount import count_queries
from touchpoints.auth.models import User
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.enrolment import end_enrolment, enrol, enrol_many, extend_horizon, reassign_owner
from touchpoints.journeys.models import Touchpoint, TouchpointKind, TouchpointStatus
from touchpoints.journeys.outcomes import reschedule
from touchpoints.journeys.templates import create_journey
from touchpoints.nudges.invitations import invite_upcoming
from touchpoints.nudges.models import NudgeKind, NudgeStatus
from touchpoints.nudges.preferences import set_invites
from touchpoints.nudges.services import deliver
from touchpoints.people.models import Channel

# Working all day, every day: delivery is not held for working hours whenever the test runs.
ALWAYS = {"work_start": time(0, 0), "work_end": time(23, 59), "work_days": "1234567"}

# Fortnightly one-on-ones from two days after enrolment (days 2, 16, 30 ...), a check-in at day 60
# and a coffee chat (no calendar slot of its own). With the 28-day window, two one-on-ones are
# invited at enrolment; the later ones and the check-in wait until they come within reach.
SETTLING_IN = {
    "key": "settling-in", "name": "Settling in", "touchpoints": [
        {"key": "one-on-one", "title": "Fortnightly one-on-one", "kind": "one_on_one",
         "planned_mode": "video", "owner_role": "manager", "anchor": "enrolment", "offset": 2,
         "offset_unit": "calendar_days", "follows_cadence": True, "time_of_day": "11:00"},
        {"key": "check-in-60", "title": "Two-month check-in", "kind": "check_in", "planned_mode": "in_person",
         "owner_role": "manager", "anchor": "enrolment", "offset": 60, "offset_unit": "calendar_days",
         "time_of_day": "14:00"},
        {"key": "coffee", "title": "Team coffee", "kind": "coffee_chat", "planned_mode": "in_person",
         "owner_role": "manager", "anchor": "enrolment", "offset": 3, "offset_unit": "calendar_days"},
    ],
}


def _journey():
    journey = create_journey(SETTLING_IN, actor_id=None, activate=True)
    db.session.commit()
    return journey


def _team(size: int):
    manager = make_manager("Mia Manager", preferred_channel=Channel.SLACK, timezone="Europe/London", **ALWAYS)
    people = [make_employee(f"Report {n}", manager=manager, timezone="Europe/Berlin", **ALWAYS)
              for n in range(size)]
    db.session.commit()
    return manager, people


def _touchpoints(person, kind=TouchpointKind.ONE_ON_ONE) -> list[Touchpoint]:
    return list(db.session.scalars(select(Touchpoint).where(
        Touchpoint.employee_id == person.id, Touchpoint.kind == kind).order_by(Touchpoint.due_at)))


def _invited(**where) -> set[tuple[int, int]]:
    """(touchpoint, person) of every queued calendar invitation."""
    return {(n.touchpoint_id, n.recipient_id) for n in nudges(kind=NudgeKind.CALENDAR_INVITE, **where)}


def _calendars(fake_smtp) -> list[tuple[str, Calendar]]:
    found = []
    for received in fake_smtp.state.messages:
        for part in received.message.walk():
            if part.get_content_type() == "text/calendar":
                found.append((received.recipients[0], Calendar.from_ical(part.get_content())))
    return found


def test_enrolling_someone_invites_both_people_to_the_meetings_within_four_weeks(app, fake_smtp):
    manager, [report] = _team(1)
    journey = _journey()
    enrol(report, journey, actor_id=None)
    db.session.commit()

    one_on_ones = _touchpoints(report)
    soon = [t for t in one_on_ones if t.due_at <= utcnow() + timedelta(days=28)]
    assert len(soon) == 2 and len(one_on_ones) > 2  # the series runs to the 90-day horizon
    assert _invited() == {(t.id, p.id) for t in soon for p in (report, manager)}
    # Nothing for the check-in two months out, nor for the coffee chat.
    later = [t.id for t in one_on_ones[2:]] + [t.id for t in _touchpoints(report, TouchpointKind.CHECK_IN)]
    assert not {tp for tp, _ in _invited()} & set(later)

    run = deliver()
    assert run.sent == 4, run.summary()
    calendars = _calendars(fake_smtp)
    assert sorted(to for to, _ in calendars) == sorted([report.email, manager.email] * 2)
    assert {c["METHOD"] for _, c in calendars} == {"REQUEST"}
    summaries = {str(e["SUMMARY"]) for _, c in calendars for e in c.walk("VEVENT")}
    assert summaries == {"Fortnightly one-on-one with Mia Manager",
                         f"Fortnightly one-on-one with {report.full_name}"}

    # Enrolling again (already on the journey) and a second pass send nothing twice.
    enrol(report, journey, actor_id=None)
    assert invite_upcoming() == {"invitations": 0, "cancellations": 0}
    assert len(nudges(kind=NudgeKind.CALENDAR_INVITE)) == 4


def test_bulk_enrolment_invites_everyone_in_a_fixed_number_of_queries(app):
    journey = _journey()
    manager, people = _team(24)
    set_invites(people[0].id, False, actor_id=None)
    db.session.commit()

    ids = [p.id for p in people]
    with count_queries() as few:
        enrol_many(ids[1:4], journey, actor_id=None)
    with count_queries() as many:
        enrol_many(ids[4:], journey, actor_id=None)
    enrol_many(ids[:1], journey, actor_id=None)
    db.session.commit()
    assert many.count == few.count, many.report()

    invited = _invited()
    assert len(invited) == 24 * 2 * 2 - 2  # two one-on-ones each, both people; one person said no
    assert {person for _, person in invited} == {manager.id} | {p.id for p in people[1:]}
    # The manager still hears about the meetings with the person who turned invitations off.
    with_manager = {tp for tp, person in invited if person == manager.id}
    assert with_manager >= {t.id for t in _touchpoints(people[0])[:2]}


def test_later_meetings_are_invited_as_they_come_within_reach(app):
    manager, [report] = _team(1)
    enrol(report, _journey(), actor_id=None)
    db.session.commit()
    [check_in] = _touchpoints(report, TouchpointKind.CHECK_IN)
    before = _invited()

    in_five_weeks = utcnow() + timedelta(days=35)
    result = invite_upcoming(now=in_five_weeks)
    reachable = [t for t in [*_touchpoints(report), check_in]
                 if in_five_weeks < t.due_at <= in_five_weeks + timedelta(days=28)]
    assert check_in in reachable
    assert result["invitations"] == 2 * len(reachable)
    assert _invited() - before == {(t.id, p.id) for t in reachable for p in (report, manager)}
    queued = nudges(kind=NudgeKind.CALENDAR_INVITE, touchpoint_id=check_in.id)
    assert {n.payload["method"] for n in queued} == {"REQUEST"}
    assert {n.next_attempt_at for n in queued} == {in_five_weeks}  # not sent weeks before the pass
    assert invite_upcoming(now=in_five_weeks) == {"invitations": 0, "cancellations": 0}


def test_the_horizon_extension_invites_the_meetings_it_adds(app):
    manager, [report] = _team(1)
    enrol_many([report.id], _journey(), actor_id=None, horizon=7)
    db.session.commit()
    assert len(_touchpoints(report)) == 1 and len(_invited()) == 2

    assert extend_horizon(horizon=90) > 0
    db.session.commit()
    second = _touchpoints(report)[1]
    assert {(second.id, report.id), (second.id, manager.id)} <= _invited()
    assert len(_invited()) == 4  # only what is within four weeks


def test_a_moved_meeting_gets_its_new_version_once(app):
    manager, [report] = _team(1)
    enrol(report, _journey(), actor_id=None)
    db.session.commit()
    first = _touchpoints(report)[0]
    actor = db.session.scalar(select(User).where(User.employee_id == manager.id))
    reschedule(first, due_at=first.due_at + timedelta(hours=2), actor=actor)
    db.session.commit()

    assert invite_upcoming() == {"invitations": 0, "cancellations": 0}
    versions = {(n.recipient_id, n.payload["sequence"]) for n in nudges(kind=NudgeKind.CALENDAR_INVITE,
                                                                        touchpoint_id=first.id)}
    assert versions == {(report.id, 0), (manager.id, 0), (report.id, 1), (manager.id, 1)}


def test_ending_an_enrolment_cancels_the_invitations_that_went_out(app, fake_smtp):
    manager, [report, colleague] = _team(2)
    journey = _journey()
    enrol(report, journey, actor_id=None)
    db.session.commit()
    assert deliver().sent == 4
    enrolment = enrol(colleague, journey, actor_id=None)  # invited, never sent
    db.session.commit()

    from touchpoints.journeys.models import Enrolment

    mine = db.session.scalar(select(Enrolment).where(Enrolment.employee_id == report.id))
    end_enrolment(mine, actor_id=None, reason="Moved to another programme")
    end_enrolment(enrolment, actor_id=None, reason="Changed their mind")
    db.session.commit()
    fake_smtp.state.messages.clear()

    assert invite_upcoming() == {"invitations": 0, "cancellations": 4}
    run = deliver()
    # The colleague's unsent invitations are overtaken; only those who got one receive the cancellation.
    assert run.sent == 4, run.summary()
    calendars = _calendars(fake_smtp)
    assert {c["METHOD"] for _, c in calendars} == {"CANCEL"}
    assert sorted(to for to, _ in calendars) == sorted([report.email, manager.email] * 2)
    stale = nudges(kind=NudgeKind.CALENDAR_INVITE, status=NudgeStatus.CANCELLED)
    assert {n.touchpoint_id for n in stale} == {t.id for t in _touchpoints(colleague)[:2]}
    assert all(t.status is TouchpointStatus.CANCELLED for t in _touchpoints(report))
    assert invite_upcoming() == {"invitations": 0, "cancellations": 0}


def test_a_meeting_handed_to_a_new_manager_leaves_the_old_managers_calendar(app, client, login, fake_smtp):
    manager, [report] = _team(1)
    newcomer = make_manager("Nia Newmanager", timezone="Europe/London", **ALWAYS)
    enrol(report, _journey(), actor_id=None)
    db.session.commit()
    assert deliver().sent == 4
    fake_smtp.state.messages.clear()

    # What a manager change does to the person's open one-on-ones (set-based, no hook of its own).
    reassign_owner(Touchpoint.employee_id == report.id, newcomer.id)
    db.session.commit()
    assert invite_upcoming() == {"invitations": 4, "cancellations": 2}
    run = deliver()
    assert run.sent == 6, run.summary()
    methods: dict[str, list[str]] = {}
    for to, calendar in _calendars(fake_smtp):
        methods.setdefault(to, []).append(str(calendar["METHOD"]))
        [event] = calendar.walk("VEVENT")
        assert int(event["SEQUENCE"]) == 1 and "Nia Newmanager" in str(event["ORGANIZER"].params["CN"])
    assert methods == {manager.email: ["CANCEL", "CANCEL"], newcomer.email: ["REQUEST", "REQUEST"],
                       report.email: ["REQUEST", "REQUEST"]}
    subjects = {m.message["Subject"] for m in fake_smtp.state.messages if m.recipients == [manager.email]}
    assert subjects == {f"Cancelled for you: Fortnightly one-on-one with {report.full_name}"}
    told = [m.message for m in fake_smtp.state.messages if m.recipients == [manager.email]]
    assert all("Nia Newmanager runs it now" in m.get_body(("plain",)).get_content() for m in told)
    assert invite_upcoming() == {"invitations": 0, "cancellations": 0}
    # Still the report's line manager, the old manager may download it from its page: as it stands.
    login(manager)
    download = client.get(f"/touchpoints/{_touchpoints(report)[0].id}/invite.ics")
    assert download.status_code == 200 and b"METHOD:REQUEST" in download.data


def test_nothing_is_queued_while_email_is_not_set_up_and_the_pass_catches_up(app):
    _, [report] = _team(1)
    app.config["SMTP_HOST"] = ""
    enrol(report, _journey(), actor_id=None)
    db.session.commit()
    assert not nudges(kind=NudgeKind.CALENDAR_INVITE)
    assert invite_upcoming() == {"invitations": 0, "cancellations": 0}

    app.config["SMTP_HOST"] = "127.0.0.1"
    assert invite_upcoming() == {"invitations": 4, "cancellations": 0}


def test_the_scheduler_runs_the_invitation_pass(app):
    from touchpoints.scheduling.scheduler import JOBS

    assert any(job.func is invite_upcoming for job in JOBS)
