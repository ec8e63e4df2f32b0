"""Operator commands: `flask serve`, `flask scheduler`, plus each capability's own group."""
from __future__ import annotations

import signal
import sys

import click
from flask import Flask, current_app
from werkzeug.serving import run_simple


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve_command(host: str, port: int) -> None:
    """Serve the app for development with the scheduler embedded (what `make run` uses)."""
    from touchpoints.people.demo import demo_logins_text
    from touchpoints.scheduling.scheduler import start_embedded

    app = current_app._get_current_object()
    scheduler = start_embedded(app)
    click.echo(f"\nTouchpoints is running at http://{host}:{port}/")
    click.echo(demo_logins_text())
    click.echo(f"Scheduler: embedded, {len(scheduler.get_jobs())} job(s)." if scheduler else
               "Scheduler: not embedded (SCHEDULER_EMBEDDED=1 embeds it; production runs `flask scheduler`).")
    click.echo("Press Ctrl+C to stop.\n")
    try:
        run_simple(host, port, app, threaded=True)
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)


@click.command("scheduler")
def scheduler_command() -> None:
    """Run the scheduler as its own process (production: exactly one of these)."""
    from touchpoints.scheduling.scheduler import build_scheduler

    app = current_app._get_current_object()
    scheduler = build_scheduler(app, blocking=True)

    def stop(signum: int, frame: object) -> None:
        scheduler.shutdown(wait=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    click.echo(f"Scheduler started with {len(scheduler.get_jobs())} job(s).")
    scheduler.start()


def register(app: Flask) -> None:
    """Attach every command to the app's CLI."""
    from touchpoints.api.cli import tokens_group
    from touchpoints.coffee.cli import coffee_group
    from touchpoints.journeys.cli import journeys_group
    from touchpoints.nudges.cli import nudges_group
    from touchpoints.people.cli import demo_command, people_group
    from touchpoints.policies.cli import policies_group
    from touchpoints.programmes.cli import programmes_group
    from touchpoints.surveys.cli import surveys_group

    for command in (serve_command, scheduler_command, demo_command, people_group, tokens_group,
                    journeys_group, surveys_group, policies_group, nudges_group):
        app.cli.add_command(command)
    app.cli.add_command(programmes_group)
    app.cli.add_command(coffee_group)
