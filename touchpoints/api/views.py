"""API routes; each capability's endpoints live in its own api module and register here."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
