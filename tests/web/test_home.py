"""The home pages: what each role needs today, switching views, the one-click log, empty states."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from html import unescape

from tests.factories import make_employee, make_manager
from tests.web.conftest import place
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.models import (
    AgendaItem,
    Confirmation,
    Mode,
    SupportAssignment,
    SupportKind,
    Touchpoint,
    TouchpointKind,
    TouchpointStatus,
)
from touchpoints.nudges.models import DeliveryChannel, Nudge, NudgeKind, NudgeStatus
from touchpoints.policies.compliance import COMPANY, week_start
from touchpoints.policies.models import ComplianceSnapshot, Policy
from touchpoints.surveys.models import Survey, SurveyInvitation, SurveyParticipation, SurveyRound


def text_of(response) -> str:
    """The page as a person reads it: tags gone, whitespace folded."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def form_for(html: str, action: str) -> dict[str, str]:
    """The hidden fields of the form posting to `action` (the one-click log)."""
    pattern = r'<form method="post" action="' + re.escape(action) + r'"[^>]*>(.*?)</form>'
    match = re.search(pattern, html, re.S)
    assert match, f"no form posting to {action}"
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', match.group(1)))


def nudge(recipient, status: NudgeStatus, *, kind: NudgeKind = NudgeKind.REMINDER, touchpoint=None,
          error: str = "") -> Nudge:
    row = Nudge(dedup_key=f"{kind}:{status}:{recipient.id}:{touchpoint.id if touchpoint else 0}", kind=kind,
                recipient_id=recipient.id, touchpoint_id=touchpoint.id if touchpoint else None,
                channel=DeliveryChannel.SLACK, status=status, payload={}, next_attempt_at=utcnow(),
                last_error=error)
    db.session.add(row)
    db.session.commit()
    return row


def open_round(*, invited: list, answered: list, title: str = "Connection pulse") -> SurveyRound:
    now = utcnow()
    survey = Survey(title=title)
    round_ = SurveyRound(survey=survey, sequence=3, status="open", opens_at=now - timedelta(days=1),
                         closes_at=now + timedelta(days=4), invited_count=len(invited))
    db.session.add_all([survey, round_])
    db.session.flush()
    for person in invited:
        db.session.add(SurveyInvitation(round_id=round_.id, employee_id=person.id))
    for person in answered:
        db.session.add(SurveyParticipation(round_id=round_.id, employee_id=person.id,
                                           responded_on=date.today()))
    db.session.commit()
    return round_


# ---------------------------------------------------------------- which view


def test_each_role_lands_on_its_broadest_home(company, client, login):
    login(company.hr)
    assert "Human-touch compliance" in text_of(client.get("/"))
    client.post("/logout")
    login(company.manager)
    page = text_of(client.get("/"))
    assert "This week" in page and "Days since a real conversation" in page
    client.post("/logout")
    login(company.employee)
    page = text_of(client.get("/"))
    assert "Your next touchpoints" in page and "Human-touch compliance" not in page
    assert "Manager view" not in page  # one role, no switch


def test_a_person_with_several_roles_switches_view_without_signing_in_again(company, client, login):
    login(company.hr)
    page = text_of(client.get("/"))
    assert "HR view Manager view My view" in page
    assert client.post("/home/view", data={"view": "manager"}).status_code == 302
    assert "Your team's human-touch index" in text_of(client.get("/"))
    # Remembered for the session: the next visit shows the same view.
    assert "Your team's human-touch index" in text_of(client.get("/"))
    client.post("/home/view", data={"view": "me"})
    assert "Your next touchpoints" in text_of(client.get("/"))
    # A bookmarked ?view= is remembered too.
    client.get("/?view=hr")
    assert "Human-touch compliance" in text_of(client.get("/"))


def test_a_view_outside_ones_roles_is_refused(company, client, login):
    login(company.employee)
    assert client.post("/home/view", data={"view": "hr"}).status_code == 403
    assert client.post("/home/view", data={"view": "nonsense"}).status_code == 400
    # Asked for in the address, it quietly shows the person's own view instead.
    page = text_of(client.get("/?view=hr"))
    assert "Your next touchpoints" in page and "Human-touch compliance" not in page


