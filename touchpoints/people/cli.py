"""`flask demo` and `flask people …`."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

people_group = AppGroup("people", help="Import and manage people.")


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when people already exist.")
def demo_command(if_empty: bool) -> None:
    """Load the demo company."""
    from touchpoints.coffee.demo import load_demo_coffee
    from touchpoints.journeys.demo import load_demo_journeys
    from touchpoints.people.demo import load_demo_company
    from touchpoints.policies.demo import load_demo_policies
    from touchpoints.programmes.demo import load_demo_programmes
    from touchpoints.rituals.demo import load_demo_rituals
    from touchpoints.surveys.demo import load_demo_surveys

    if load_demo_company(if_empty=if_empty):
        load_demo_journeys()
        load_demo_surveys()
        load_demo_rituals()  # before the policies, so their compliance history sees the team days
        load_demo_policies()
        load_demo_programmes()
        load_demo_coffee()


@people_group.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and show what would change; write nothing.")
def import_command(csv_file: Path, dry_run: bool) -> None:
    """Import people from an HR system's CSV export (all or nothing)."""
    from touchpoints.extensions import db
    from touchpoints.people import importer

    try:
        text = importer.decode_upload(csv_file.read_bytes())
    except importer.ImportFileError as error:
        raise click.ClickException(str(error)) from None
    if dry_run:
        preview = importer.validate_import(text)
        db.session.rollback()
        _report(preview.warnings, preview.errors, csv_file.name)
        if preview.new_teams:
            click.echo("New teams: " + ", ".join(preview.new_teams))
        click.echo(f"Dry run, nothing written. Importing would give: {preview.summary()}.")
        return
    try:
        outcome = importer.apply_import(text, filename=csv_file.name, actor_id=None)
    except importer.ImportRejected as rejected:
        _report(rejected.preview.warnings, rejected.preview.errors, csv_file.name)
        raise click.ClickException("Nothing was imported.") from None
    db.session.commit()
    _report(outcome.warnings, [], csv_file.name)
    if outcome.new_teams:
        click.echo("New teams: " + ", ".join(outcome.new_teams))
    click.echo(f"Imported {csv_file.name}: {outcome.summary()}.")


def _report(warnings, errors, filename: str) -> None:
    """Warnings and errors on stderr, one per line; any error ends the command with status 1."""
    for warning in warnings:
        click.echo(f"Warning: {warning}", err=True)
    for problem in errors:
        click.echo(str(problem), err=True)
    if errors:
        plural = "s" if len(errors) != 1 else ""
        raise click.ClickException(f"{len(errors)} problem{plural} in {filename}; nothing was imported.")
