"""The /api/v1 blueprint: error shape, caching headers, the OpenAPI document, and the endpoints.

Each capability's endpoints live in their own module that adds routes to `bp` and paths to the
OpenAPI document when imported; list the module in ENDPOINT_MODULES below.
"""
from __future__ import annotations

from importlib import import_module

from flask import Blueprint, Response

from touchpoints.api.auth import api_error
from touchpoints.api.helpers import ApiProblem
from touchpoints.api.openapi import build_document
from touchpoints.auth.access import public

bp = Blueprint("api", __name__, url_prefix="/api/v1")

ENDPOINT_MODULES = (
    "touchpoints.api.people",
    "touchpoints.surveys.api",
    "touchpoints.journeys.api",
    "touchpoints.policies.api",
    "touchpoints.rituals.api",
    "touchpoints.programmes.api",
    "touchpoints.coffee.api",
    "touchpoints.nudges.api",
)


@bp.errorhandler(ApiProblem)
def problem(error: ApiProblem):
    """Answer an ApiProblem with the API's error shape."""
    return api_error(error.status, error.title, error.detail, error.fields)


@bp.after_request
def no_caching(response: Response) -> Response:
    """API answers carry personal data: no browser or proxy may keep a copy."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/openapi.json")
@public
def openapi_document():
    """The OpenAPI 3.1 document describing every endpoint."""
    return build_document()


for _module in ENDPOINT_MODULES:
    import_module(_module)
