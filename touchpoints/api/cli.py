"""`flask tokens …`: issue API tokens from the command line to bootstrap an integration."""
from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from touchpoints.api import services
from touchpoints.api.models import ApiToken
from touchpoints.auth.models import User
from touchpoints.extensions import db

tokens_group = AppGroup("tokens", help="Issue and revoke API tokens.")

DEFAULT_NAME = "Issued from the command line"


@tokens_group.command("issue")
@click.argument("email")
@click.option("--name", default=DEFAULT_NAME, show_default=True,
              help="Which integration uses the token.")
def issue_command(email: str, name: str) -> None:
    """Issue a token acting as the person with EMAIL; prints the secret this once."""
    user = services.user_for_email(email)
    if user is None:
        raise click.ClickException(f"No one with a login has the email {email}.")
    try:
        issued = services.issue_token(user, name, created_by=None)
    except services.TokenError as error:
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(f"Issued token {issued.token.id} '{issued.token.name}' acting as "
               f"{user.employee.full_name} <{user.employee.email}>.", err=True)
    click.echo("Store it now: it is not shown again.", err=True)
    # The secret alone on stdout, so `TOKEN=$(flask tokens issue …)` captures just it.
    click.echo(issued.raw)


@tokens_group.command("revoke")
@click.argument("reference")
def revoke_command(reference: str) -> None:
    """Revoke a token by its id or the characters it starts with (tp_…), as `list` shows them."""
    matches = services.find_tokens(reference)
    if not matches:
        raise click.ClickException(f"No token matches {reference!r}; see `flask tokens list`.")
    if len(matches) > 1:
        listed = ", ".join(f"{t.id} ({t.token_prefix}…)" for t in matches)
        raise click.ClickException(f"{reference!r} matches several tokens: {listed}. Use the id.")
    token = matches[0]
    if not services.revoke_token(token, actor=None):
        click.echo(f"Token {token.id} '{token.name}' was already revoked.")
        return
    db.session.commit()
    click.echo(f"Revoked token {token.id} '{token.name}' ({token.token_prefix}…).")


@tokens_group.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include revoked tokens.")
def list_command(show_all: bool) -> None:
    """List tokens (never their secrets): id, start, name, who it acts as, last use."""
    query = select(ApiToken).options(joinedload(ApiToken.user).joinedload(User.employee)) \
        .order_by(ApiToken.id)
    if not show_all:
        query = query.where(ApiToken.revoked_at.is_(None))
    tokens = db.session.scalars(query).all()
    if not tokens:
        click.echo("No tokens." if show_all else "No active tokens (use --all to see revoked ones).")
        return
    rows = [("ID", "STARTS WITH", "NAME", "ACTS AS", "LAST USED (UTC)", "STATE")]
    for token in tokens:
        rows.append((
            str(token.id), f"{token.token_prefix}…", token.name, token.user.employee.email,
            token.last_used_at.strftime("%Y-%m-%d %H:%M") if token.last_used_at else "never",
            "revoked" if token.revoked_at else "active",
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