def test_the_switch_marks_the_current_view_for_screen_readers(company, client, login):
    login(company.hr)
    html = client.get("/?view=manager").get_data(as_text=True)
    assert re.search(r'value="manager" class="view-switch__option" aria-pressed="true"', html)
    assert re.search(r'value="hr" class="view-switch__option" aria-pressed="false"', html)


# ---------------------------------------------------------------- HR partner


def test_hr_sees_overdue_and_escalated_touchpoints_longest_first(company, client, login):
    old = place(company.employee, company.manager, days=-12, title="Quarterly check-in")
    recent = place(company.colleague, company.manager, days=-2, title="Weekly one-on-one")
    place(company.colleague, company.manager, days=3)  # not due yet
    place(company.colleague, company.manager, days=-5, happened=True)  # done
    nudge(company.hr, NudgeStatus.SENT, kind=NudgeKind.ESCALATION, touchpoint=old)
    login(company.hr)
    page = text_of(client.get("/?view=hr"))
    assert "2 touchpoints overdue 1 escalated, 1 of them to you" in page
    section = page[page.index("Overdue touchpoints"):page.index("Nudges that need a decision")]
    assert section.index("Eli Employee: Quarterly check-in") < \
        section.index("Cleo Colleague: Weekly one-on-one")
    assert "Escalated 12 days overdue" in section and "2 days overdue" in section
    assert recent.id


def test_hr_sees_nudges_that_failed_without_sensitive_content(company, client, login):
    review = place(company.employee, company.manager, days=2, kind=TouchpointKind.GRIEVANCE_MEETING,
                   title="Grievance about Cleo")
    nudge(company.manager, NudgeStatus.DEAD, touchpoint=review, error="users_not_found")
    nudge(company.colleague, NudgeStatus.FAILED, kind=NudgeKind.SURVEY_INVITATION, error="HTTP 503")
    nudge(company.employee, NudgeStatus.SENT)
    login(company.hr)
    page = text_of(client.get("/?view=hr"))
    assert "2 nudges need a decision" in page
    section = page[page.index("Nudges that need a decision"):page.index("Starting and leaving")]
    assert "1 dead" in section and "1 failed, will retry" in section
    assert "A private conversation with Eli Employee" in section and "Grievance about Cleo" not in section
    assert "users_not_found" in section and "To Mia Manager by Slack" in section


def test_hr_sees_who_starts_and_leaves_this_week_and_what_is_missing(company, client, login):
    later = make_employee("Lou Later", manager=company.manager, team=company.team, status="pre_boarding",
                          start_date=date.today() + timedelta(days=20))
    login(company.hr)
    page = text_of(client.get("/?view=hr"))
    section = page[page.index("Starting and leaving this week"):page.index("Survey rounds")]
    assert "Nia Newcomer" in section and "No journey" in section and "No buddy yet" in section
    assert "Leo Leaver" in section and "No offboarding journey" in section
    assert later.full_name not in section
    db.session.add(SupportAssignment(employee_id=company.newcomer.id, kind=SupportKind.BUDDY,
                                     partner_id=company.colleague.id, started_on=date.today()))
    db.session.commit()
    section = text_of(client.get("/?view=hr"))
    assert "Buddy: Cleo Colleague" in section


def test_hr_sees_open_survey_rounds_with_how_many_answered(company, client, login):
    open_round(invited=[company.employee, company.colleague, company.manager, company.hr],
               answered=[company.employee])
    login(company.hr)
    page = text_of(client.get("/?view=hr"))
    assert "1 survey round open" in page
    assert "Connection pulse, round 3 Open until" in page and "1 of 4 (25%)" in page


def test_hr_sees_compliance_from_the_latest_snapshot_with_the_change_and_worst_policies(company, client,
                                                                                         login):
    policy = Policy(key="max-gap", name="A one-on-one at least every 30 days")
    db.session.add(policy)
    db.session.flush()
    this_week = week_start(utcnow().date())
    taken = datetime.combine(this_week, datetime.min.time(), tzinfo=UTC) + timedelta(hours=7)
    db.session.add_all([
        ComplianceSnapshot(week_start=this_week - timedelta(weeks=1), subject=COMPANY, violations=6, people=5,
                           taken_at=taken - timedelta(weeks=1)),
        ComplianceSnapshot(week_start=this_week, subject=COMPANY, violations=4, people=3, taken_at=taken),
        ComplianceSnapshot(week_start=this_week, subject=f"policy:{policy.id}", policy_id=policy.id,
                           violations=4, people=3, taken_at=taken),
    ])
    db.session.commit()
    login(company.hr)
    page = text_of(client.get("/?view=hr"))
    assert "3 people out of compliance with a human-touch policy, 2 fewer than the week before" in page
    assert "A one-on-one at least every 30 days 3 4" in page
    html = client.get("/?view=hr").get_data(as_text=True)
    # The trend chart says its figures in words too.
    assert re.search(r"<desc[^>]*>People out of compliance, by week: week of .*?, 5; week of .*?, 3\.", html)


