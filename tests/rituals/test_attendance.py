"""Logging an occurrence: the organiser, the team's manager or HR log it as held with everyone's
attendance in one form, all or nothing, in a fixed number of queries; members mark their own."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from tests.factories import make_employee, make_hr
from tests.querycount import count_queries
from tests.rituals.helpers import plan, team_with_manager
from touchpoints.extensions import db
from touchpoints.journeys.models import Mode
from touchpoints.rituals.models import (
    Audience,
    OccurrenceStatus,
    Presence,
    RitualAttendance,
    RitualOccurrence,
)


def _past_occurrence(manager, team) -> RitualOccurrence:
    """A weekly ritual that started three weeks ago; its occurrence of last week."""
    today = date.today()
    ritual = plan(manager, team, rrule="FREQ=WEEKLY", starts_on=today - timedelta(days=21),
                  today=today - timedelta(days=21))
    return db.session.scalar(select(RitualOccurrence).where(
        RitualOccurrence.ritual_id == ritual.id, RitualOccurrence.due_at < func.now())
        .order_by(RitualOccurrence.due_at.desc()))


def _form(people, presence: str = "in_person", **extra) -> dict[str, str]:
    return {"actual_mode": "in_person", "location": "Berlin office", "note": "",
            **{f"presence-{p.id}": presence for p in people}, **extra}


def _marks(occurrence_id: int) -> dict[int, Presence]:
    return dict(db.session.execute(select(RitualAttendance.employee_id, RitualAttendance.presence)
                                   .where(RitualAttendance.occurrence_id == occurrence_id)).all())


def test_a_manager_logs_a_forty_person_team_in_one_form(app, client, login):
    team, manager, people = team_with_manager("Forty", members=39)
    occurrence = _past_occurrence(manager, team)
    login(manager)
    page = client.get(f"/rituals/occurrences/{occurrence.id}").get_data(as_text=True)
    # Everyone is listed, pre-ticked as in person (the planned mode): only the absent need a click.
    assert page.count('value="in_person" checked') == 40
    absent = people[:3]
    data = _form([manager, *people])
    data.update({f"presence-{p.id}": "absent" for p in absent})
    response = client.post(f"/rituals/occurrences/{occurrence.id}", data=data)
    assert response.status_code == 302
    db.session.expire_all()
    logged = db.session.get(RitualOccurrence, occurrence.id)
    assert logged.status is OccurrenceStatus.HELD and logged.actual_mode is Mode.IN_PERSON
    marks = _marks(occurrence.id)
    assert len(marks) == 40
    assert [p.id for p in absent] == [i for i, v in marks.items() if v is Presence.ABSENT]
    assert "Logged as held, with 40 people marked." in client.get(
        f"/rituals/occurrences/{occurrence.id}").get_data(as_text=True)


def test_logging_costs_the_same_queries_for_five_people_as_for_forty(app, client, login):
    counts = []
    teams = [team_with_manager(f"Size {size}", members=size) for size in (4, 39)]
    for team, manager, people in teams:
        occurrence = _past_occurrence(manager, team)
        data, url = _form([manager, *people]), f"/rituals/occurrences/{occurrence.id}"
        login(manager)
        with count_queries() as queries:
            response = client.post(url, data=data)
        assert response.status_code == 302
        with count_queries() as page_queries:
            assert client.get(url).status_code == 200
        counts.append((queries.count, page_queries.count))
        client.post("/logout")
    assert counts[0] == counts[1], counts


def test_one_bad_mark_saves_nothing_and_says_whose(app, client, login):
    team, manager, people = team_with_manager("Strict")
    outsider = make_employee("Not In Team")
    occurrence = _past_occurrence(manager, team)
    login(manager)
    data = _form([manager, *people], **{f"presence-{outsider.id}": "in_person",
                                        f"presence-{people[0].id}": "sleeping"})
    response = client.post(f"/rituals/occurrences/{occurrence.id}", data=data)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Nothing was saved" in text
    assert "Choose in person, remote or absent." in text
    assert "This person is not in the ritual&#39;s audience." in text
    db.session.expire_all()
    assert db.session.get(RitualOccurrence, occurrence.id).status is OccurrenceStatus.PLANNED
    assert _marks(occurrence.id) == {}
    # What was ticked is kept: the others still read as in person.
    assert text.count('value="in_person" checked') == len(people) + 1 - 1


def test_an_occurrence_still_ahead_cannot_be_logged(app, client, login):
    team, manager, people = team_with_manager("Ahead")
    ritual = plan(manager, team, rrule="FREQ=MONTHLY", starts_on=date.today() + timedelta(days=10),
                  today=date.today())
    upcoming = db.session.scalar(select(RitualOccurrence).where(RitualOccurrence.ritual_id == ritual.id))
    login(manager)
    response = client.post(f"/rituals/occurrences/{upcoming.id}", data=_form([manager, *people]))
    assert response.status_code == 400
    assert "still ahead" in response.get_data(as_text=True)


def test_members_mark_their_own_attendance_and_nobody_elses(app, client, login):
    team, manager, people = team_with_manager("Self")
    occurrence = _past_occurrence(manager, team)
    login(people[0])
    page = client.get(f"/rituals/occurrences/{occurrence.id}").get_data(as_text=True)
    assert "Were you there?" in page and "Log it as held" not in page
    response = client.post(f"/rituals/occurrences/{occurrence.id}/mine", data={"presence": "remote"},
                           follow_redirects=True)
    assert "you are marked remote" in response.get_data(as_text=True)
    assert _marks(occurrence.id) == {people[0].id: Presence.REMOTE}
    # The log form is for those who run the ritual.
    assert client.post(f"/rituals/occurrences/{occurrence.id}", data=_form(people)).status_code == 403
    assert _marks(occurrence.id) == {people[0].id: Presence.REMOTE}


def test_hr_calls_an_occurrence_off_and_the_series_goes_on(app, client, login):
    team, manager, _ = team_with_manager("Called off")
    ritual = plan(manager, team, rrule="FREQ=WEEKLY", starts_on=date.today() + timedelta(days=1),
                  today=date.today())
    first, second = db.session.scalars(select(RitualOccurrence).where(RitualOccurrence.ritual_id == ritual.id)
                                       .order_by(RitualOccurrence.due_at).limit(2)).all()
    login(make_hr())
    client.post(f"/rituals/occurrences/{first.id}/cancel", data={"reason": "Office closed for works"})
    db.session.expire_all()
    assert db.session.get(RitualOccurrence, first.id).status is OccurrenceStatus.CANCELLED
    assert db.session.get(RitualOccurrence, second.id).status is OccurrenceStatus.PLANNED
    assert "Office closed for works" in client.get(f"/rituals/{ritual.id}").get_data(as_text=True)


def test_a_company_wide_town_hall_lists_only_those_who_marked_themselves(app, client, login):
    hr = make_hr()
    _, manager, people = team_with_manager("Everyone here", members=5)
    today = date.today()
    ritual = plan(hr, None, title="All-hands", kind="town_hall", audience=Audience.EVERYONE,
                  rrule="FREQ=WEEKLY", starts_on=today - timedelta(days=14), today=today - timedelta(days=14))
    occurrence = db.session.scalar(select(RitualOccurrence).where(
        RitualOccurrence.ritual_id == ritual.id, RitualOccurrence.due_at < func.now())
        .order_by(RitualOccurrence.due_at.desc()))
    login(people[0])
    client.post(f"/rituals/occurrences/{occurrence.id}/mine", data={"presence": "remote"})
    client.post("/logout")
    login(hr)
    page = client.get(f"/rituals/occurrences/{occurrence.id}").get_data(as_text=True)
    assert "people mark their own attendance" in page
    assert people[0].full_name in page and people[1].full_name not in page
    response = client.post(f"/rituals/occurrences/{occurrence.id}",
                           data={"actual_mode": "in_person", f"presence-{people[0].id}": "in_person"})
    assert response.status_code == 302
    assert _marks(occurrence.id) == {people[0].id: Presence.IN_PERSON}
    assert manager.id not in _marks(occurrence.id)
