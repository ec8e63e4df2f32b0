"""`flask nudges …`: run the delivery and reminder passes by hand, and see the outbox at a glance."""

from __future__ import annotations

import click
from flask.cli import AppGroup

nudges_group = AppGroup("nudges", help="Nudges: deliver the outbox, run the passes, check Slack.")


@nudges_group.command("deliver")
@click.option("--max", "max_nudges", type=int, default=None, help="Stop after this many nudges.")
def deliver_command(max_nudges: int | None) -> None:
    """Deliver what is due now (what the scheduler's delivery job does)."""
    from touchpoints.nudges.services import deliver

    click.echo(deliver(max_nudges=max_nudges).summary())


@nudges_group.command("run-job")
@click.argument("job_id")
def run_job_command(job_id: str) -> None:
    """Run one scheduler job now and record its run (e.g. nudge-reminders)."""
    from touchpoints.scheduling.scheduler import job_specs, run_job

    specs = job_specs()
    if job_id not in specs:
        raise click.ClickException(f"No job {job_id!r}. Jobs: {', '.join(sorted(specs))}")
    click.echo(f"{job_id}: {run_job(specs[job_id])}")


@nudges_group.command("status")
def status_command() -> None:
    """How many nudges are in each state, and which channels are paused."""
    from touchpoints.nudges.services import paused_channels, status_counts

    counts = status_counts()
    for status, count in sorted(counts.items(), key=lambda item: item[0].value):
        click.echo(f"{status.label:<20} {count}")
    if not counts:
        click.echo("The outbox is empty.")
    for channel, state in paused_channels().items():
        click.echo(f"{channel} is PAUSED since {state.paused_at:%Y-%m-%d %H:%M} UTC: {state.pause_reason}")


@nudges_group.command("check-slack")
def check_slack_command() -> None:
    """Ask Slack who the token belongs to (auth.test): a quick check of SLACK_BOT_TOKEN and SLACK_API_URL."""
    from slack_sdk.errors import SlackApiError

    from touchpoints.nudges.settings import NudgeSettings
    from touchpoints.nudges.slack import make_client

    settings = NudgeSettings.current()
    if not settings.slack_token:
        raise click.ClickException("SLACK_BOT_TOKEN is not set.")
    try:
        answer = make_client(settings.slack_token, settings.slack_api_url).auth_test()
    except SlackApiError as error:
        raise click.ClickException(f"Slack refused: {error.response.get('error')}") from None
    click.echo(
        f"Slack workspace {answer.get('team')} ({answer.get('team_id')}), bot user {answer.get('user_id')}."
    )