def test_hr_home_empty_states_say_what_to_do_next(company, client, login):
    login(company.hr)
    page = text_of(client.get("/?view=hr"))
    assert "No compliance figures yet" in page and "Review the policies" in page
    assert "Nothing overdue" in page
    assert "Every nudge got through" in page
    assert "No survey round open" in page and "Plan a round" in page


# ---------------------------------------------------------------- manager


def test_manager_sees_the_week_overdue_and_each_reports_last_conversation(company, client, login):
    place(company.employee, company.manager, days=2, title="Weekly one-on-one")
    place(company.colleague, company.manager, days=-4, title="Check-in on the move")
    place(company.employee, company.manager, days=-30, happened=True)
    place(company.colleague, company.manager, days=-3, happened=True, mode=Mode.EMAIL)  # not human
    place(company.employee, company.hr, days=20, title="Review next month")  # beyond the week
    login(company.manager)
    page = text_of(client.get("/"))
    week = page[page.index("This week"):page.index("Overdue 1")]
    assert "Eli Employee: Weekly one-on-one" in week and "Review next month" not in week
    overdue = page[page.index("Overdue 1"):page.index("Days since a real conversation")]
    assert "Cleo Colleague: Check-in on the move" in overdue
    contact = page[page.index("Days since a real conversation"):]
    assert re.search(r"Cleo Colleague Never", contact)
    assert re.search(r"Eli Employee 30\b", contact)


def test_the_team_human_touch_index_counts_everyone_below_the_manager(company, client, login):
    place(company.employee, company.manager, days=-10, happened=True)  # in person, one-on-one
    place(company.colleague, company.manager, days=-10, happened=True, mode=Mode.EMAIL,
          kind=TouchpointKind.CHECK_IN)
    place(company.colleague, company.hr, days=-10, happened=True, kind=TouchpointKind.GRIEVANCE_MEETING)
    login(company.manager)
    page = text_of(client.get("/"))
    # Human share 1 of 2 (the grievance meeting stays out), one-on-one share 1 of 3 working reports.
    assert "50% of 2 touchpoints done in the last 90 days" in page
    assert "1 of 3 people in the last 30 days" in page
    assert "42 out of 100" in page


def test_one_click_logs_the_managers_conversation_as_planned(company, client, login):
    tp = place(company.employee, company.manager, days=-1, title="Weekly one-on-one", mode=Mode.VIDEO)
    theirs = place(company.colleague, company.hr, days=1, title="Coffee with HR")
    login(company.manager)
    html = client.get("/").get_data(as_text=True)
    assert f'action="/touchpoints/{theirs.id}/log"' not in html  # others' moments only open
    fields = form_for(html, f"/touchpoints/{tp.id}/log")
    assert fields["actual_mode"] == "video" and fields["next"] == "/"
    response = client.post(f"/touchpoints/{tp.id}/log", data=fields)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    db.session.expire_all()
    logged = db.session.get(Touchpoint, tp.id)
    assert logged.status is TouchpointStatus.DONE and logged.actual_mode is Mode.VIDEO
    assert abs(logged.happened_at - tp.due_at) < timedelta(minutes=1)
    assert logged.confirmation is Confirmation.PENDING
    assert "Logged: Weekly one-on-one, video call." in text_of(client.get("/"))


def test_manager_without_reports_gets_empty_states_that_help(app, client, login):
    lonely = make_manager("Lone Manager")
    login(lonely)
    page = text_of(client.get("/"))
    assert "Nothing planned for the next seven days" in page
    assert "No direct reports yet" in page
    assert "No touchpoints logged in the last 90 days yet" in page


# ---------------------------------------------------------------- employee


