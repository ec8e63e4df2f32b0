"""`flask journeys …`: load the shipped journeys, export one, enrol people, extend the horizon."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

journeys_group = AppGroup("journeys", help="Journey templates, enrolment and materialisation.")


@journeys_group.command("load-defaults")
@click.option("--update", is_flag=True,
              help="Publish a new version of journeys whose file differs from the active version.")
def load_defaults_command(update: bool) -> None:
    """Load the shipped journeys (touchpoints/journeys/defaults/*.yaml)."""
    from touchpoints.extensions import db
    from touchpoints.journeys.defaults import DefaultsError, load_defaults

    try:
        outcomes = load_defaults(update=update)
    except DefaultsError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    words = {"created": "created", "unchanged": "unchanged", "new_version": "published a new version",
             "differs": "differs from its file (kept; run with --update to publish the file's version)"}
    for outcome in outcomes:
        click.echo(f"{outcome.key} v{outcome.version}: {words[outcome.action]}")


@journeys_group.command("export")
@click.argument("key")
def export_command(key: str) -> None:
    """Print the active version of a journey as YAML (the same shape as the default files)."""
    import yaml  # here, not at the top: web workers register this group and never export

    from touchpoints.journeys.enrolment import active_journey
    from touchpoints.journeys.templates import journey_to_data

    journey = active_journey(key)
    if journey is None:
        raise click.ClickException(f"No active journey has the key '{key}'.")
    yaml.safe_dump(journey_to_data(journey), sys.stdout, sort_keys=False, allow_unicode=True, width=100)


@journeys_group.command("enrol")
@click.argument("key")
@click.option("--team", "team_name", help="Only this team.")
@click.option("--status", "statuses", multiple=True,
              help="Only people in this lifecycle status (repeatable), e.g. active.")
def enrol_command(key: str, team_name: str | None, statuses: tuple[str, ...]) -> None:
    """Enrol everyone matching the filter in the active version of a journey."""
    from touchpoints.extensions import db
    from touchpoints.journeys.enrolment import active_journey, employee_ids_for, enrol_many
    from touchpoints.people.fields import FieldError, parse_status
    from touchpoints.people.services import team_by_name

    journey = active_journey(key)
    if journey is None:
        raise click.ClickException(f"No active journey has the key '{key}'.")
    team = team_by_name(team_name, create=False) if team_name else None
    if team_name and team is None:
        raise click.ClickException(f"No team is called '{team_name}'.")
    try:
        parsed = [parse_status(s) for s in statuses]
    except FieldError as error:
        raise click.ClickException(str(error)) from None
    ids = employee_ids_for(team_id=team.id if team else None, statuses=parsed)
    result = enrol_many(ids, journey, actor_id=None, source="cli")
    db.session.commit()
    click.echo(f"Enrolled {result.enrolled} in {journey.label}; {len(result.already_enrolled)} were "
               f"already on it; {result.touchpoints_created} touchpoints planned.")


@journeys_group.command("extend-horizon")
@click.option("--days", type=int, default=None, help="Horizon in days (default JOURNEY_HORIZON_DAYS).")
def extend_horizon_command(days: int | None) -> None:
    """Materialise recurring touchpoints up to the horizon (what the scheduler runs daily)."""
    from touchpoints.extensions import db
    from touchpoints.journeys.enrolment import extend_horizon

    created = extend_horizon(horizon=days)
    db.session.commit()
    click.echo(f"{created} touchpoints planned.")
