"""`flask tokens …`: issue API tokens from the command line to bootstrap an integration."""
from __future__ import annotations

from flask.cli import AppGroup

tokens_group = AppGroup("tokens", help="Issue and revoke API tokens.")
