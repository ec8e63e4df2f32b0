"""`flask demo` and `flask people …`."""
from __future__ import annotations

import click
from flask.cli import AppGroup

people_group = AppGroup("people", help="Import and manage people.")


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when people already exist.")
def demo_command(if_empty: bool) -> None:
    """Load the demo company."""
    from touchpoints.people.demo import load_demo_company

    load_demo_company(if_empty=if_empty)
