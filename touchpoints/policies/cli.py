"""`flask policies …`: load and export policy files, evaluate, take the weekly snapshot."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

policies_group = AppGroup("policies", help="Human-touch policies: load, export, evaluate.")


@policies_group.command("load")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the files and show the impact; write nothing.")
@click.option("--if-empty", is_flag=True, help="Do nothing when any policy exists already (for make run).")
def load_command(paths: tuple[Path, ...], dry_run: bool, if_empty: bool) -> None:
    """Load policy files or folders of them (YAML), all or nothing; changed policies get a new version."""
    from touchpoints.extensions import db
    from touchpoints.policies import services

    try:
        result = services.load_policy_files(paths, dry_run_only=dry_run, if_empty=if_empty)
    except services.PolicyFileError as error:
        db.session.rollback()
        for problem in error.problems:
            click.echo(problem, err=True)
        plural = "s" if len(error.problems) != 1 else ""
        raise click.ClickException(f"{len(error.problems)} problem{plural}; nothing was loaded.") from None
    if result.skipped:
        click.echo("Policies already exist; nothing loaded (--if-empty).")
        return
    if dry_run:
        db.session.rollback()
        for key, impact in result.impacts.items():
            verb = "new" if key in result.created else "changed"
            if impact.candidate.rule.judges_teams:
                click.echo(f"  {key} ({verb}): would put {impact.teams} team(s) out of compliance "
                           f"({impact.in_scope} team(s) in scope)")
                continue
            click.echo(f"  {key} ({verb}): would put {impact.people} employee(s) out of compliance "
                       f"({impact.violations} violation(s), {impact.in_scope} in scope)")
        click.echo(f"Dry run, nothing written. Loading would give: {result.summary()}.")
        return
    db.session.commit()
    for key in result.created:
        click.echo(f"  new: {key}")
    for key in result.changed:
        click.echo(f"  new version: {key}")
    click.echo(f"Policies loaded: {result.summary()}.")


@policies_group.command("export")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of standard output.")
@click.option("--include-off", is_flag=True, help="Also switched-off policies (their last version).")
def export_command(output: Path | None, include_off: bool) -> None:
    """Write the active policies as a policy file that `flask policies load` reads back."""
    from touchpoints.policies.services import export_policies

    text = export_policies(include_off=include_off)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Policies written to {output}.")


@policies_group.command("evaluate")
def evaluate_command() -> None:
    """Evaluate every active policy over the company and print the counts by policy."""
    from touchpoints.policies.engine import evaluate

    report = evaluate()
    for policy, violations, people in report.by_policy():
        click.echo(f"  {policy.name:<44} {people:>6} people {violations:>7} violations")
    click.echo(f"{report.people_out_of_compliance} of {len(report.people)} people out of compliance, "
               f"{len(report.violations)} violations.")
    for finding in report.team_violations:
        click.echo(f"  Team {finding.team_name}: {finding.detail}")


@policies_group.command("snapshot")
def snapshot_command() -> None:
    """Keep this week's compliance figures for the trend (the scheduler does this every six hours)."""
    from touchpoints.policies.compliance import record_compliance_snapshot

    figures = record_compliance_snapshot()
    click.echo(f"Snapshot kept: {figures['people']} people, {figures['violations']} violations.")
