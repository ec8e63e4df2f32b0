"""Pairing rounds against the database: opt-in only, once per date, touchpoints and introductions."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import make_employee, make_hr, make_team
from touchpoints.auth.models import User
from touchpoints.coffee import services
from touchpoints.coffee.models import CoffeeMember, CoffeeParticipant, CoffeeRound, CoffeeUnpaired
from touchpoints.extensions import db
from touchpoints.journeys.models import OwnerRole, Touchpoint, TouchpointKind, TouchpointStatus
from touchpoints.journeys.outcomes import log_touchpoint
from touchpoints.nudges.models import Nudge, NudgeKind
from touchpoints.people.models import Channel, LifecycleStatus

MONDAY = date(2026, 11, 23)


def user_of(employee) -> User:
    return db.session.scalar(select(User).where(User.employee_id == employee.id))


def opt_in(employee, weeks: int = 1, *, paused_until=None, today=MONDAY - timedelta(days=3)):
    services.save_participation(
        employee,
        taking_part=True,
        frequency_weeks=weeks,
        paused_until=paused_until,
        actor=user_of(employee),
        today=today,
    )
    db.session.commit()


def company(count: int, *, teams: int = 2, tz: str = "Europe/London") -> list:
    made = [make_team() for _ in range(teams)]
    return [make_employee(f"Person {i}", team=made[i % teams], timezone=tz) for i in range(count)]


def groups_of(round_id: int) -> list[set[int]]:
    out: dict[int, set[int]] = {}
    for match_id, employee_id in db.session.execute(
        select(CoffeeMember.match_id, CoffeeMember.employee_id).where(CoffeeMember.round_id == round_id)
    ):
        out.setdefault(match_id, set()).add(employee_id)
    return list(out.values())


def test_only_people_who_opted_in_are_paired(app):
    people = company(6)
    for person in people[:4]:
        opt_in(person)
    made = services.run_round(MONDAY, seed=1)
    db.session.commit()
    paired = {p for g in groups_of(made.id) for p in g}
    assert paired == {p.id for p in people[:4]}
    assert made.participants == 4 and made.pairs == 2


def test_nobody_is_opted_in_by_default(app):
    person = make_employee("New Starter")
    assert services.participant_for(person.id) is None
    assert services.run_round(MONDAY, seed=1).participants == 0


def test_odd_count_makes_one_group_of_three_with_a_touchpoint_each(app):
    people = company(5)
    for person in people:
        opt_in(person)
    made = services.run_round(MONDAY, seed=4)
    db.session.commit()
    assert (made.pairs, made.trios, made.unpaired) == (1, 1, 0)
    assert sorted(len(g) for g in groups_of(made.id)) == [2, 3]
    chats = db.session.scalars(select(Touchpoint).where(Touchpoint.kind == TouchpointKind.COFFEE_CHAT)).all()
    assert sorted(t.employee_id for t in chats) == sorted(p.id for p in people)
    for chat in chats:
        # Owned by a partner in the same group, so either side can log it.
        group = next(g for g in groups_of(made.id) if chat.employee_id in g)
        assert chat.owner_id in group - {chat.employee_id}
        assert chat.owner_role is OwnerRole.EMPLOYEE and chat.status is TouchpointStatus.PLANNED


def test_a_round_for_a_date_runs_once(app):
    people = company(4)
    for person in people:
        opt_in(person)
    first = services.run_round(MONDAY, seed=1)
    db.session.commit()
    assert services.run_round(MONDAY, seed=2) is None
    assert services.run_due_round(datetime.combine(MONDAY, time(9), tzinfo=UTC))["pairs"] == 0
    assert db.session.scalar(select(func.count()).select_from(CoffeeRound)) == 1
    assert db.session.scalar(select(func.count()).select_from(CoffeeMember)) == 4
    assert first.id == services.round_for(MONDAY).id


def test_the_scheduler_job_runs_on_the_round_day_only(app):
    for person in company(2):
        opt_in(person)
    assert (
        services.run_due_round(datetime.combine(MONDAY + timedelta(days=1), time(9), tzinfo=UTC))["pairs"]
        == 0
    )
    assert services.run_due_round(datetime.combine(MONDAY, time(0, 5), tzinfo=UTC))["pairs"] == 1


def test_the_job_is_registered_with_the_scheduler(app):
    from touchpoints.scheduling.scheduler import job_specs

    func = job_specs()["coffee-pairing"].func
    assert (func.__module__, func.__name__) == ("touchpoints.coffee.services", "run_due_round")


def test_same_seed_and_people_give_the_same_pairs(app):
    people = company(10, teams=3)
    for person in people:
        opt_in(person)
    preview = services.plan_round(MONDAY, seed=99)
    again = services.plan_round(MONDAY, seed=99)
    assert preview.pairing.groups == again.pairing.groups
    made = services.run_round(MONDAY, seed=99)
    db.session.commit()
    assert made.seed == 99
    assert sorted(map(sorted, groups_of(made.id))) == sorted(sorted(g) for g in preview.pairing.groups)


def test_nobody_is_paired_twice_within_the_window(app):
    people = company(2)
    for person in people:
        opt_in(person)
    first = services.run_round(MONDAY, seed=1)
    db.session.commit()
    assert first.pairs == 1
    second = services.run_round(MONDAY + timedelta(days=7), seed=1)
    db.session.commit()
    assert second.pairs == 0 and second.unpaired == 2
    reasons = db.session.scalars(
        select(CoffeeUnpaired.reason).where(CoffeeUnpaired.round_id == second.id)
    ).all()
    assert all("within the last 90 days" in r for r in reasons)
    # After the window they may meet again.
    later = services.run_round(MONDAY + timedelta(days=98), seed=1)
    db.session.commit()
    assert later.pairs == 1


def test_people_are_due_by_their_own_frequency(app):
    weekly, monthly, other = company(3, teams=3)
    opt_in(weekly, 1)
    opt_in(monthly, 4)
    opt_in(other, 1)
    services.run_round(MONDAY, seed=1)
    db.session.commit()
    due = {p.id for p in services.plan_round(MONDAY + timedelta(days=7), seed=1).participants.values()}
    assert monthly.id not in due and {weekly.id, other.id} <= due


def test_paused_and_departed_people_are_not_paired(app):
    a, b, c, d = company(4)
    for person in (a, b, c, d):
        opt_in(person)
    opt_in(c, paused_until=MONDAY + timedelta(days=14), today=MONDAY - timedelta(days=1))
    services.save_participation(d, taking_part=False, actor=user_of(d))
    db.session.commit()
    due = set(services.plan_round(MONDAY, seed=1).participants)
    assert due == {a.id, b.id}


def test_leave_status_is_not_paired(app):
    a, b, c = company(3)
    for person in (a, b, c):
        opt_in(person)
    c.status = LifecycleStatus.ON_LEAVE
    db.session.commit()
    assert set(services.plan_round(MONDAY, seed=1).participants) == {a.id, b.id}


def test_frequency_must_be_one_hr_offers(app):
    person = make_employee("Picky")
    with pytest.raises(services.CoffeeValidationError) as error:
        services.save_participation(person, taking_part=True, frequency_weeks=3, actor=user_of(person))
    assert "frequency_weeks" in error.value.errors


def test_each_person_gets_an_introduction_on_their_channel_saying_who_team_and_hours(app):
    teams = make_team("Design"), make_team("Sales")
    ana = make_employee("Ana Lopez", team=teams[0], timezone="Europe/London", preferred_channel=Channel.SLACK)
    ben = make_employee(
        "Ben Ode", team=teams[1], timezone="America/New_York", preferred_channel=Channel.EMAIL
    )
    opt_in(ana)
    opt_in(ben)
    made = services.run_round(MONDAY, seed=1)
    db.session.commit()
    nudges = {
        n.recipient_id: n
        for n in db.session.scalars(select(Nudge).where(Nudge.kind == NudgeKind.COFFEE_INTRODUCTION))
    }
    assert set(nudges) == {ana.id, ben.id}
    assert nudges[ana.id].channel.value == "slack" and nudges[ben.id].channel.value == "email"
    to_ana = nudges[ana.id].payload
    assert "Ben Ode (Sales)" in to_ana["headline"]
    # London and New York share 14:00-17:30 London time (9:00-12:30 in New York) in November.
    assert "14:00 to 17:30 (London time)" in to_ana["detail"]
    assert "09:00 to 12:30 (New York time)" in nudges[ben.id].payload["detail"]
    assert "skip" in to_ana["detail"]
    assert nudges[ana.id].dedup_key == f"coffee-intro:{made.id}:{ana.id}"


def test_the_introduction_renders_through_the_outbox_composer(app):
    from touchpoints.nudges import compose
    from touchpoints.nudges.compose import NudgeFacts

    a, b = company(2)
    opt_in(a)
    opt_in(b)
    services.run_round(MONDAY, seed=1)
    db.session.commit()
    nudge = db.session.scalar(select(Nudge).where(Nudge.recipient_id == a.id))
    item = compose.other_item(
        NudgeFacts(
            nudge.id, nudge.kind.value, nudge.payload, None, a.id, a.timezone, {"open": "http://x/coffee"}
        )
    )
    assert item.headline.startswith("Coffee pairing: meet")
    assert any("overlap" in value for _, value in item.facts)


def test_logging_a_coffee_chat_as_held_by_either_side(app):
    a, b = company(2)
    opt_in(a)
    opt_in(b)
    services.run_round(MONDAY, seed=1)
    db.session.commit()
    mine = db.session.scalar(select(Touchpoint).where(Touchpoint.employee_id == a.id))
    log_touchpoint(mine, actual_mode="video", happened_at=datetime.now(UTC), actor=user_of(a))
    db.session.commit()
    assert mine.status is TouchpointStatus.DONE
    theirs = db.session.scalar(select(Touchpoint).where(Touchpoint.employee_id == b.id))
    log_touchpoint(theirs, actual_mode="in_person", happened_at=datetime.now(UTC), actor=user_of(a))
    db.session.commit()
    assert theirs.status is TouchpointStatus.DONE


def test_skipped_and_unlogged_chats_are_never_overdue_nor_escalated(app):
    from touchpoints.nudges.reminders import escalate_overdue

    make_hr()
    a, b = company(2)
    opt_in(a)
    opt_in(b)
    services.run_round(MONDAY, seed=1)
    db.session.commit()
    mine = db.session.scalar(select(Touchpoint).where(Touchpoint.employee_id == a.id))
    services.skip_chat(mine, actor=user_of(a))
    db.session.commit()
    assert mine.status is TouchpointStatus.CANCELLED and mine.status_reason == services.SKIPPED_REASON
    assert not mine.is_overdue(datetime.now(UTC) + timedelta(days=60))
    theirs = db.session.scalar(select(Touchpoint).where(Touchpoint.employee_id == b.id))
    after = theirs.due_at + timedelta(minutes=1)
    assert services.close_lapsed_chats(after) == 1
    db.session.commit()
    db.session.refresh(theirs)
    assert theirs.status is TouchpointStatus.CANCELLED and theirs.status_reason == services.LAPSED_REASON
    escalate_overdue(now=after + timedelta(days=10))
    assert not db.session.scalar(
        select(func.count()).select_from(Nudge).where(Nudge.kind == NudgeKind.ESCALATION)
    )
    history = services.my_pairs(a)
    assert history[0].outcome == "Skipped"
    assert services.my_pairs(b)[0].outcome == "Not logged"


def test_a_coffee_chat_gets_its_introduction_and_no_reminder(app):
    from dataclasses import replace

    from touchpoints.nudges.models import PassWatermark
    from touchpoints.nudges.reminders import remind_owners
    from touchpoints.nudges.settings import NudgeSettings

    # London and New York share 14:00-17:30 UTC: the chat falls after the Londoner's working morning.
    a = make_employee("Amy", team=make_team("London team"), timezone="Europe/London")
    b = make_employee("Bo", team=make_team("New York team"), timezone="America/New_York")
    opt_in(a)
    opt_in(b)
    services.run_round(MONDAY, seed=1)
    db.session.commit()
    chat = db.session.scalar(select(Touchpoint).where(Touchpoint.employee_id == b.id))
    assert chat.owner_id == a.id

    def reminders_over_the_window(settings: NudgeSettings) -> int:
        db.session.execute(PassWatermark.__table__.delete())
        moment = datetime.combine(MONDAY, time(0), tzinfo=UTC)
        while moment <= chat.due_at + timedelta(hours=6):
            remind_owners(now=moment, settings=settings)
            moment += timedelta(hours=6)
        return db.session.scalar(
            select(func.count()).select_from(Nudge).where(Nudge.kind == NudgeKind.REMINDER))

    assert reminders_over_the_window(NudgeSettings.current()) == 0
    # The same pass with a morning reminder for coffee would have nagged the Londoner that Friday.
    current = NudgeSettings.current()
    nagging = replace(current, leads={**current.leads, "coffee_chat": ("morning",)})
    assert reminders_over_the_window(nagging) == 1


def test_my_pairs_shows_partner_team_and_shared_hours_in_my_zone(app):
    london, auckland_team = make_team("London team"), make_team("Kiwi team")
    a = make_employee("Amy", team=london, timezone="Europe/London")
    b = make_employee("Bo", team=auckland_team, timezone="Europe/Berlin")
    opt_in(a)
    opt_in(b)
    services.run_round(MONDAY, seed=1)
    db.session.commit()
    [pair] = services.my_pairs(a)
    assert pair.partners == [("Bo", "Kiwi team")]
    assert pair.overlap == "09:00 to 16:30 (London time)"
    assert pair.cross_team and pair.outcome == "Coming up"


def test_the_personal_data_export_holds_ones_coffee_pairing(app):
    from touchpoints.privacy.export import export_person

    a, b = company(2)
    opt_in(a)
    opt_in(b)
    services.run_round(MONDAY, seed=1)
    db.session.commit()
    data = export_person(a.id)["coffee_pairing"]
    assert data["taking_part"]["active"] is True and data["taking_part"]["frequency_weeks"] == 1
    assert data["pairs"][0]["with"] == [b.full_name] and data["pairs"][0]["touchpoint_id"]
    assert data["left_unpaired"] == []


def test_the_introduction_is_delivered_by_the_outbox_and_listed_in_the_app(app, client, login):
    from touchpoints.nudges.models import NudgeStatus
    from touchpoints.nudges.services import deliver

    a, b = company(2)
    opt_in(a)
    opt_in(b)
    services.run_round(MONDAY, seed=1)
    db.session.commit()
    # The next working morning in London: inside working hours, before the introduction goes stale.
    moment = datetime.now(UTC).replace(hour=11, minute=0, second=0, microsecond=0) + timedelta(days=1)
    while moment.weekday() >= 5:
        moment += timedelta(days=1)
    deliver(now=moment)
    db.session.expire_all()
    nudge = db.session.scalar(select(Nudge).where(Nudge.recipient_id == a.id))
    assert nudge.status is NudgeStatus.SENT and nudge.channel.value == "in_app"
    login(a)
    page = client.get("/notifications").get_data(as_text=True)
    assert f"Coffee pairing: meet {b.full_name}" in page


def test_a_round_for_an_earlier_date_respects_pairs_made_after_it(app):
    people = company(2)
    for person in people:
        opt_in(person)
    assert services.run_round(MONDAY + timedelta(days=7), seed=1).pairs == 1
    db.session.commit()
    for person in people:  # due again, as if HR ran an earlier date by hand
        db.session.get(CoffeeParticipant, person.id).next_due_on = None
    db.session.commit()
    earlier = services.run_round(MONDAY, seed=1)
    assert earlier.pairs == 0 and earlier.unpaired == 2


def test_hr_counts_who_takes_part_is_paused_or_left(app):
    a, b, c, d = company(4)
    for person in (a, b, c, d):
        opt_in(person)
    opt_in(b, paused_until=MONDAY + timedelta(days=5), today=MONDAY)
    services.save_participation(c, taking_part=False, actor=user_of(c))
    db.session.commit()
    assert services.participation_counts(MONDAY) == {"taking_part": 2, "paused": 1, "left": 1}
    assert services.participation_counts(MONDAY + timedelta(days=6)) == {
        "taking_part": 3,
        "paused": 0,
        "left": 1,
    }


def test_each_persons_own_working_hours_count(app):
    early = make_employee("Early Bird", team=make_team(), work_start=time(6), work_end=time(9, 30))
    late = make_employee("Night Owl", team=make_team(), work_start=time(10), work_end=time(18))
    opt_in(early)
    opt_in(late)
    made = services.run_round(MONDAY, seed=1)
    assert made.pairs == 0 and made.unpaired == 2
    reasons = db.session.scalars(
        select(CoffeeUnpaired.reason).where(CoffeeUnpaired.round_id == made.id)
    ).all()
    assert all("overlap" in reason for reason in reasons)


def test_operators_preview_and_run_a_round_from_the_command_line(app, runner):
    for person in company(3):
        opt_in(person)
    day = MONDAY.isoformat()
    preview = runner.invoke(args=["coffee", "round", "--date", day, "--seed", "5", "--dry-run"])
    assert preview.exit_code == 0 and "nothing written" in preview.output
    assert "1 group(s) of three" in preview.output
    assert services.round_for(MONDAY) is None
    done = runner.invoke(args=["coffee", "round", "--date", MONDAY.isoformat(), "--seed", "5"])
    assert done.exit_code == 0 and "(seed 5)" in done.output and "1 group(s) of three" in done.output
    again = runner.invoke(args=["coffee", "round", "--date", MONDAY.isoformat()])
    assert again.exit_code != 0 and "already ran" in again.output
