"""Policies pages: HR edits, reads the dry run, activates; managers see their people; grievances stay HR's."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import make_employee, make_hr
from tests.policies.conftest import MONTHLY_ONE_ON_ONE, NOW, REVIEWS_IN_PERSON, policy, touch
from tests.querycount import count_queries
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.models import Mode, OwnerRole, TouchpointKind
from touchpoints.policies import services
from touchpoints.policies.compliance import record_compliance_snapshot
from touchpoints.policies.models import ComplianceSnapshot, VersionStatus


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.mark.parametrize("who", ["manager", "employee"])
def test_managers_and_employees_cannot_see_or_edit_policies(org, client, login, who):
    version = policy(MONTHLY_ONE_ON_ONE)
    login(getattr(org, who))
    for url in ("/policies", "/policies/new", f"/policies/{version.policy_id}",
                f"/policies/{version.policy_id}/edit", f"/policies/{version.policy_id}/dry-run",
                "/policies/export", "/compliance/overrides"):
        assert client.get(url).status_code == 403, url
    for url in (f"/policies/{version.policy_id}/edit", f"/policies/{version.policy_id}/activate",
                f"/policies/{version.policy_id}/switch-off", "/policies/new"):
        response = client.post(url, data={"name": "Mine now", "rule": "maximum_gap", "days": 1})
        assert response.status_code == 403
    assert services.active_version(version.policy).params == {"days": 30}
    assert client.get("/compliance").status_code == (200 if who == "manager" else 403)


def test_hr_creates_a_policy_reads_its_dry_run_and_activates_it(org, client, login):
    touch(org.employee, at=utcnow() - timedelta(days=20))
    touch(org.colleague, at=utcnow() - timedelta(days=3))
    db.session.commit()
    login(org.hr)
    assert "Maximum gap between human touchpoints" in text(client.get("/policies/new"))
    form = client.get("/policies/new?rule=maximum_gap")
    assert 'name="days"' in text(form) and 'name="modes"' not in text(form)
    bad = client.post("/policies/new", data={"rule": "maximum_gap", "key": "gap", "name": "Gap",
                                             "severity": "block", "days": "0", "kinds": ["one_on_one"]})
    assert bad.status_code == 400 and "Number must be between 1 and 3660." in text(bad)
    assert 'value="Gap"' in text(bad)  # what was typed stays
    made = client.post("/policies/new", data={"rule": "maximum_gap", "key": "gap", "name": "Fortnightly",
                                              "severity": "block", "days": "14", "kinds": ["one_on_one"],
                                              "stages": ["active"], "teams": ["Platform"]})
    assert made.status_code == 302 and made.headers["Location"].endswith("/dry-run")
    dry = text(client.get(made.headers["Location"]))
    # Platform: the manager (no one-on-one) and Eli (20 days ago); Cleo met three days ago.
    assert "This would put <strong>2</strong> employees out of compliance" in dry
    assert org.employee.full_name in dry and org.colleague.full_name not in dry
    item = services.policy_by_key("gap")
    assert services.draft_version(item) is not None and services.active_version(item) is None
    activated = client.post(f"/policies/{item.id}/activate", data={"version": "1"})
    assert activated.status_code == 302
    db.session.expire_all()
    assert services.active_version(services.policy_by_key("gap")).number == 1
    page = text(client.get(f"/policies/{item.id}"))
    assert "2</strong> people of 3 in scope" in page and "Activated v1 of Fortnightly" in page


def test_editing_makes_a_draft_that_changes_nothing_until_activated(org, client, login):
    version = policy(MONTHLY_ONE_ON_ONE)
    login(org.hr)
    form = text(client.get(f"/policies/{version.policy_id}/edit"))
    assert 'value="30"' in form
    saved = client.post(f"/policies/{version.policy_id}/edit", data={
        "rule": "maximum_gap", "name": "A one-on-one every 14 days", "severity": "block", "days": "14",
        "kinds": ["one_on_one"], "change_note": "Tighter"})
    assert saved.status_code == 302
    db.session.expire_all()
    item = services.get_policy(version.policy_id)
    assert services.active_version(item).params == {"days": 30}
    dry = text(client.get(f"/policies/{item.id}/dry-run"))
    assert "What changes from version 1" in dry and "params.days" in dry
    # The field in HR's words first, the file's path beside it for those who write policy files.
    assert '<th scope="row">Days <code class="policy-diff__path">params.days</code></th>' in dry
    stale = client.post(f"/policies/{item.id}/activate", data={"version": "1"})  # not the draft's number
    assert stale.status_code == 302 and stale.headers["Location"].endswith("/dry-run")
    client.post(f"/policies/{item.id}/activate", data={"version": "2"})
    db.session.expire_all()
    item = services.get_policy(version.policy_id)
    assert services.active_version(item).params == {"days": 14}
    old = text(client.get(f"/policies/{item.id}/versions/1"))
    assert "Restore version 1" in old
    restored = client.post(f"/policies/{item.id}/versions/1/restore")
    assert restored.headers["Location"].endswith("/dry-run")
    db.session.expire_all()
    assert [v.status for v in services.get_policy(item.id).versions][-1] is VersionStatus.DRAFT
    history = text(client.get(f"/policies/{item.id}"))
    assert "Restored v1 of A one-on-one every 14 days as draft v3" in history
    assert '<th scope="row">Days <code class="policy-diff__path">params.days</code></th>' in history
    assert '<th scope="row">Name <code class="policy-diff__path">name</code></th>' in history


def test_the_export_is_a_policy_file(org, client, login):
    policy(REVIEWS_IN_PERSON)
    login(org.hr)
    response = client.get("/policies/export")
    assert response.mimetype == "application/yaml"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "key: reviews-in-person" in text(response)


def _grievance(org, person):
    return touch(person, TouchpointKind.GRIEVANCE_MEETING, mode=Mode.CHAT, owner=org.hr,
                 owner_role=OwnerRole.HR_PARTNER, at=utcnow() - timedelta(days=2))


def test_managers_see_their_reports_but_never_grievances(org, client, login, api_as):
    policy({**REVIEWS_IN_PERSON, "key": "grievances", "name": "Grievances in person",
            "scope": {"kinds": ["grievance_meeting"]}})
    policy(REVIEWS_IN_PERSON)
    grievance = _grievance(org, org.employee)
    touch(org.employee, TouchpointKind.PERFORMANCE_REVIEW, mode=Mode.CHAT, at=utcnow() - timedelta(days=1))
    touch(org.outsider, TouchpointKind.PERFORMANCE_REVIEW, mode=Mode.CHAT, at=utcnow() - timedelta(days=1))
    db.session.commit()
    login(org.manager)
    page = text(client.get("/compliance"))
    assert org.employee.full_name in page and "Reviews in person" in page
    assert org.outsider.full_name not in page  # not one of theirs
    assert "Grievance" not in page and f"/touchpoints/{grievance.id}" not in page
    assert client.get(f"/touchpoints/{grievance.id}").status_code == 403
    timeline = client.get(f"/people/{org.employee.id}/timeline")
    assert timeline.status_code == 200 and "Grievance" not in text(timeline)
    team_week = client.get("/team/touchpoints")
    assert team_week.status_code == 200 and "Grievance" not in text(team_week)
    listed = api_as(org.manager).get(f"/api/v1/touchpoints?employee_id={org.employee.id}")
    assert listed.status_code == 200 and grievance.id not in [t["id"] for t in listed.json["data"]]
    assert "performance_review" in [t["kind"] for t in listed.json["data"]]
    assert api_as(org.manager).get(f"/api/v1/touchpoints/{grievance.id}").status_code == 404
    evaluated = api_as(org.manager).get("/api/v1/compliance")
    assert "grievance" not in str(evaluated.json).lower()
    client.post("/logout")
    login(org.hr)
    hr_page = text(client.get("/compliance"))
    assert "Grievance meeting logged over chat" in hr_page and org.outsider.full_name in hr_page


def test_the_dashboard_shows_the_weekly_trend_as_an_accessible_chart(org, client, login):
    policy(MONTHLY_ONE_ON_ONE)
    record_compliance_snapshot(now=utcnow() - timedelta(days=7))
    stored = db.session.scalar(select(ComplianceSnapshot).where(ComplianceSnapshot.subject == "company"))
    assert stored.people == 5
    login(org.hr)
    page = text(client.get("/compliance"))
    assert '<svg class="chart__svg"' in page and 'role="img"' in page and "<title id=\"trend-title\">" in page
    assert "<desc id=\"trend-desc\">People out of compliance, by week, 12 weeks:" in page
    assert "(this week, live)" in page and "no data" in page and "style=" not in page
    filtered = text(client.get(f"/compliance?team={org.team.id}"))
    assert org.outsider.full_name not in filtered and org.employee.full_name in filtered


def test_pages_run_a_fixed_number_of_queries(org, client, login):
    policy(MONTHLY_ONE_ON_ONE)
    policy(REVIEWS_IN_PERSON)
    login(org.hr)
    client.get("/compliance")

    def grow(count: int) -> None:
        for index in range(count):
            person = make_employee(f"Grow {index}-{count}", manager=org.manager, team=org.team)
            touch(person, TouchpointKind.PERFORMANCE_REVIEW, mode=Mode.CHAT, at=utcnow() - timedelta(days=1))
        db.session.commit()

    grow(2)
    counts = {}
    for size in ("small", "large"):
        with count_queries() as dashboard:
            assert client.get("/compliance").status_code == 200
        with count_queries() as index:
            assert client.get("/policies").status_code == 200
        counts[size] = (dashboard.count, index.count)
        grow(25)
    assert counts["small"] == counts["large"], counts


def test_snapshots_replace_the_weeks_figure(org):
    policy(MONTHLY_ONE_ON_ONE)
    record_compliance_snapshot(now=NOW)
    touch(org.employee, at=NOW - timedelta(days=1))
    db.session.commit()
    figures = record_compliance_snapshot(now=NOW)
    rows = list(db.session.scalars(select(ComplianceSnapshot).where(ComplianceSnapshot.subject == "company")))
    assert len(rows) == 1 and rows[0].people == figures["people"] == 4


def test_history_and_overrides_show_times_in_the_readers_zone_not_utc(org, client, login):
    from datetime import UTC, datetime

    from touchpoints.audit.models import AuditEntry
    from touchpoints.policies.models import PolicyOverride

    reader = make_hr("Nia New York", timezone="America/New_York")
    version = policy(MONTHLY_ONE_ON_ONE)
    written = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)  # 08:00 in New York (summer time since 8 March)
    version.created_at = written
    for entry in db.session.scalars(select(AuditEntry)):
        entry.occurred_at = written
    tp = touch(org.employee)
    db.session.add(PolicyOverride(touchpoint_id=tp.id, policy_id=version.policy_id,
                                  policy_version_id=version.id, employee_id=org.employee.id, mode="chat",
                                  reason="Refused", justification="In hospital abroad", created_at=written))
    db.session.commit()
    login(reader)
    for url in (f"/policies/{version.policy_id}", f"/policies/{version.policy_id}/versions/1",
                "/compliance/overrides"):
        page = text(client.get(url))
        assert "18 Mar 2026, 08:00" in page, url
        assert "12:00" not in page and " UTC" not in page, url
        assert "America/New_York" in page, url
