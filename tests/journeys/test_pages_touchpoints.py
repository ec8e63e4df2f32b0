"""Acting on touchpoints from the pages: log in three clicks, policy refusals, reschedule, missed,
confirm or dispute, the manager's week, and CSRF on every form.
"""
from __future__ import annotations

import html as html_lib
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.factories import DEFAULT_PASSWORD, make_employee, make_hr, make_manager, make_team
from tests.journeys.pages import plan, reload, user_of
from tests.querycount import count_queries
from touchpoints.audit.models import AuditEntry
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys import outcomes
from touchpoints.journeys.errors import HumanTouchRefusal
from touchpoints.journeys.models import Confirmation, Mode, TouchpointKind, TouchpointStatus
from touchpoints.journeys.outcomes import log_touchpoint

INPUT = re.compile(r"<input ([^>]*)>")
HREF = re.compile(r'href="([^"]+)"')


def attrs(tag: str) -> dict[str, str]:
    return {k: html_lib.unescape(v) for k, v in re.findall(r'([\w-]+)="([^"]*)"', tag)} | \
        {k: "" for k in re.findall(r'\s(checked|required)(?=[\s>]|$)', " " + tag)}


def form_defaults(html: str) -> dict[str, str]:
    """What a browser would send for the form as it stands (checked radios, filled inputs, textareas)."""
    values: dict[str, str] = {}
    for tag in INPUT.findall(html):
        a = attrs(tag)
        name = a.get("name")
        if not name or a.get("type") == "submit":
            continue
        if a.get("type") in ("radio", "checkbox"):
            if "checked" in a:
                values[name] = a.get("value", "y")
        else:
            values[name] = a.get("value", "")
    for name, body in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S):
        values[name] = html_lib.unescape(re.sub(r"^\r?\n", "", body))  # as a browser reads it
    return values


def log_it_link(html: str, touchpoint_id: int) -> str:
    links = [html_lib.unescape(h) for h in HREF.findall(html) if f"/touchpoints/{touchpoint_id}/log" in h]
    assert links, "no Log it link"
    return links[0]


def test_a_manager_logs_a_one_on_one_in_three_clicks(client, login, org):
    due = (utcnow() - timedelta(hours=3)).replace(second=0, microsecond=0)
    tp = plan(org.employee, owner=org.manager, actor=org.hr, due=due, title="Weekly catch-up")
    login(org.manager)
    timeline = client.get(f"/people/{org.employee.id}/timeline").get_data(as_text=True)
    # Click 1: "Log it".
    form_page = client.get(log_it_link(timeline, tp.id))
    assert form_page.status_code == 200
    html = form_page.get_data(as_text=True)
    defaults = form_defaults(html)
    assert defaults["actual_mode"] == "in_person"  # preselected to the plan
    assert defaults["happened_at"] == due.astimezone(ZoneInfo("Europe/London")).strftime("%Y-%m-%dT%H:%M")
    # Click 2 is picking a mode, optional; click 3: "Save" with what the form already holds.
    saved = client.post(log_it_link(timeline, tp.id), data=defaults)
    assert saved.status_code == 302 and saved.location.endswith(f"/people/{org.employee.id}/timeline")
    done = reload(tp)
    assert done.status is TouchpointStatus.DONE and done.actual_mode is Mode.IN_PERSON
    assert done.happened_at == due and done.logged_by_id == org.manager.id
    assert done.confirmation is Confirmation.PENDING
    after = client.get(saved.location).get_data(as_text=True)
    assert "Logged: Weekly catch-up, in person." in after and "asked to confirm" in after


