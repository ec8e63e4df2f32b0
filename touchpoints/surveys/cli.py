"""`flask surveys …`: load the default pack, and run the round jobs by hand."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

surveys_group = AppGroup("surveys", help="Pulse surveys: default pack and round jobs.")


@surveys_group.command("load-defaults")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A pack file to load instead of the shipped defaults.")
def load_defaults_command(path: Path | None) -> None:
    """Add the default pulse surveys (those already present, by key, are left alone)."""
    from touchpoints.extensions import db
    from touchpoints.surveys.pack import DEFAULT_PACK, PackError, load_pack

    try:
        created = load_pack(path or DEFAULT_PACK)
    except PackError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    if created:
        click.echo("Added: " + ", ".join(f"{s.title} ({len(s.current_version.questions)} questions)"
                                         for s in created))
    else:
        click.echo("Nothing to add: every survey in the pack is already here.")


@surveys_group.command("run-jobs")
def run_jobs_command() -> None:
    """Open due rounds, close ended ones and send due reminders now (what the scheduler does)."""
    from touchpoints.surveys.services import close_expired_rounds, open_due_rounds, send_due_reminders

    opened = open_due_rounds()
    closed = close_expired_rounds()
    reminded = send_due_reminders()
    click.echo(f"Opened {opened} round(s), closed {closed}, reminded {reminded} people.")
