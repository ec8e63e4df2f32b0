"""The timeline pages: who sees whose journey, grievances, private notes, the shared agenda, time zones."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from tests.factories import make_employee, make_manager
from tests.journeys.pages import plan, reload, user_of
from tests.querycount import count_queries
from touchpoints.api.services import issue_token
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.lifecycle import record_lifecycle_event
from touchpoints.journeys.models import LifecycleEventKind, Mode, TouchpointKind
from touchpoints.journeys.outcomes import add_agenda_item, log_touchpoint, save_private_note


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_the_person_their_managers_up_the_chain_and_hr_see_the_timeline(client, login, org):
    boss = make_manager("Bo Boss")
    org.manager.manager = boss
    db.session.commit()
    plan(org.employee, owner=org.manager, actor=org.hr, title="Weekly catch-up")
    url = f"/people/{org.employee.id}/timeline"
    for viewer in (org.employee, org.manager, boss, org.hr):
        login(viewer)
        assert "Weekly catch-up" in page(client, url), viewer.full_name
        client.post("/logout")
    login(org.employee)
    assert "Weekly catch-up" in page(client, "/me/journey")


def test_another_manager_and_a_colleague_get_403(client, login, org):
    other_manager = make_manager("Oz Other")
    make_employee("Their Report", manager=other_manager)
    tp = plan(org.employee, owner=org.manager, actor=org.hr, title="Weekly catch-up")
    for viewer in (other_manager, org.colleague):
        login(viewer)
        assert client.get(f"/people/{org.employee.id}/timeline").status_code == 403
        assert client.get(f"/touchpoints/{tp.id}").status_code == 403
        assert client.get(f"/touchpoints/{tp.id}/log").status_code == 403
        assert client.post(f"/touchpoints/{tp.id}/log", data={"actual_mode": "chat"}).status_code == 403
        client.post("/logout")


def test_grievance_meetings_are_hidden_from_the_manager_but_not_hr_or_the_person(client, login, org):
    grievance = plan(org.employee, owner=org.hr, actor=org.hr, kind=TouchpointKind.GRIEVANCE_MEETING,
                     title="Grievance hearing")
    plan(org.employee, owner=org.manager, actor=org.hr, title="Weekly catch-up")
    login(org.manager)
    html = page(client, f"/people/{org.employee.id}/timeline")
    assert "Weekly catch-up" in html and "Grievance" not in html
    assert client.get(f"/touchpoints/{grievance.id}").status_code == 403
    assert "Grievance" not in page(client, "/team/touchpoints")
    client.post("/logout")
    for viewer in (org.hr, org.employee):
        login(viewer)
        assert "Grievance hearing" in page(client, f"/people/{org.employee.id}/timeline")
        assert client.get(f"/touchpoints/{grievance.id}").status_code == 200
        client.post("/logout")


def test_private_notes_are_read_only_by_their_author(client, login, org):
    tp = plan(org.employee, owner=org.manager, actor=org.hr, title="Weekly catch-up")
    log_touchpoint(tp, actual_mode=Mode.IN_PERSON, note="Manager-only thought 7731",
                   actor=user_of(org.manager))
    save_private_note(tp, actor=user_of(org.employee), body="Employee-only thought 4402")
    db.session.commit()
    pages = ["/people/{e}/timeline", "/touchpoints/{t}", "/team/touchpoints", "/me/journey",
             "/touchpoints/{t}/confirm"]

    def seen_by(viewer) -> str:
        login(viewer)
        html = ""
        for url in pages:
            response = client.get(url.format(e=org.employee.id, t=tp.id))
            html += response.get_data(as_text=True)
        client.post("/logout")
        return html

    manager_sees, employee_sees, hr_sees = seen_by(org.manager), seen_by(org.employee), seen_by(org.hr)
    assert "Manager-only thought 7731" in manager_sees and "Employee-only thought 4402" not in manager_sees
    assert "Employee-only thought 4402" in employee_sees and "Manager-only thought 7731" not in employee_sees
    assert "7731" not in hr_sees and "4402" not in hr_sees
    # Nor does the API give them to anyone, their authors included.
    for person in (org.manager, org.employee, org.hr):
        token = issue_token(user_of(person), "privacy check", created_by=None).raw
        db.session.commit()
        headers = {"Authorization": f"Bearer {token}"}
        for url in (f"/api/v1/touchpoints/{tp.id}", f"/api/v1/touchpoints?employee_id={org.employee.id}"):
            response = client.get(url, headers=headers)
            assert response.status_code == 200, (url, response.status_code)
            body = response.get_data(as_text=True)
            assert "7731" not in body and "4402" not in body


def test_either_side_adds_talking_points_and_ticks_them_off(client, login, org):
    tp = plan(org.employee, owner=org.manager, actor=org.hr, due=utcnow() + timedelta(days=2))
    login(org.employee)
    back = "/me/journey"
    response = client.post(f"/touchpoints/{tp.id}/agenda", data={"text": "Conference budget", "next": back})
    assert response.status_code == 302 and response.location.startswith(back)
    client.post("/logout")
    login(org.manager)
    client.post(f"/touchpoints/{tp.id}/agenda", data={"text": "Team offsite"})
    html = page(client, f"/people/{org.employee.id}/timeline")
    assert "Conference budget" in html and "Team offsite" in html
    items = {item.text: item for item in reload(tp).agenda_items}
    client.post(f"/agenda-items/{items['Conference budget'].id}/done", data={"done": "1"})
    assert reload(tp).agenda_items[0].done is True
    # Only its author takes a talking point back.
    client.post(f"/agenda-items/{items['Conference budget'].id}/remove")
    assert len(reload(tp).agenda_items) == 2
    client.post(f"/agenda-items/{items['Team offsite'].id}/remove")
    assert [i.text for i in reload(tp).agenda_items] == ["Conference budget"]
    client.post("/logout")
    login(org.colleague)
    assert client.post(f"/touchpoints/{tp.id}/agenda", data={"text": "Nosy"}).status_code == 403
    assert [i.text for i in reload(tp).agenda_items] == ["Conference budget"]


def test_times_are_in_the_persons_zone_with_the_viewers_own_beside_them(client, login, org):
    org.employee.timezone = "Europe/Berlin"
    org.manager.timezone = "America/New_York"
    db.session.commit()
    plan(org.employee, owner=org.manager, actor=org.hr, due=datetime(2030, 1, 15, 13, 0, tzinfo=UTC),
         title="Catch-up in January")
    # 23:30 UTC on 31 January is already 1 February in Berlin: it belongs to February.
    plan(org.employee, owner=org.manager, actor=org.hr, due=datetime(2030, 1, 31, 23, 30, tzinfo=UTC),
         title="Catch-up at midnight")
    login(org.manager)
    html = page(client, f"/people/{org.employee.id}/timeline")
    assert "Tue 15 Jan 2030, 14:00" in html and "08:00 your time" in html
    january, february = html.index("January 2030"), html.index("February 2030")
    assert january < html.index("Catch-up in January") < february < html.index("Catch-up at midnight")
    assert "Fri 1 Feb 2030, 00:30" in html and "18:30 Thu 31 Jan your time" in html


def test_lifecycle_events_sit_on_the_timeline(client, login, org):
    record_lifecycle_event(org.employee, LifecycleEventKind.LEAVE, actor_id=user_of(org.hr).id,
                           effective_on=date.today() - timedelta(days=3))
    db.session.commit()
    login(org.employee)
    assert "Went on leave" in page(client, "/me/journey")


def test_a_logged_touchpoint_asks_the_person_to_confirm(client, login, org):
    tp = plan(org.employee, owner=org.manager, actor=org.hr, title="Weekly catch-up")
    log_touchpoint(tp, actual_mode=Mode.VIDEO, actor=user_of(org.manager))
    db.session.commit()
    login(org.employee)
    html = page(client, "/me/journey")
    attention = html[html.index("Needs attention"):html.index("Coming up")]
    assert "Did it take place?" in attention and "Awaiting confirmation" in attention
    assert f"/touchpoints/{tp.id}/confirm?answer=yes" in attention
    # Planned in person, done by video: both shown, each with its human-touch level in words.
    assert re.search(r"In person<span class=\"visually-hidden\"> \(in person\)", attention)
    assert re.search(r"Video call<span class=\"visually-hidden\"> \(live, remote\)", attention)


def _grow(org, people: int, touchpoints: int, start: int) -> None:
    for n in range(people):
        make_employee(f"Filler {start + n}", manager=org.manager, team=org.team)
    for n in range(touchpoints):
        due = utcnow() + timedelta(days=n - touchpoints // 2, hours=start)
        tp = plan(org.employee, owner=org.manager, actor=org.hr, due=due)
        if n % 3 == 0 and tp.due_at < utcnow():
            log_touchpoint(tp, actual_mode=Mode.IN_PERSON, note=f"note {n}", actor=user_of(org.manager))
        if n % 4 == 0 and tp.is_open:
            add_agenda_item(tp, actor=user_of(org.employee), text=f"point {n}")
    db.session.commit()


def test_timeline_queries_do_not_grow_with_the_company_or_the_history(client, login, org):
    _grow(org, people=10, touchpoints=4, start=0)
    login(org.manager)
    url = f"/people/{org.employee.id}/timeline"
    with count_queries() as small:
        assert client.get(url).status_code == 200
    _grow(org, people=90, touchpoints=36, start=100)
    with count_queries() as large:
        assert client.get(url).status_code == 200
    assert small.count == large.count, large.report()
    assert large.count <= 14, large.report()
