"""`flask programmes …`: load the shipped programmes, close pairs whose people have left."""
from __future__ import annotations

import click
from flask.cli import AppGroup

programmes_group = AppGroup("programmes", help="Buddy and mentor programmes.")


@programmes_group.command("load-defaults")
def load_defaults_command() -> None:
    """Load the shipped programmes and their journeys (touchpoints/programmes/defaults/)."""
    from touchpoints.extensions import db
    from touchpoints.journeys.defaults import DefaultsError
    from touchpoints.programmes.defaults import load_default_programmes

    try:
        outcomes = load_default_programmes()
    except DefaultsError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    for outcome in outcomes:
        click.echo(f"{outcome.key}: {outcome.action}")


@programmes_group.command("close-departed")
def close_departed_command() -> None:
    """End the pairs in which someone has left (the scheduler does this every six hours)."""
    from touchpoints.programmes.services import run_programme_upkeep

    click.echo(f"{run_programme_upkeep()} pair(s) ended.")