def test_logging_a_different_mode_with_a_private_note(client, login, org):
    tp = plan(org.employee, owner=org.manager, actor=org.hr)
    login(org.manager)
    happened = (utcnow() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(f"/touchpoints/{tp.id}/log", data={
        "actual_mode": "video", "happened_at": happened, "note": "Seemed tired; follow up on workload"})
    assert response.status_code == 302
    done = reload(tp)
    assert done.actual_mode is Mode.VIDEO
    assert outcomes.private_note_for(tp.id, org.manager.id).body == "Seemed tired; follow up on workload"


def test_a_future_time_is_refused_on_its_field_and_what_was_typed_stays(client, login, org):
    tp = plan(org.employee, owner=org.manager, actor=org.hr)
    login(org.manager)
    future = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(f"/touchpoints/{tp.id}/log", data={
        "actual_mode": "phone", "happened_at": future, "note": "draft words"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="happened_at-error"' in page and "in the future" in page
    assert form_defaults(page)["actual_mode"] == "phone" and "draft words" in page
    assert reload(tp).status is TouchpointStatus.SCHEDULED


@pytest.fixture
def chat_refused():
    """A human-touch check as the policies engine registers one: no chat unless HR justifies it."""
    def no_chat(attempt):
        if attempt.actual_mode is Mode.CHAT and not (attempt.justification and attempt.actor.is_hr):
            raise HumanTouchRefusal("Performance reviews happen in person or by video, never by chat.")

    outcomes.register_log_check(no_chat)
    yield no_chat
    outcomes._log_checks.remove(no_chat)


def test_a_policy_refusal_shows_its_reason_on_the_mode_and_keeps_what_was_typed(client, login, org,
                                                                                chat_refused):
    tp = plan(org.employee, owner=org.manager, actor=org.hr, kind=TouchpointKind.PERFORMANCE_REVIEW)
    login(org.manager)
    happened = (utcnow() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(f"/touchpoints/{tp.id}/log", data={
        "actual_mode": "chat", "happened_at": happened, "note": "Went fine overall"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    error = page[page.index('id="actual_mode-error"'):]
    assert error.index("never by chat") < 200
    typed = form_defaults(page)
    assert typed["actual_mode"] == "chat" and typed["happened_at"] == happened
    assert typed["note"] == "Went fine overall"
    assert 'name="justification"' not in page  # a manager cannot override
    assert reload(tp).status is TouchpointStatus.SCHEDULED


def test_hr_may_override_a_refusal_with_a_written_justification(client, login, org, chat_refused):
    tp = plan(org.employee, owner=org.hr, actor=org.hr, kind=TouchpointKind.PERFORMANCE_REVIEW)
    login(org.hr)
    happened = (utcnow() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    refused = client.post(f"/touchpoints/{tp.id}/log", data={"actual_mode": "chat", "happened_at": happened})
    assert refused.status_code == 400 and 'name="justification"' in refused.get_data(as_text=True)
    accepted = client.post(f"/touchpoints/{tp.id}/log", data={
        "actual_mode": "chat", "happened_at": happened,
        "justification": "Employee abroad without video; agreed in writing."})
    assert accepted.status_code == 302
    assert reload(tp).actual_mode is Mode.CHAT
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "touchpoint.logged"))
    assert entry.justification == "Employee abroad without video; agreed in writing."


def test_reschedule_reads_the_time_in_the_viewers_zone(client, login, org):
    org.manager.timezone = "America/New_York"
    org.employee.timezone = "Europe/Berlin"
    db.session.commit()
    tp = plan(org.employee, owner=org.manager, actor=org.hr, due=datetime(2030, 3, 1, 13, tzinfo=UTC))
    login(org.manager)
    form = client.get(f"/touchpoints/{tp.id}/reschedule").get_data(as_text=True)
    assert form_defaults(form)["day"] == "2030-03-01" and form_defaults(form)["time_of_day"] == "08:00"
    response = client.post(f"/touchpoints/{tp.id}/reschedule", data={
        "day": "2030-03-04", "time_of_day": "09:30", "reason": "Travelling"}, follow_redirects=True)
    assert reload(tp).due_at == datetime(2030, 3, 4, 14, 30, tzinfo=UTC)
    assert "moved to Mon 4 Mar 2030, 15:30 (Europe/Berlin)" in response.get_data(as_text=True)


def test_rescheduling_into_the_past_names_the_date(client, login, org):
    tp = plan(org.employee, owner=org.manager, actor=org.hr)
    login(org.manager)
    response = client.post(f"/touchpoints/{tp.id}/reschedule",
                           data={"day": "2020-01-06", "time_of_day": "10:00"})
    assert response.status_code == 400
    assert 'id="day-error"' in response.get_data(as_text=True)


def test_mark_missed_with_a_reason(client, login, org):
    tp = plan(org.employee, owner=org.manager, actor=org.hr, title="Weekly catch-up")
    later = plan(org.employee, owner=org.manager, actor=org.hr, due=utcnow() + timedelta(days=3))
    login(org.manager)
    response = client.post(f"/touchpoints/{tp.id}/missed", data={"reason": "Off sick"}, follow_redirects=True)
    assert reload(tp).status is TouchpointStatus.MISSED and reload(tp).status_reason == "Off sick"
    assert "Off sick" in response.get_data(as_text=True)
    not_yet = client.post(f"/touchpoints/{later.id}/missed", data={"reason": ""})
    assert not_yet.status_code == 400 and "not due yet" in not_yet.get_data(as_text=True)


def test_the_person_confirms_it_took_place(client, login, org):
    tp = plan(org.employee, owner=org.manager, actor=org.hr)
    log_touchpoint(tp, actual_mode=Mode.IN_PERSON, actor=user_of(org.manager))
    db.session.commit()
    login(org.manager)
    assert client.post(f"/touchpoints/{tp.id}/confirm", data={"took_place": "yes"}).status_code == 403
    client.post("/logout")
    login(org.employee)
    form = client.get(f"/touchpoints/{tp.id}/confirm?answer=yes").get_data(as_text=True)
    assert form_defaults(form)["took_place"] == "yes"
    assert client.post(f"/touchpoints/{tp.id}/confirm", data={"took_place": "yes"}).status_code == 302
    assert reload(tp).confirmation is Confirmation.CONFIRMED


def test_the_person_says_it_did_not_take_place(client, login, org):
    tp = plan(org.employee, owner=org.manager, actor=org.hr, title="Weekly catch-up")
    log_touchpoint(tp, actual_mode=Mode.IN_PERSON, actor=user_of(org.manager))
    db.session.commit()
    login(org.employee)
    bare = client.post(f"/touchpoints/{tp.id}/confirm", data={"took_place": "no"})
    assert bare.status_code == 400 and 'id="comment-error"' in bare.get_data(as_text=True)
    assert reload(tp).confirmation is Confirmation.PENDING
    client.post(f"/touchpoints/{tp.id}/confirm",
                data={"took_place": "no", "comment": "It was cancelled by chat"})
    assert reload(tp).confirmation is Confirmation.DISPUTED
    client.post("/logout")
    login(org.manager)
    page = client.get(f"/people/{org.employee.id}/timeline").get_data(as_text=True)
    assert "Disputed" in page and "It was cancelled by chat" in page


def test_an_employee_cannot_log_what_their_manager_runs(client, login, org):
    tp = plan(org.employee, owner=org.manager, actor=org.hr)
    login(org.employee)
    assert client.get(f"/touchpoints/{tp.id}/log").status_code == 403
    assert client.post(f"/touchpoints/{tp.id}/missed").status_code == 403
    assert client.post(f"/touchpoints/{tp.id}/reschedule").status_code == 403
    assert "Log it" not in client.get("/me/journey").get_data(as_text=True)


def test_the_team_page_lists_overdue_and_this_week_and_days_since_human_contact(client, login, org):
    other = make_manager("Oz Other")
    stranger = make_employee("Stan Stranger", manager=other)
    plan(stranger, owner=other, actor=org.hr, title="Not my team")
    plan(org.employee, owner=org.manager, actor=org.hr, title="Overdue catch-up",
         due=utcnow() - timedelta(days=2))
    plan(org.employee, owner=org.manager, actor=org.hr, title="Thursday catch-up",
         due=utcnow() + timedelta(days=3))
    plan(org.employee, owner=org.manager, actor=org.hr, title="Next month catch-up",
         due=utcnow() + timedelta(days=30))
    met = plan(org.colleague, owner=org.manager, actor=org.hr, due=utcnow() - timedelta(days=5, hours=1))
    log_touchpoint(met, actual_mode=Mode.VIDEO, happened_at=met.due_at, actor=user_of(org.manager))
    by_chat = plan(org.employee, owner=org.manager, actor=org.hr, due=utcnow() - timedelta(days=1))
    log_touchpoint(by_chat, actual_mode=Mode.CHAT, actor=user_of(org.manager))
    db.session.commit()
    login(org.manager)
    page = client.get("/team/touchpoints").get_data(as_text=True)
    overdue = page[page.index('id="overdue-heading"'):page.index('id="week-heading"')]
    week = page[page.index('id="week-heading"'):page.index('id="contact-heading"')]
    contact = page[page.index('id="contact-heading"'):]
    assert "Overdue catch-up" in overdue and "Thursday catch-up" in week
    assert "Next month" not in page and "Not my team" not in page and "Stan Stranger" not in page
    rows = dict(re.findall(r'>([A-Z][a-z]+ [A-Z][a-z]+)</a><br>.*?<td class="num">(.*?)</td>', contact, re.S))
    assert "Never" in rows["Eli Employee"]  # a chat is not human contact
    assert ">5<" in rows["Cleo Colleague"]
    client.post("/logout")
    login(org.employee)
    assert client.get("/team/touchpoints").status_code == 403


def test_deeper_levels_are_counted_per_branch_not_listed(client, login, org):
    boss = make_manager("Bo Boss")
    org.manager.manager = boss
    db.session.commit()
    plan(org.employee, owner=org.manager, actor=org.hr, title="Eli's late catch-up",
         due=utcnow() - timedelta(days=3))
    plan(org.colleague, owner=org.manager, actor=org.hr, title="Cleo's late catch-up",
         due=utcnow() - timedelta(days=4))
    plan(org.manager, owner=boss, actor=org.hr, title="Skip-level chat", due=utcnow() + timedelta(days=2))
    login(boss)
    page = client.get("/team/touchpoints").get_data(as_text=True)
    assert "Skip-level chat" in page and "late catch-up" not in page
    row = page[page.index(">Mia Manager</a>"):]
    row = row[:row.index("</tr>")]
    assert "Overdue in their team" in page
    assert row.rstrip().endswith('<span class="badge badge--warn">2</span></td>')


def test_team_page_queries_do_not_grow_with_the_team(client, login, org):
    def grow(count: int, start: int) -> None:
        for n in range(count):
            person = make_employee(f"Report {start + n}", manager=org.manager, team=org.team)
            tp = plan(person, owner=org.manager, actor=org.hr, due=utcnow() - timedelta(days=n % 5 + 1))
            if n % 2:
                log_touchpoint(tp, actual_mode=Mode.IN_PERSON, actor=user_of(org.manager))
            plan(person, owner=org.manager, actor=org.hr, due=utcnow() + timedelta(days=n % 6 + 1))
        db.session.commit()

    grow(10, 0)
    lead = make_employee("Team Lead", manager=org.manager, team=org.team)
    for n in range(5):  # a sub-team, counted per branch
        below = make_employee(f"Below {n}", manager=lead, team=org.team)
        plan(below, owner=lead, actor=org.hr, due=utcnow() - timedelta(days=2))
    login(org.manager)
    with count_queries() as small:
        assert client.get("/team/touchpoints").status_code == 200
    grow(90, 100)
    with count_queries() as large:
        assert client.get("/team/touchpoints").status_code == 200
    assert small.count == large.count, large.report()
    assert large.count <= 10, large.report()


POST_FORM = re.compile(r'<form[^>]*method="post"[^>]*>(.*?)</form>', re.S | re.I)


def test_every_form_on_the_journeys_pages_carries_a_csrf_token_and_posts_without_one_fail(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        hr = make_hr("Csrf HR")
        team = make_team("Csrf team", hr_partner=hr)
        manager = make_manager("Csrf Manager", team=team)
        person = make_employee("Csrf Person", manager=manager, team=team)
        tp = plan(person, owner=manager, actor=hr, due=utcnow() + timedelta(days=1))
        client = app.test_client()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                          client.get("/login").get_data(as_text=True)).group(1)
        client.post("/login",
                    data={"email": manager.email, "password": DEFAULT_PASSWORD, "csrf_token": token})
        for url in (f"/people/{person.id}/timeline", f"/touchpoints/{tp.id}", f"/touchpoints/{tp.id}/log",
                    f"/touchpoints/{tp.id}/reschedule", "/team/touchpoints"):
            page = client.get(url).get_data(as_text=True)
            forms = POST_FORM.findall(page)
            assert forms, url
            assert all('name="csrf_token"' in body for body in forms), url
        refused = client.post(f"/touchpoints/{tp.id}/log", data={"actual_mode": "in_person",
                                                                  "happened_at": "2020-01-01T10:00"})
        assert refused.status_code == 400
        assert client.post(f"/touchpoints/{tp.id}/agenda", data={"text": "x"}).status_code == 400
        assert reload(tp).status is TouchpointStatus.SCHEDULED and not reload(tp).agenda_items
        db.session.remove()
