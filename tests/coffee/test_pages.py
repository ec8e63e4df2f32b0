"""Coffee pages and API: one's own opt-in and pairs, HR's programme and rounds, the connections overview."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import func, select

from tests.api.conftest import ApiClient
from tests.factories import make_employee, make_hr, make_manager, make_team
from tests.querycount import count_queries
from tests.surveys.helpers import answer, close, open_round, pulse_survey, team_of
from touchpoints.api.services import issue_token, user_for_email
from touchpoints.coffee import services
from touchpoints.coffee.models import CoffeeParticipant, CoffeeRound
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.models import (
    Mode,
    OwnerRole,
    SupportAssignment,
    SupportKind,
    Touchpoint,
    TouchpointKind,
    TouchpointStatus,
)

TODAY = utcnow().date()


def api_for(client, employee) -> ApiClient:
    issued = issue_token(user_for_email(employee.email), "Test", created_by=None)
    db.session.commit()
    return ApiClient(client, issued.raw)


def opt_in_all(people) -> None:
    for person in people:
        services.save_participation(person, taking_part=True, frequency_weeks=1, actor=None)
    db.session.commit()


def paired_round(count: int = 2):
    teams = make_team("Alpha"), make_team("Beta")
    people = [make_employee(f"Member {i}", team=teams[i % 2]) for i in range(count)]
    opt_in_all(people)
    made = services.run_round(TODAY, seed=3)
    db.session.commit()
    return made, people


def test_an_employee_opts_in_from_their_preferences_page(client, login):
    me = make_employee("Ola Opt")
    login(me)
    page = client.get("/people/me/preferences").get_data(as_text=True)
    assert "You are not taking part." in page and 'href="/coffee"' in page
    response = client.post("/coffee", data={"taking_part": "yes", "frequency_weeks": "4", "paused_until": ""})
    assert response.status_code == 302
    participant = db.session.get(CoffeeParticipant, me.id)
    assert participant.active and participant.frequency_weeks == 4
    assert "You are taking part: every 4 weeks." in client.get("/people/me/preferences").get_data(
        as_text=True
    )


def test_a_wrong_choice_is_named_and_what_was_typed_is_kept(client, login):
    me = make_employee("Ola Typo")
    login(me)
    past = (TODAY - timedelta(days=3)).isoformat()
    response = client.post(
        "/coffee", data={"taking_part": "yes", "frequency_weeks": "2", "paused_until": past}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Choose a date after today" in page and f'value="{past}"' in page
    assert db.session.get(CoffeeParticipant, me.id) is None


def test_one_leaves_and_is_no_longer_due(client, login):
    me = make_employee("Lea Leave")
    opt_in_all([me])
    login(me)
    client.post("/coffee", data={"taking_part": "no", "frequency_weeks": "2"})
    db.session.expire_all()
    assert not db.session.get(CoffeeParticipant, me.id).active
    assert me.id not in services.plan_round(TODAY, seed=1).participants


def test_an_employee_sees_their_pair_and_logs_or_skips_only_their_own(client, login):
    _made, (a, b) = paired_round()
    login(a)
    page = client.get("/coffee").get_data(as_text=True)
    assert "Member 1 (Beta)" in page and "We met" in page and "Skip this one" in page
    theirs = db.session.scalar(select(Touchpoint.id).where(Touchpoint.employee_id == b.id))
    assert client.post(f"/coffee/chats/{theirs}/skip").status_code == 404
    mine = db.session.scalar(select(Touchpoint.id).where(Touchpoint.employee_id == a.id))
    assert client.post(f"/coffee/chats/{mine}/skip").status_code == 302
    assert db.session.get(Touchpoint, mine).status is TouchpointStatus.CANCELLED
    page = client.get("/coffee").get_data(as_text=True)
    assert "Skipped" in page
    # The partner's chat still stands: skipping is one's own choice.
    assert db.session.get(Touchpoint, theirs).status is TouchpointStatus.PLANNED


def test_the_existing_log_flow_logs_a_coffee_chat(client, login):
    _made, (a, _b) = paired_round()
    login(a)
    mine = db.session.scalar(select(Touchpoint.id).where(Touchpoint.employee_id == a.id))
    now = utcnow().strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        f"/touchpoints/{mine}/log?next=/coffee", data={"actual_mode": "video", "happened_at": now, "note": ""}
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/coffee")
    assert db.session.get(Touchpoint, mine).status is TouchpointStatus.DONE
    assert "Held" in client.get("/coffee").get_data(as_text=True)


def test_hr_only_pages_refuse_employees_and_managers(client, login):
    made, _ = paired_round()
    for person in (make_employee("Plain"), make_manager("Mona Manager")):
        login(person)
        for url in ("/coffee/programme", f"/coffee/rounds/{made.id}", "/connections"):
            assert client.get(url).status_code == 403, url
        client.post("/logout")


def test_hr_previews_then_runs_a_round_once(client, login):
    people = [make_employee(f"P{i}", team=make_team()) for i in range(5)]
    opt_in_all(people)
    login(make_hr())
    day = TODAY.isoformat()
    preview = client.post(
        "/coffee/programme",
        data={"run-round_on": day, "run-seed": "42", "run-submit": "preview"},
    )
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "nothing written" in page and "Run this round (seed 42)" in page
    assert db.session.scalar(select(func.count()).select_from(CoffeeRound)) == 0
    response = client.post(
        "/coffee/programme", data={"run-round_on": day, "run-seed": "42", "run-submit": "run"}
    )
    assert response.status_code == 302
    made = db.session.scalar(select(CoffeeRound))
    assert (made.seed, made.pairs, made.trios) == (42, 1, 1)
    again = client.post(
        "/coffee/programme", data={"run-round_on": day, "run-seed": "42", "run-submit": "run"}
    )
    refused = again.get_data(as_text=True)
    assert "already ran" in refused
    listing = client.get("/coffee/programme").get_data(as_text=True)
    # Beside a refused round the settings form shows what is saved, not empty boxes to save by mistake.
    settings_boxes = re.compile(r'<input[^>]*name="programme-(?:enabled|frequencies)"[^>]*>')
    assert settings_boxes.findall(refused) == settings_boxes.findall(listing)
    assert any("checked" in box for box in settings_boxes.findall(listing))
    assert f"/coffee/rounds/{made.id}" in listing
    assert "groups of three" in client.get(f"/coffee/rounds/{made.id}").get_data(as_text=True)


def test_hr_changes_the_settings_with_errors_named(client, login):
    login(make_hr())
    response = client.post(
        "/coffee/programme",
        data={
            "programme-enabled": "y",
            "programme-round_weekday": "3",
            "programme-repeat_window_days": "5",
            "programme-min_overlap_minutes": "60",
            "programme-frequencies": ["1", "2"],
            "programme-submit": "1",
        },
    )
    page = response.get_data(as_text=True)
    assert "Give between 14 and 730 days." in page and 'value="5"' in page
    response = client.post(
        "/coffee/programme",
        data={
            "programme-enabled": "y",
            "programme-round_weekday": "3",
            "programme-repeat_window_days": "120",
            "programme-min_overlap_minutes": "90",
            "programme-frequencies": ["1", "2"],
            "programme-submit": "1",
        },
    )
    assert response.status_code == 302
    settings = services.programme()
    assert (settings.round_weekday, settings.repeat_window_days, settings.frequency_options) == (
        3,
        120,
        (1, 2),
    )


def test_round_detail_shows_who_is_unpaired_and_why(client, login):
    team = make_team("Solo")
    london = make_employee("Lon Don", team=team)
    kiwi = make_employee("Kiri Auckland", team=make_team("Kiwi"), timezone="Pacific/Auckland")
    opt_in_all([london, kiwi])
    made = services.run_round(TODAY, seed=1)
    db.session.commit()
    login(make_hr())
    page = client.get(f"/coffee/rounds/{made.id}").get_data(as_text=True)
    assert "Kiri Auckland" in page and "overlap" in page


def _held(person, kind: TouchpointKind, mode: Mode, days_ago: int, owner=None) -> None:
    when = utcnow() - timedelta(days=days_ago)
    db.session.add(
        Touchpoint(
            employee_id=person.id,
            owner_id=(owner or person).id,
            owner_role=OwnerRole.BUDDY,
            kind=kind,
            title=kind.label,
            planned_mode=mode,
            actual_mode=mode,
            due_at=when,
            happened_at=when,
            status=TouchpointStatus.DONE,
        )
    )


def test_connections_are_aggregated_with_the_pulse_only_above_the_threshold(client, login):
    survey = pulse_survey()
    _warm_team, warm = team_of("Warm", 6)
    _, cold = team_of("Cold", 6)
    # Two teams too small to show; together (six) they protect each other, as the surveys' rules want.
    tiny = team_of("Tiny", 4)[1] + team_of("Tinier", 2)[1]
    for person in warm[:3]:
        _held(person, TouchpointKind.COFFEE_CHAT, Mode.VIDEO, 3)
    _held(cold[0], TouchpointKind.MENTORING, Mode.CHAT, 3)  # not a human mode: does not count
    _held(cold[1], TouchpointKind.ONE_ON_ONE, Mode.IN_PERSON, 3)  # work: does not count
    _held(cold[2], TouchpointKind.BUDDY_INTRO, Mode.IN_PERSON, 45)  # too long ago
    db.session.add(
        SupportAssignment(
            employee_id=warm[0].id, partner_id=cold[0].id, kind=SupportKind.BUDDY, started_on=TODAY
        )
    )
    db.session.add(
        SupportAssignment(
            employee_id=warm[1].id, partner_id=warm[2].id, kind=SupportKind.MENTOR, started_on=TODAY
        )
    )
    db.session.commit()
    round_ = open_round(survey)
    answer(round_, warm, score=5)
    answer(round_, cold, score=2)
    answer(round_, tiny, score=1)
    close(round_)
    login(make_hr())
    page = client.get("/connections").get_data(as_text=True)
    assert "Cross-team connections per month" in page
    assert f"{TODAY:%b %Y}" in page
    from touchpoints.coffee.connections import connections_overview

    data = connections_overview()
    teams = {t.name: t for t in data.teams}
    assert (teams["Warm"].connected, teams["Warm"].members) == (3, 6)
    assert teams["Cold"].connected == 0
    assert teams["Warm"].pulse == 5.0 and teams["Cold"].pulse == 2.0
    assert teams["Tiny"].pulse is None  # below the anonymity threshold: never shown
    assert data.months[-1].support == 1  # only the buddy across teams
    assert "Alice" not in page and warm[0].full_name not in page  # aggregated: no one's name


def test_the_connections_page_has_a_fixed_number_of_queries(client, login):
    login(make_hr())
    client.get("/connections")
    with count_queries() as small:
        client.get("/connections")
    for i in range(30):
        team = make_team(f"Extra {i}")
        person = make_employee(f"Extra person {i}", team=team)
        _held(person, TouchpointKind.COFFEE_CHAT, Mode.VIDEO, 2)
    db.session.commit()
    paired_round(6)
    with count_queries() as large:
        client.get("/connections")
    assert large.count == small.count, large.report()


def test_the_coffee_page_has_a_fixed_number_of_queries(client, login):
    _made, (a, _b) = paired_round()
    login(a)
    client.get("/coffee")
    with count_queries() as one:
        client.get("/coffee")
    for day in (7, 14, 21):
        c = make_employee(f"Later {day}", team=make_team())
        opt_in_all([c])
        services.run_round(TODAY + timedelta(days=day), seed=day)
        db.session.commit()
    with count_queries() as more:
        client.get("/coffee")
    assert more.count == one.count, more.report()


# ---------------------------------------------------------------- API


def test_api_reads_and_changes_my_opt_in(client):
    me = make_employee("Api Person")
    api = api_for(client, me)
    assert api.get("/api/v1/me/coffee").get_json()["data"]["taking_part"] is False
    response = client.put(
        "/api/v1/me/coffee", json={"taking_part": True, "frequency_weeks": 2}, headers=api.headers
    )
    assert response.status_code == 200 and response.get_json()["data"]["frequency_weeks"] == 2
    bad = client.put(
        "/api/v1/me/coffee", json={"taking_part": True, "frequency_weeks": 3}, headers=api.headers
    )
    assert bad.status_code == 422 and "frequency_weeks" in bad.get_json()["error"]["fields"]
    bad = client.put("/api/v1/me/coffee", json={"frequency_weeks": 1}, headers=api.headers)
    assert bad.status_code == 422 and "taking_part" in bad.get_json()["error"]["fields"]
    response = client.put("/api/v1/me/coffee", json={"taking_part": False}, headers=api.headers)
    assert response.get_json()["data"]["taking_part"] is False


def test_api_my_pairs_are_my_own(client):
    _made, (a, _b) = paired_round()
    pairs = api_for(client, a).get("/api/v1/me/coffee/pairs").get_json()["data"]
    assert len(pairs) == 1 and pairs[0]["with"] == [{"full_name": "Member 1", "team": "Beta"}]
    assert pairs[0]["outcome"] == "coming_up" and pairs[0]["cross_team"] is True
    outsider = make_employee("Outsider")
    assert api_for(client, outsider).get("/api/v1/me/coffee/pairs").get_json()["data"] == []


def test_api_rounds_are_for_hr_only(client):
    made, (a, _b, _c) = paired_round(3)
    assert api_for(client, a).get("/api/v1/coffee/rounds").status_code == 403
    assert api_for(client, a).get(f"/api/v1/coffee/rounds/{made.id}").status_code == 403
    hr = api_for(client, make_hr())
    listing = hr.get("/api/v1/coffee/rounds").get_json()
    assert listing["meta"]["total"] == 1 and listing["data"][0]["groups_of_three"] == 1
    detail = hr.get(f"/api/v1/coffee/rounds/{made.id}").get_json()["data"]
    assert detail["participants"] == 3 and detail["outcomes"]["open"] == 3
    assert hr.get("/api/v1/coffee/rounds/999999").status_code == 404


def test_round_dates_are_kept_apart(app):
    # Two different dates are two rounds; the unique date is what makes a round run once.
    paired_round()
    services.run_round(TODAY + timedelta(days=1), seed=1)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(CoffeeRound)) == 2
    assert isinstance(services.round_for(TODAY).round_on, date)


def test_once_todays_round_has_run_the_pages_name_next_weeks_round(client, login):
    settings = services.programme()
    settings.round_weekday = TODAY.isoweekday()  # today is round day
    hr = make_hr("Rhea Rounds")
    opt_in_all([hr])
    today_words = f"{TODAY:%A} {TODAY.day} {TODAY:%B}"
    week_on = TODAY + timedelta(days=7)
    next_week_words = f"{week_on:%A} {week_on.day} {week_on:%B}"
    login(hr)
    assert f"The next round is on {today_words}." in client.get("/coffee").get_data(as_text=True)
    services.run_round(TODAY, seed=1)
    db.session.commit()
    mine = client.get("/coffee").get_data(as_text=True)
    assert f"The next round is on {next_week_words}." in mine and today_words not in mine
    programme = client.get("/coffee/programme").get_data(as_text=True)
    assert re.search(rf'stat__value">{week_on.day} {week_on:%b}</span> <span class="stat__label">next round',
                     programme)
