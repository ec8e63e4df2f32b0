"""The shipped journeys as files, `flask journeys …`, the demo's journey history, the scheduler job."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.defaults import DEFAULTS_DIR, DefaultsError, load_defaults, read_journey_file
from touchpoints.journeys.models import (
    Confirmation,
    Enrolment,
    JourneyStatus,
    JourneyTemplate,
    Mode,
    Touchpoint,
    TouchpointKind,
    TouchpointStatus,
)


def test_the_shipped_journeys_say_what_the_issue_asks_for():
    onboarding = read_journey_file(DEFAULTS_DIR / "onboarding.yaml")
    kinds = [t["kind"] for t in onboarding["touchpoints"]]
    assert len(kinds) == 12 and onboarding["enrols_on"] == "hire"
    assert {"welcome", "buddy_intro", "one_on_one", "check_in", "training_module",
            "live_discussion"} <= set(kinds)
    # The module is followed by a live discussion.
    assert kinds.index("live_discussion") > kinds.index("training_module")
    assert [t["offset"] for t in onboarding["touchpoints"] if t["kind"] == "check_in"] == [30, 60, 90]
    development = {t["key"]: t for t in read_journey_file(DEFAULTS_DIR / "development.yaml")["touchpoints"]}
    assert development["one-on-one"]["follows_cadence"] is True
    assert development["growth-conversation"]["rrule"] == "FREQ=MONTHLY;INTERVAL=3"
    assert development["performance-review"]["planned_mode"] == "in_person"
    offboarding = read_journey_file(DEFAULTS_DIR / "offboarding.yaml")
    assert offboarding["enrols_on"] == "exit_date_set"
    assert {"exit_interview", "knowledge_handover", "farewell"} <= {
        t["kind"] for t in offboarding["touchpoints"]}


def test_a_broken_file_is_refused_naming_file_line_and_field(tmp_path: Path):
    text = (DEFAULTS_DIR / "offboarding.yaml").read_text().replace("planned_mode: in_person",
                                                                   "planned_mode: carrier_pigeon", 1)
    bad = tmp_path / "offboarding.yaml"
    bad.write_text(text)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "- key: knowledge-handover" in row)
    with pytest.raises(DefaultsError) as error:
        read_journey_file(bad)
    assert str(error.value).startswith(
        f"offboarding.yaml:{line}: touchpoints[1].planned_mode: 'carrier_pigeon'")
    (tmp_path / "broken.yaml").write_text("key: [unclosed\n")
    with pytest.raises(DefaultsError, match=r"broken.yaml:\d+: not valid YAML"):
        read_journey_file(tmp_path / "broken.yaml")


def test_loading_is_idempotent_and_update_publishes_a_new_version(app, tmp_path: Path):
    assert {o.action for o in load_defaults()} == {"created"}
    db.session.commit()
    assert {o.action for o in load_defaults()} == {"unchanged"}
    for path in DEFAULTS_DIR.glob("*.yaml"):
        (tmp_path / path.name).write_text(path.read_text())
    changed = tmp_path / "onboarding.yaml"
    changed.write_text(changed.read_text().replace("title: 90-day check-in", "title: 90-day conversation"))
    outcomes = {o.key: o.action for o in load_defaults(tmp_path)}
    assert outcomes["onboarding"] == "differs"
    outcomes = {o.key: (o.action, o.version) for o in load_defaults(tmp_path, update=True)}
    assert outcomes["onboarding"] == ("new_version", 2) and outcomes["development"] == ("unchanged", 1)
    statuses = dict(db.session.execute(select(JourneyTemplate.version, JourneyTemplate.status)
                                       .where(JourneyTemplate.key == "onboarding")).all())
    assert statuses == {1: JourneyStatus.SUPERSEDED, 2: JourneyStatus.ACTIVE}


def test_the_cli_loads_exports_enrols_and_extends(app, runner, org):
    result = runner.invoke(args=["journeys", "load-defaults"])
    assert result.exit_code == 0 and "onboarding v1: created" in result.output
    exported = runner.invoke(args=["journeys", "export", "offboarding"])
    assert exported.exit_code == 0 and "key: exit-interview" in exported.output
    assert runner.invoke(args=["journeys", "export", "nope"]).exit_code != 0
    enrolled = runner.invoke(args=["journeys", "enrol", "development", "--team", org.team.name])
    assert enrolled.exit_code == 0 and "Enrolled 3 in Development" in enrolled.output
    again = runner.invoke(args=["journeys", "enrol", "development", "--team", org.team.name])
    assert "Enrolled 0" in again.output and "3 were already on it" in again.output
    assert runner.invoke(args=["journeys", "extend-horizon"]).output.strip() == "0 touchpoints planned."


def test_the_scheduler_runs_the_journey_upkeep(app, org, journeys):
    from touchpoints.journeys.services import run_daily_journey_upkeep
    from touchpoints.scheduling.scheduler import JOBS

    assert any(job.func is run_daily_journey_upkeep for job in JOBS)
    first = run_daily_journey_upkeep()
    assert run_daily_journey_upkeep() == {"started": 0, "touchpoints_created": 0, "enrolments_completed": 0}
    assert first["touchpoints_created"] == 0


def test_the_demo_company_has_a_believable_journey_history(app, runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "Demo journeys loaded" in result.output

    def count(*where) -> int:
        return db.session.scalar(select(func.count()).select_from(Touchpoint).where(*where))

    assert count(Touchpoint.status == TouchpointStatus.DONE) > 100
    assert count(Touchpoint.status == TouchpointStatus.MISSED) > 5
    assert count(Touchpoint.status == TouchpointStatus.PLANNED, Touchpoint.due_at < utcnow()) > 5  # overdue
    assert count(Touchpoint.status == TouchpointStatus.PLANNED, Touchpoint.due_at > utcnow()) > 100
    modes = set(db.session.scalars(select(Touchpoint.actual_mode).where(Touchpoint.actual_mode.is_not(None))))
    assert {Mode.IN_PERSON, Mode.VIDEO, Mode.CHAT} <= modes
    confirmations = set(db.session.scalars(select(Touchpoint.confirmation).distinct()))
    assert {Confirmation.CONFIRMED, Confirmation.PENDING, Confirmation.DISPUTED} <= confirmations
    assert count(Touchpoint.kind == TouchpointKind.ONE_ON_ONE) > 100
    from touchpoints.journeys.models import AgendaItem, LifecycleEvent

    assert db.session.scalar(select(func.count()).select_from(AgendaItem)) > 20
    assert db.session.scalar(select(func.count()).select_from(LifecycleEvent)) > 10
    keys = set(db.session.scalars(select(Enrolment.journey_key)))
    # Mentoring pairs of the demo programmes follow their programme's journey.
    assert keys == {"onboarding", "development", "offboarding", "mentoring-programme"}