def test_employee_sees_what_needs_them_next_touchpoints_agendas_surveys_and_preferences(company, client,
                                                                                        login):
    next_one = place(company.employee, company.manager, days=2, title="Weekly one-on-one")
    place(company.employee, company.manager, days=9, title="Growth talk",
          kind=TouchpointKind.GROWTH_CONVERSATION)
    db.session.add(AgendaItem(touchpoint_id=next_one.id, author_id=company.manager.id,
                              text="Your conference talk"))
    logged = place(company.employee, company.manager, days=-1, title="Last week's one-on-one", happened=True)
    logged.confirmation = Confirmation.PENDING
    place(company.colleague, company.manager, days=1, title="Someone else's meeting")
    db.session.commit()
    open_round(invited=[company.employee], answered=[])
    login(company.employee)
    page = text_of(client.get("/"))
    asks = page[page.index("Needs you"):page.index("Your next touchpoints")]
    assert "Answer “Connection pulse”" in asks
    assert "Did “Last week's one-on-one” take place? Mia Manager logged it" in asks
    upcoming = page[page.index("Your next touchpoints"):page.index("Pulse surveys")]
    assert upcoming.index("Weekly one-on-one") < upcoming.index("Growth talk")
    assert "Your conference talk — Mia Manager" in upcoming and "Add a talking point" in upcoming
    assert "Someone else's meeting" not in page
    prefs = page[page.index("Your preferences"):]
    assert "Time zone Europe/London" in prefs and "Reminders on In the app" in prefs
    assert "What Touchpoints holds about you" in prefs


def test_employee_empty_states(company, client, login):
    login(company.employee)
    page = text_of(client.get("/"))
    assert "Nothing waits for you" in page
    assert "Nothing planned yet" in page and "See your journey" in page
    assert "No survey waiting for you" in page


def test_hr_overdue_list_pages_through_every_overdue_touchpoint(company, client, login):
    for n in range(3):
        place(company.employee, company.manager, days=-(n + 1), title=f"Late {n}")
    login(company.hr)
    page = text_of(client.get("/overdue"))
    assert "3 overdue touchpoints" in page
    assert page.index("Late 2") < page.index("Late 1") < page.index("Late 0")
    login_as_manager = client.post("/logout")
    assert login_as_manager.status_code == 302
    login(company.manager)
    assert client.get("/overdue").status_code == 403


def test_home_redirects_to_sign_in_when_signed_out(client):
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_hr_and_managers_see_their_own_surveys_in_one_line(company, client, login):
    round_ = open_round(invited=[company.hr, company.manager], answered=[company.manager])
    login(company.hr)
    page = text_of(client.get("/?view=hr"))
    assert "For you Pulse survey “Connection pulse”, anonymous, two minutes" in page
    assert f'href="/surveys/rounds/{round_.id}/answer"' in client.get("/?view=manager").get_data(as_text=True)
    client.post("/logout")
    login(company.manager)
    assert "For you" not in text_of(client.get("/"))  # answered already


def test_hr_is_told_how_many_departed_people_still_have_personal_data_held(company, client, login):
    company.leaver.status, company.leaver.deactivated_at = "alumni", datetime.now(UTC)
    db.session.commit()
    login(company.hr)
    page = text_of(client.get("/?view=hr"))
    assert "Touchpoints still holds the personal data of 1 person who has left." in page
    assert 'href="/privacy/people"' in client.get("/?view=hr").get_data(as_text=True)


def test_the_employees_home_lists_what_their_timeline_lists(company):
    from touchpoints.home.today import employee_today
    from touchpoints.journeys.insights import employee_timeline

    for days in (-6, -2, 1, 2, 4, 8, 12, 20):
        place(company.employee, company.manager, days=days)
        place(company.employee, company.employee, days=days, kind=TouchpointKind.TRAINING_MODULE,
              mode=Mode.SELF_SERVE)
    done = place(company.employee, company.manager, days=-4, happened=True)
    done.confirmation = Confirmation.PENDING
    db.session.commit()
    user = company.user(company.employee)
    today, timeline = employee_today(user), employee_timeline(company.employee, viewer=user)
    assert [t.id for t in today.next] == [t.id for t in timeline.upcoming[:5]]
    assert {t.id for t in today.to_confirm} == {t.id for t in timeline.awaiting_confirmation}
    assert [t.id for t in today.overdue_for_me] == \
        sorted((t.id for t in timeline.overdue if t.owner_role.value == "employee"),
               key=lambda i: db.session.get(Touchpoint, i).due_at)
