"""The weekly team digest: to a team's Slack channel, and to its Teams workflow as an Adaptive Card 1.4
when HR turned that on; counts only, never names or private subjects."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from tests.factories import make_employee, make_hr, make_manager, make_team
from tests.nudges.conftest import make_touchpoint, nudges
from touchpoints.extensions import db
from touchpoints.journeys.models import TouchpointKind
from touchpoints.nudges.models import DeliveryChannel, NudgeKind, NudgeStatus, TeamChannel
from touchpoints.nudges.preferences import set_teams_digest
from touchpoints.nudges.reminders import queue_team_digests
from touchpoints.nudges.services import deliver

MONDAY = datetime(2025, 1, 13, 9, 0, tzinfo=UTC)


def _team_with_week(name: str = "Platform"):
    team = make_team(name)
    manager = make_manager("Mia Manager", team=team)
    report = make_employee("Ravi Report", manager=manager, team=team)
    make_touchpoint(report, manager, due_at=MONDAY + timedelta(days=1))
    make_touchpoint(report, manager, due_at=MONDAY + timedelta(days=2), title="Weekly one-on-one")
    make_touchpoint(
        report,
        manager,
        due_at=MONDAY + timedelta(days=3),
        kind=TouchpointKind.EXIT_INTERVIEW,
        title="Exit interview: reasons",
    )
    make_touchpoint(report, manager, due_at=MONDAY - timedelta(days=5), title="Missed check-in")
    return team


def _card(body: dict) -> dict:
    assert body["type"] == "message"
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    return card


def test_a_team_gets_its_week_as_an_adaptive_card_in_teams(app, fake_teams):
    team = _team_with_week()
    db.session.add(TeamChannel(team_id=team.id, teams_webhook_url=fake_teams.url("platform")))
    set_teams_digest(team.id, True, actor_id=None)
    db.session.commit()
    assert queue_team_digests(now=MONDAY) == {"teams": 1, "queued": 1}
    assert queue_team_digests(now=MONDAY + timedelta(hours=1))["queued"] == 0  # once a week
    [digest] = nudges(kind=NudgeKind.TEAM_DIGEST)
    assert digest.channel is DeliveryChannel.TEAMS and digest.team_id == team.id
    report = deliver(now=MONDAY)
    assert report.sent == 1, report.summary()
    [(name, body)] = fake_teams.state.received
    card = _card(body)
    text = json.dumps(card)
    assert name == "platform" and "Platform: touchpoints this week" in text
    assert "2 one-on-ones" in text and "1 private conversations" in text and "1 overdue" in text
    assert "Ravi" not in text and "Exit interview" not in text and "reasons" not in text
    assert any(
        a["type"] == "Action.OpenUrl" and a["url"].endswith("/team/touchpoints")
        for block in card["body"]
        for item in block.get("items", [])
        if item["type"] == "ActionSet"
        for a in item["actions"]
    )
    assert nudges(kind=NudgeKind.TEAM_DIGEST)[0].status is NudgeStatus.SENT


def test_slack_and_teams_each_get_one_when_both_are_set(app, fake_teams, fake_slack):
    team = _team_with_week()
    db.session.add(
        TeamChannel(
            team_id=team.id, teams_webhook_url=fake_teams.url("platform"), slack_digest_channel="C0PLAT"
        )
    )
    set_teams_digest(team.id, True, actor_id=None)
    db.session.commit()
    queue_team_digests(now=MONDAY)
    channels = {n.channel for n in nudges(kind=NudgeKind.TEAM_DIGEST)}
    assert channels == {DeliveryChannel.SLACK, DeliveryChannel.TEAMS}
    assert deliver(now=MONDAY).sent == 2
    [message] = fake_slack.messages()
    assert message["channel"] == "C0PLAT" and "2 one-on-ones" in message["text"]
    assert len(fake_teams.state.received) == 1


def test_a_team_webhook_without_the_digest_turned_on_gets_none(app, fake_teams):
    team = _team_with_week()
    db.session.add(TeamChannel(team_id=team.id, teams_webhook_url=fake_teams.url("platform")))
    db.session.commit()
    assert queue_team_digests(now=MONDAY) == {"teams": 0, "queued": 0}


def test_a_deleted_team_workflow_is_marked_broken_and_not_retried(app, fake_teams):
    team = _team_with_week()
    db.session.add(TeamChannel(team_id=team.id, teams_webhook_url=fake_teams.url("platform")))
    set_teams_digest(team.id, True, actor_id=None)
    db.session.commit()
    queue_team_digests(now=MONDAY)
    fake_teams.then(status=410)
    report = deliver(now=MONDAY)
    assert report.dead == 1 and report.retried == 0
    [digest] = nudges(kind=NudgeKind.TEAM_DIGEST)
    assert digest.status is NudgeStatus.DEAD and "410" in digest.last_error
    db.session.expire_all()
    channel = db.session.get(TeamChannel, team.id)
    assert channel.teams_webhook_broken_at is not None and "HTTP 410" in channel.teams_webhook_error
    # The next week's digest is not queued to a broken workflow.
    assert queue_team_digests(now=MONDAY + timedelta(days=7))["queued"] == 0


def _digest_in_teams(team) -> bool:
    db.session.expire_all()
    channel = db.session.get(TeamChannel, team.id)
    return channel is not None and channel.teams_digest


def test_hr_turns_the_teams_digest_on_for_a_team(app, client, login):
    hr = make_hr("Hana HR")
    team = make_team("Platform")
    login(hr)
    refused = client.post(f"/nudges/teams/{team.id}", data={"teams_digest": "y", "teams_webhook_url": ""})
    assert refused.status_code == 400
    assert "Add the team&#39;s Teams workflow address above" in refused.get_data(as_text=True)
    assert not _digest_in_teams(team)
    url = "https://prod-01.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=x"
    saved = client.post(f"/nudges/teams/{team.id}", data={"teams_digest": "y", "teams_webhook_url": url})
    assert saved.status_code == 302
    assert _digest_in_teams(team)
    page = client.get(f"/nudges/teams/{team.id}").get_data(as_text=True)
    [box] = re.findall(r'<input[^>]*name="teams_digest"[^>]*>', page)
    assert " checked" in box
    client.post(f"/nudges/teams/{team.id}", data={"teams_webhook_url": url})  # unticked
    assert not _digest_in_teams(team)
