"""HR's journeys pages: templates (create, edit, version choice, copy, retire), enrolment, lifecycle, map."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import make_employee, make_manager
from tests.journeys.pages import user_of
from tests.querycount import count_queries
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.enrolment import enrol
from touchpoints.journeys.models import (
    OPEN_STATUSES,
    Enrolment,
    EnrolmentStatus,
    JourneyStatus,
    JourneyTemplate,
    LifecycleEvent,
    LifecycleEventKind,
    Mode,
    Touchpoint,
)
from touchpoints.journeys.outcomes import log_touchpoint
from touchpoints.journeys.templates import create_journey
from touchpoints.people.models import LifecycleStatus

PROBATION = {
    "key": "probation", "name": "Probation", "stage": "onboarding",
    "touchpoints": [
        {"key": "kickoff", "phase": "First week", "title": "Kick-off", "kind": "check_in",
         "planned_mode": "in_person", "owner_role": "manager", "anchor": "start_date", "offset": 1,
         "offset_unit": "working_days"},
        {"key": "midpoint", "phase": "Month two", "title": "Midpoint review", "kind": "check_in",
         "planned_mode": "video", "owner_role": "manager", "anchor": "start_date", "offset": 45},
        {"key": "pulse", "phase": "Month two", "title": "Probation pulse", "kind": "pulse_survey",
         "planned_mode": "self_serve", "owner_role": "employee", "anchor": "start_date", "offset": 50},
    ],
}


def row_fields(index: int, **values) -> dict[str, str]:
    defaults = {"offset": "0", "offset_unit": "calendar_days", "time_of_day": "10:00",
                "duration_minutes": "30"}
    return {f"touchpoints-{index}-{k}": str(v) for k, v in {**defaults, **values}.items()}


def editor_data(journey: dict, **overrides) -> dict[str, str]:
    """The editor form as a browser would send it for this journey."""
    data = {"name": journey["name"], "key": journey["key"], "stage": journey.get("stage", "other"),
            "description": journey.get("description", ""), "enrols_on": "", "save": "Save"}
    for index, row in enumerate(journey["touchpoints"]):
        data.update(row_fields(index, **row))
    data.update(overrides)
    return data


@pytest.fixture
def probation(org):
    journey = create_journey(PROBATION, actor_id=user_of(org.hr).id, activate=True)
    db.session.commit()
    return journey


def newcomers(org, count: int = 2):
    start = date.today() + timedelta(days=14)
    return [make_employee(f"New Person {n}", manager=org.manager, team=org.team, start_date=start,
                          hire_date=date.today(), status=LifecycleStatus.PRE_BOARDING) for n in range(count)]


@pytest.mark.parametrize("url", ["/journeys/", "/journeys/new", "/journeys/map", "/journeys/enrol"])
def test_journey_pages_are_for_hr_only(client, login, org, probation, url):
    login(org.hr)
    assert client.get(url).status_code == 200
    for other in (org.manager, org.employee):
        client.post("/logout")
        login(other)
        assert client.get(url).status_code == 403


def test_the_list_shows_each_journey_with_its_versions_and_people(client, login, org, probation):
    enrol(org.employee, probation, actor_id=None)
    db.session.commit()
    login(org.hr)
    page = client.get("/journeys/").get_data(as_text=True)
    row = page[page.index("Probation"):page.index("</tr>", page.index("Probation"))]
    assert "v1" in row and "Active" in row and '<td class="num">1</td>' in row


def test_the_detail_lists_touchpoints_in_time_order(client, login, org):
    data = {**PROBATION, "touchpoints": list(reversed(PROBATION["touchpoints"]))}
    journey = create_journey(data, actor_id=None, activate=True)
    db.session.commit()
    login(org.hr)
    page = client.get(f"/journeys/{journey.id}").get_data(as_text=True)
    assert page.index("Kick-off") < page.index("Midpoint review") < page.index("Probation pulse")
    assert "1 working day after the start date" in page and "45 days after the start date" in page


def test_hr_creates_a_journey_in_the_editor_and_errors_name_the_row(client, login, org):
    login(org.hr)
    added = client.post("/journeys/new", data={**editor_data(PROBATION), "save": "", "add_row": "Add"})
    assert added.status_code == 200
    assert added.get_data(as_text=True).count('class="panel tp-row"') == 4
    broken = editor_data(PROBATION, **{"touchpoints-1-title": "", "touchpoints-2-rrule": "EVERY TUESDAY"})
    response = client.post("/journeys/new", data=broken)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="touchpoints-1-title-error"' in page and "Touchpoint 2, title: This field is required." in page
    assert 'id="touchpoints-2-rrule-error"' in page and "FREQ must be" in page
    assert 'value="Midpoint review"' not in page and 'value="Probation pulse"' in page  # kept as typed
    saved = client.post("/journeys/new", data=editor_data(PROBATION))
    journey = db.session.scalar(select(JourneyTemplate).where(JourneyTemplate.key == "probation"))
    assert saved.status_code == 302 and journey.status is JourneyStatus.DRAFT
    titles = [t.title for t in journey.touchpoint_templates]
    assert titles == ["Kick-off", "Midpoint review", "Probation pulse"]


def test_a_blank_or_removed_row_is_not_saved(client, login, org):
    login(org.hr)
    data = editor_data(PROBATION, **{"touchpoints-2-remove": "y"})
    data.update({f"touchpoints-3-{k}": "" for k in ("key", "title", "kind", "anchor")})
    assert client.post("/journeys/new", data=data).status_code == 302
    journey = db.session.scalar(select(JourneyTemplate).where(JourneyTemplate.key == "probation"))
    assert [t.key for t in journey.touchpoint_templates] == ["kickoff", "midpoint"]


def test_a_draft_is_edited_in_place(client, login, org):
    journey = create_journey(PROBATION, actor_id=None)
    db.session.commit()
    login(org.hr)
    response = client.post(f"/journeys/{journey.id}/edit",
                           data=editor_data(PROBATION, name="Probation period",
                                            **{"touchpoints-0-offset": "2"}))
    assert response.status_code == 302
    db.session.expire_all()
    assert journey.name == "Probation period" and journey.version == 1
    assert journey.touchpoint_templates[0].offset == 2


def _edit_live_title(client, probation) -> str:
    response = client.post(f"/journeys/{probation.id}/edit",
                           data=editor_data(PROBATION, **{"touchpoints-1-title": "Midpoint conversation"}))
    assert response.status_code == 302
    return response.location


def test_editing_a_live_journey_shows_how_many_open_touchpoints_follow_and_moves_them(client, login, org,
                                                                                        probation):
    people = newcomers(org)
    for person in people:
        enrol(person, probation, actor_id=None)
    db.session.commit()
    open_count = db.session.scalar(select(func.count()).select_from(Touchpoint)
                                   .where(Touchpoint.status.in_(OPEN_STATUSES)))
    login(org.hr)
    review = client.get(_edit_live_title(client, probation))
    page = review.get_data(as_text=True)
    assert f"{open_count} open touchpoints for 2 people follow version 1" in page
    assert "Apply version 2 to them" in page and "Keep them on version 1" in page
    assert probation.status is JourneyStatus.ACTIVE  # nothing changed for anyone yet
    draft = db.session.scalar(select(JourneyTemplate).where(JourneyTemplate.version == 2))
    done = client.post(f"/journeys/{draft.id}/publish", data={"open_touchpoints": "move"},
                       follow_redirects=True)
    assert f"{open_count} open touchpoints for 2 people now follow it" in done.get_data(as_text=True)
    titles = set(db.session.scalars(select(Touchpoint.title)))
    assert "Midpoint conversation" in titles and "Midpoint review" not in titles
    db.session.expire_all()
    assert probation.status is JourneyStatus.SUPERSEDED


def test_hr_may_keep_people_on_the_version_they_started(client, login, org, probation):
    for person in newcomers(org):
        enrol(person, probation, actor_id=None)
    db.session.commit()
    login(org.hr)
    _edit_live_title(client, probation)
    draft = db.session.scalar(select(JourneyTemplate).where(JourneyTemplate.version == 2))
    done = client.post(f"/journeys/{draft.id}/publish", data={"open_touchpoints": "keep"},
                       follow_redirects=True)
    assert "people already on version 1 keep it" in done.get_data(as_text=True)
    titles = set(db.session.scalars(select(Touchpoint.title)))
    assert "Midpoint review" in titles and "Midpoint conversation" not in titles
    assert set(db.session.scalars(select(Enrolment.journey_id))) == {probation.id}


def test_a_second_edit_of_a_live_journey_opens_the_existing_draft(client, login, org, probation):
    login(org.hr)
    _edit_live_title(client, probation)
    again = client.get(f"/journeys/{probation.id}/edit")
    draft = db.session.scalar(select(JourneyTemplate).where(JourneyTemplate.version == 2))
    assert again.status_code == 302 and again.location.endswith(f"/journeys/{draft.id}/edit")


def test_copy_retire_and_discard(client, login, org, probation):
    login(org.hr)
    taken = client.post(f"/journeys/{probation.id}/clone", data={"key": "probation", "name": "Again"})
    assert taken.status_code == 400 and "already exists" in taken.get_data(as_text=True)
    copied = client.post(f"/journeys/{probation.id}/clone",
                         data={"key": "probation-sales", "name": "Sales probation"})
    assert copied.status_code == 302
    copy = db.session.scalar(select(JourneyTemplate).where(JourneyTemplate.key == "probation-sales"))
    assert copy.status is JourneyStatus.DRAFT and len(copy.touchpoint_templates) == 3
    assert client.post(f"/journeys/{copy.id}/discard").status_code == 302
    assert db.session.scalar(select(JourneyTemplate).where(JourneyTemplate.key == "probation-sales")) is None
    assert client.post(f"/journeys/{probation.id}/retire").status_code == 302
    db.session.expire_all()
    assert probation.status is JourneyStatus.RETIRED
    page = client.get(f"/journeys/{probation.id}").get_data(as_text=True)
    assert "Retired" in page and "/retire" not in page


def test_the_recurrence_preview_reads_the_rule_and_lists_the_next_dates(client, login, org):
    login(org.hr)
    preview = client.get("/journeys/recurrence-preview", query_string={
        "rrule": "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", "anchor": "start_date", "offset": "0"}).get_json()
    assert preview["description"] == "Every 2 weeks on Monday" and len(preview["dates"]) == 5
    days = [date.fromisoformat(d) for d in preview["dates"]]
    assert all(d.isoweekday() in (1, 2) for d in days)  # Mondays, or the Tuesday after a bank holiday
    # HR reads the dates as words, on the page and in the live preview alike.
    assert preview["labels"] == [f"{d:%a} {d.day} {d:%b %Y}" for d in days]
    form = client.post("/journeys/new", data={
        "name": "Series", "key": "series", "stage": "development", "touchpoints-0-offset": "0",
        "touchpoints-0-rrule": "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", "touchpoints-0-anchor": "start_date"})
    page = form.get_data(as_text=True)
    assert f'<time datetime="{days[0].isoformat()}">{preview["labels"][0]}</time>' in page
    bad = client.get("/journeys/recurrence-preview", query_string={"rrule": "EVERY DAY"}).get_json()
    assert bad["dates"] == [] and "FREQ must be" in bad["error"]
    cadence = client.get("/journeys/recurrence-preview", query_string={"follows_cadence": "y"}).get_json()
    assert cadence["description"].startswith("Every 2 weeks")
    client.post("/logout")
    login(org.manager)
    assert client.get("/journeys/recurrence-preview?rrule=FREQ%3DDAILY").status_code == 403


def test_bulk_enrolment_previews_the_count_then_enrols(client, login, org, probation):
    newcomers(org, 3)
    enrol(org.employee, probation, actor_id=None)
    db.session.commit()
    login(org.hr)
    form = {"journey_id": str(probation.id), "team_id": str(org.team.id)}
    preview = client.post("/journeys/enrol", data={**form, "preview": "Preview"}).get_data(as_text=True)
    assert "6 people match." in preview and "1 is already on Probation" in preview
    assert 'value="Enrol 5 people"' in preview
    stale = client.post("/journeys/enrol", data={**form, "enrol": "Enrol", "expected": "4"})
    assert "changed since the preview" in stale.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Enrolment)) == 1
    done = client.post("/journeys/enrol", data={**form, "enrol": "Enrol", "expected": "5"},
                       follow_redirects=True)
    assert "Enrolled 5 people in Probation (v1)" in done.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Enrolment)) == 6


def test_bulk_enrolment_by_manager_and_stage(client, login, org, probation):
    newcomers(org, 2)
    other = make_manager("Oz Other")
    make_employee("Elsewhere", manager=other, status=LifecycleStatus.PRE_BOARDING)
    login(org.hr)
    unknown = client.post("/journeys/enrol", data={
        "journey_id": str(probation.id), "manager_email": "no@one.example", "preview": "Preview"})
    assert unknown.status_code == 400 and "No one has this work email." in unknown.get_data(as_text=True)
    page = client.post("/journeys/enrol", data={
        "journey_id": str(probation.id), "manager_email": org.manager.email.upper(),
        "statuses": ["pre_boarding"], "preview": "Preview"}).get_data(as_text=True)
    assert "2 people match." in page


def test_hr_enrols_one_person_by_hand(client, login, org, probation):
    person = newcomers(org, 1)[0]
    login(org.hr)
    page = client.get(f"/people/{person.id}/journeys").get_data(as_text=True)
    assert "Enrol in a journey" in page and "Not on any journey yet." in page
    done = client.post(f"/people/{person.id}/enrol", data={"journey_id": str(probation.id)},
                       follow_redirects=True)
    assert f"{person.full_name} is on Probation (v1): 3 touchpoints planned." in done.get_data(as_text=True)
    enrolment = db.session.scalar(select(Enrolment))
    ended = client.post(f"/enrolments/{enrolment.id}/end", data={"reason": "Wrong journey"},
                        follow_redirects=True)
    assert "3 open touchpoints cancelled" in ended.get_data(as_text=True)
    assert enrolment.status is EnrolmentStatus.ENDED
    client.post("/logout")
    login(org.manager)
    assert client.get(f"/people/{person.id}/journeys").status_code == 403
    refused = client.post(f"/people/{person.id}/enrol", data={"journey_id": str(probation.id)})
    assert refused.status_code == 403


def test_a_moved_start_date_says_how_many_touchpoints_moved(client, login, org, probation):
    person = newcomers(org, 1)[0]
    enrol(person, probation, actor_id=None)
    db.session.commit()
    before = {t.title: t.due_at for t in db.session.scalars(select(Touchpoint))}
    new_start = person.start_date + timedelta(days=7)
    login(org.hr)
    response = client.post(f"/people/{person.id}/lifecycle/start_date_moved",
                           data={"start_date": new_start.isoformat()}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert (f"Start date moved: 3 open touchpoints moved to the new start date "
            f"({new_start.day} {new_start:%b %Y})") in page
    db.session.expire_all()
    after = {t.title: t.due_at for t in db.session.scalars(select(Touchpoint))}
    assert all(after[title] > before[title] for title in before)
    event = db.session.scalar(select(LifecycleEvent))
    assert event.kind is LifecycleEventKind.START_DATE_MOVED and event.recorded_by_id == user_of(org.hr).id


def test_lifecycle_forms_name_the_missing_field_and_only_offer_what_applies(client, login, org):
    login(org.hr)
    missing = client.post(f"/people/{org.employee.id}/lifecycle/exit_date_set", data={})
    assert missing.status_code == 400 and 'id="exit_date-error"' in missing.get_data(as_text=True)
    page = client.get(f"/people/{org.employee.id}/journeys").get_data(as_text=True)
    assert "Start a leave" in page and "Record the return from leave" not in page and "Rehire" not in page
    wrong = client.get(f"/people/{org.employee.id}/lifecycle/return", follow_redirects=True)
    assert "does not apply" in wrong.get_data(as_text=True)


def test_manager_change_and_leave_from_the_lifecycle_pages(client, login, org, journeys):
    from touchpoints.journeys.enrolment import active_journey

    enrol(org.employee, active_journey("development"), actor_id=None)
    db.session.commit()
    new_manager = make_manager("Nia New")
    login(org.hr)
    unknown = client.post(f"/people/{org.employee.id}/lifecycle/manager_change",
                          data={"manager_email": "nobody@example.com"})
    assert unknown.status_code == 400 and "No one has this work email." in unknown.get_data(as_text=True)
    changed = client.post(f"/people/{org.employee.id}/lifecycle/manager_change",
                          data={"manager_email": new_manager.email}, follow_redirects=True)
    assert "open touchpoints handed to the new manager" in changed.get_data(as_text=True)
    owners = set(db.session.scalars(select(Touchpoint.owner_id).where(
        Touchpoint.status.in_(OPEN_STATUSES), Touchpoint.owner_role == "manager")))
    assert owners == {new_manager.id}
    leave = client.post(f"/people/{org.employee.id}/lifecycle/leave",
                        data={"effective_on": date.today().isoformat(),
                              "expected_return": (date.today() + timedelta(days=60)).isoformat()},
                        follow_redirects=True)
    back = date.today() + timedelta(days=60)
    assert f"recurring touchpoints paused until the expected return on {back.day} {back:%b %Y}." \
        in leave.get_data(as_text=True)
    db.session.expire_all()
    assert org.employee.status is LifecycleStatus.ON_LEAVE


def test_the_journey_map_shows_stages_in_time_order_with_figures(client, login, org, probation):
    people = newcomers(org, 2)
    for person in people:
        enrol(person, probation, actor_id=None)
    db.session.commit()
    kickoff, other = db.session.scalars(select(Touchpoint).where(Touchpoint.title == "Kick-off")
                                        .order_by(Touchpoint.id)).all()
    kickoff.due_at = utcnow() - timedelta(days=2)
    log_touchpoint(kickoff, actual_mode=Mode.IN_PERSON, actor=user_of(org.manager))
    other.due_at = utcnow() - timedelta(days=1)  # overdue
    db.session.commit()
    login(org.hr)
    page = client.get(f"/journeys/map?journey={probation.id}").get_data(as_text=True)
    first, second = page.index("First week"), page.index("Month two")
    assert first < page.index("Kick-off") < second < page.index("Midpoint review")
    stage_one = page[first:second]
    assert "<dt>Completion</dt><dd>50%</dd>" in stage_one.replace("\n", "")
    assert "<dt>Human touchpoints</dt><dd>100%</dd>" in stage_one.replace("\n", "")
    assert '<span class="badge badge--warn">1</span>' in stage_one
    assert "Planned human-touch mix: 1 in person, 0 live, remote, 0 asynchronous, 0 automated" in stage_one
    stage_two = page[second:]
    assert "Planned human-touch mix: 0 in person, 1 live, remote, 0 asynchronous, 1 automated" in stage_two
    assert "<dt>Human touchpoints</dt><dd>50%</dd>" in stage_two.replace("\n", "")


def test_journey_map_queries_do_not_grow_with_the_company(client, login, org, probation):
    def grow(count: int, start: int) -> None:
        start_date = date.today() + timedelta(days=10)
        for n in range(count):
            person = make_employee(f"Joiner {start + n}", manager=org.manager, team=org.team,
                                   start_date=start_date, status=LifecycleStatus.PRE_BOARDING)
            enrol(person, probation, actor_id=None)
        db.session.commit()

    grow(10, 0)
    login(org.hr)
    with count_queries() as small:
        assert client.get(f"/journeys/map?journey={probation.id}").status_code == 200
    grow(90, 100)
    with count_queries() as large:
        response = client.get(f"/journeys/map?journey={probation.id}")
    assert response.status_code == 200 and "100 people on the journey now" in response.get_data(as_text=True)
    assert small.count == large.count, large.report()
    assert large.count <= 15, large.report()


def test_list_and_detail_queries_do_not_grow_with_enrolments(client, login, org, probation):
    login(org.hr)
    counts = []
    for size in (10, 100):
        start = date.today() + timedelta(days=10)
        for n in range(size - len(counts) * 10):
            person = make_employee(f"Member {size}-{n}", start_date=start,
                                   status=LifecycleStatus.PRE_BOARDING)
            enrol(person, probation, actor_id=None)
        db.session.commit()
        with count_queries() as queries:
            assert client.get("/journeys/").status_code == 200
            assert client.get(f"/journeys/{probation.id}").status_code == 200
        counts.append(queries.count)
    assert counts[0] == counts[1]
