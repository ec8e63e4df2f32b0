"""Fixtures for the nudges tests: an app wired to the fake Slack, Teams and SMTP servers on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from tests.factories import make_employee, make_hr, make_manager
from tests.fakes.slack import VALID_TOKEN, FakeSlack
from tests.fakes.smtp import FakeSmtp
from touchpoints.extensions import db
from touchpoints.journeys.models import Mode, OwnerRole, Touchpoint, TouchpointKind, TouchpointStatus
from touchpoints.people.models import Channel, Employee

SIGNING_SECRET = "test-signing-secret-0123456789abcdef"
# A Wednesday in winter: London is on UTC.
NOW = datetime(2025, 1, 15, 10, 0, tzinfo=UTC)


@pytest.fixture
def wired_config(fake_slack: FakeSlack, fake_smtp: FakeSmtp) -> dict:
    return {
        "SLACK_BOT_TOKEN": VALID_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.base_url,
        "SMTP_HOST": fake_smtp.host,
        "SMTP_PORT": fake_smtp.port,
        "SMTP_FROM": "Touchpoints <touchpoints@example.com>",
        "BASE_URL": "http://touchpoints.test",
        "NUDGE_BACKOFF_SECONDS": 30,
        "NUDGE_SLACK_TIMEOUT": 2,
        "NUDGE_LEASE_SECONDS": 60,
    }


@pytest.fixture
def app(make_app, wired_config) -> Iterator[Flask]:
    """The app wired to the fakes (overrides the shared `app` fixture for this folder)."""
    application = make_app(**wired_config)
    with application.app_context():
        yield application
        db.session.remove()


def make_touchpoint(
    employee: Employee,
    owner: Employee | None,
    *,
    due_at: datetime,
    kind: TouchpointKind = TouchpointKind.ONE_ON_ONE,
    title: str = "One-on-one",
    mode: Mode = Mode.IN_PERSON,
    status: TouchpointStatus = TouchpointStatus.SCHEDULED,
    commit: bool = True,
) -> Touchpoint:
    tp = Touchpoint(
        employee_id=employee.id,
        kind=kind,
        title=title,
        planned_mode=mode,
        owner_role=OwnerRole.MANAGER,
        owner_id=owner.id if owner else None,
        due_at=due_at,
        duration_minutes=30,
        sensitive=kind.is_sensitive,
        status=status,
        occurrence=0,
    )
    db.session.add(tp)
    db.session.flush()
    if commit:
        db.session.commit()
    return tp


@pytest.fixture
def people(fake_slack: FakeSlack):
    """An HR partner, a manager on Slack, and a report; the manager is known to Slack."""
    hr = make_hr("Hana HR", preferred_channel=Channel.IN_APP)
    manager = make_manager("Mia Manager", preferred_channel=Channel.SLACK)
    report = make_employee("Ravi Report", manager=manager, preferred_channel=Channel.EMAIL)
    fake_slack.add_user(manager.email, "U0MIA")
    return {"hr": hr, "manager": manager, "report": report}


def in_days(days: float, base: datetime = NOW) -> datetime:
    return base + timedelta(days=days)


def activate_policy(**data) -> None:
    """Create and activate a human-touch policy (data as in a policy file)."""
    from touchpoints.policies.services import activate, create_policy

    data.setdefault("severity", "block")
    data.setdefault("scope", {})
    data.setdefault("params", {})
    activate(create_policy(data, actor_id=None), actor_id=None)
    db.session.commit()


def nudges(**where) -> list:
    """Every nudge (optionally filtered by column values), oldest first, fresh from the database."""
    from sqlalchemy import select

    from touchpoints.nudges.models import Nudge

    db.session.expire_all()
    query = select(Nudge).order_by(Nudge.id)
    for name, value in where.items():
        query = query.where(getattr(Nudge, name) == value)
    return list(db.session.scalars(query))
