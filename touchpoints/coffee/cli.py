"""`flask coffee …`: preview or run a pairing round for a date, from the command line."""
from __future__ import annotations

from datetime import date

import click
from flask.cli import AppGroup

coffee_group = AppGroup("coffee", help="Coffee pairing.")


@coffee_group.command("round")
@click.option("--date", "round_on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The round's date (default: today, UTC).")
@click.option("--seed", type=click.IntRange(0, 2**31 - 1), default=None,
              help="The same seed and participants give the same pairs (default: a random seed).")
@click.option("--dry-run", is_flag=True, help="Show what the round would make; write nothing.")
def round_command(round_on, seed: int | None, dry_run: bool) -> None:
    """Pair the people due on a date (once per date: a second run does nothing)."""
    from touchpoints.coffee import services
    from touchpoints.db_types import utcnow
    from touchpoints.extensions import db

    day: date = round_on.date() if round_on else utcnow().date()
    if dry_run:
        plan = services.plan_round(day, seed=seed)
        db.session.rollback()
        click.echo(f"Dry run for {day} (seed {plan.seed}), nothing written: {len(plan.participants)} due, "
                   f"{plan.pairing.pairs} pairs, {plan.pairing.trios} group(s) of three, "
                   f"{len(plan.pairing.unpaired)} unpaired.")
        for pid, reason in sorted(plan.pairing.unpaired.items()):
            click.echo(f"  unpaired: {plan.people[pid].full_name}: {reason}")
        return
    made = services.run_round(day, seed=seed)
    if made is None:
        db.session.rollback()
        raise click.ClickException(f"A round for {day} already ran; each date runs once.")
    db.session.commit()
    click.echo(f"Round of {day} (seed {made.seed}): {made.participants} due, {made.pairs} pairs, "
               f"{made.trios} group(s) of three, {made.unpaired} unpaired.")
