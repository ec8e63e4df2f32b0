"""The OpenAPI 3.1 document of /api/v1, built from the paths each capability registers.

A capability that adds endpoints calls `register_paths(paths, schemas)` when its API module is
imported (paths relative to /api/v1, e.g. "/touchpoints/{touchpoint_id}"), using the helpers below
for the shared pieces: `ref`, `json_body`, `json_response`, `errors`, `PAGE_PARAMETERS`.
A test checks that every /api/v1 route appears here, so no endpoint ships undocumented.
"""
from __future__ import annotations

import copy
from typing import Any

API_PREFIX = "/api/v1"
API_VERSION = "1.0.0"

_paths: dict[str, dict[str, Any]] = {}
_schemas: dict[str, dict[str, Any]] = {}
_tags: dict[str, str] = {}

# Every error answers in this one shape; `fields` names each bad input field.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "title", "detail"],
            "properties": {
                "status": {"type": "integer", "description": "The HTTP status code, repeated."},
                "title": {"type": "string", "description": "The status in words."},
                "detail": {"type": "string", "description": "What went wrong, for a person."},
                "fields": {
                    "type": "object",
                    "description": "Each input field at fault (body field or query parameter) "
                                   "and why.",
                    "additionalProperties": {"type": "string"},
                },
            },
        }
    },
    "examples": [{"error": {"status": 422, "title": "Unprocessable Content",
                            "detail": "Some fields are not valid.",
                            "fields": {"timezone": "'Mars/Base' is not a known IANA time zone "
                                                   "(for example Europe/Berlin)."}}}],
}

PAGE_META_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["page", "per_page", "total"],
    "properties": {
        "page": {"type": "integer", "minimum": 1},
        "per_page": {"type": "integer", "minimum": 1, "maximum": 200},
        "total": {"type": "integer", "minimum": 0, "description": "Matches across all pages."},
    },
}

PAGE_LINKS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["next", "prev"],
    "properties": {
        "next": {"type": ["string", "null"], "format": "uri",
                 "description": "The next page with the same filters, or null on the last page."},
        "prev": {"type": ["string", "null"], "format": "uri",
                 "description": "The previous page, or null on the first page."},
    },
}

ERROR_DESCRIPTIONS = {
    400: "The request is malformed: the body is not valid JSON, or a query parameter is wrong.",
    401: "No token, an unknown or revoked token, or the token's person is deactivated.",
    403: "The token's person may not do this (their role does not allow it).",
    404: "No such resource, or the token's person may not see it.",
    409: "The change conflicts with existing data (for example an email already in use).",
    415: "Send the body as application/json.",
    422: "The body is JSON but some fields are not valid; error.fields names each one.",
}

PAGE_PARAMETERS: list[dict[str, Any]] = [
    {"name": "page", "in": "query", "required": False,
     "description": "Page number, from 1.", "schema": {"type": "integer", "minimum": 1, "default": 1}},
    {"name": "per_page", "in": "query", "required": False,
     "description": "Items per page; values above 200 are capped at 200.",
     "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}},
]


def ref(schema_name: str) -> dict[str, str]:
    """A $ref to a component schema."""
    return {"$ref": f"#/components/schemas/{schema_name}"}


def json_body(schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    """A required application/json request body."""
    body: dict[str, Any] = {"required": True,
                            "content": {"application/json": {"schema": schema}}}
    if description:
        body["description"] = description
    return body


def json_response(description: str, schema: dict[str, Any],
                  headers: dict[str, Any] | None = None) -> dict[str, Any]:
    """A response with an application/json body."""
    response: dict[str, Any] = {"description": description,
                                "content": {"application/json": {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


def data_envelope(schema: dict[str, Any]) -> dict[str, Any]:
    """{"data": <schema>}: how a single resource is returned."""
    return {"type": "object", "required": ["data"], "properties": {"data": schema}}


def page_envelope(item: dict[str, Any]) -> dict[str, Any]:
    """{"data": [...], "meta": {...}, "links": {...}}: how a list is returned."""
    return {"type": "object", "required": ["data", "meta", "links"],
            "properties": {"data": {"type": "array", "items": item}, "meta": ref("PageMeta"),
                           "links": ref("PageLinks")}}


def errors(*statuses: int) -> dict[str, dict[str, str]]:
    """The documented error responses for these status codes (all share the Error shape)."""
    return {str(status): {"$ref": f"#/components/responses/Error{status}"} for status in statuses}


def operation(operation_id: str, tag: str, summary: str, description: str, responses: dict[str, Any],
              error_statuses: tuple[int, ...], body: dict[str, Any] | None = None,
              parameters: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """One documented operation: its responses plus the shared error responses for `error_statuses`."""
    documented: dict[str, Any] = {"operationId": operation_id, "tags": [tag], "summary": summary,
                                  "description": description,
                                  "responses": {**responses, **errors(*error_statuses)}}
    if body is not None:
        documented["requestBody"] = json_body(body)
    if parameters:
        documented["parameters"] = parameters
    return documented


def path_id(name: str) -> dict[str, Any]:
    """An integer id in the path, e.g. {touchpoint_id}."""
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}


def register_paths(paths: dict[str, dict[str, Any]], schemas: dict[str, dict[str, Any]] | None = None,
                   tags: dict[str, str] | None = None) -> None:
    """Add a capability's operations (paths relative to /api/v1), schemas and tag descriptions."""
    for path, operations in paths.items():
        if not path.startswith("/"):
            raise ValueError(f"OpenAPI path {path!r} must start with '/' (relative to {API_PREFIX}).")
        known = _paths.setdefault(path, {})
        clash = set(known) & set(operations)
        if clash and any(known[m] != operations[m] for m in clash):
            raise ValueError(f"OpenAPI path {path} already documents {', '.join(sorted(clash))}.")
        known.update(copy.deepcopy(operations))
    for name, schema in (schemas or {}).items():
        if name in _schemas and _schemas[name] != schema:
            raise ValueError(f"OpenAPI schema {name} is already registered with another shape.")
        _schemas[name] = copy.deepcopy(schema)
    _tags.update(tags or {})


def build_document() -> dict[str, Any]:
    """The whole OpenAPI 3.1 document, as a fresh dict."""
    responses = {
        f"Error{status}": json_response(description, ref("Error"))
        for status, description in ERROR_DESCRIPTIONS.items()
    }
    responses["Error401"]["headers"] = {
        "WWW-Authenticate": {"description": "Bearer realm=\"Touchpoints API\"",
                             "schema": {"type": "string"}}
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Touchpoints API",
            "version": API_VERSION,
            "summary": "People, teams and the human touchpoints around them, for HRIS "
                       "integration and automation.",
            "description": (
                "Authenticate with an API token issued by an HR partner (Settings → API tokens, "
                "or `flask tokens issue EMAIL`): `Authorization: Bearer tp_…`. A token acts with "
                "the permissions of the person it was issued for: HR partners see everyone, "
                "managers their direct and indirect reports, employees themselves. Records a "
                "token may not see answer 404, exactly as if they did not exist. Errors share "
                "one shape (`Error`); `error.fields` names each field at fault."
            ),
        },
        "servers": [{"url": API_PREFIX}],
        "security": [{"bearerAuth": []}],
        "tags": [{"name": name, "description": text} for name, text in sorted(_tags.items())],
        "paths": copy.deepcopy(dict(sorted(_paths.items()))),
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "tp_<43 characters>",
                               "description": "An API token, shown once when it is issued."},
            },
            "schemas": {"Error": copy.deepcopy(ERROR_SCHEMA),
                        "PageMeta": copy.deepcopy(PAGE_META_SCHEMA),
                        "PageLinks": copy.deepcopy(PAGE_LINKS_SCHEMA),
                        **copy.deepcopy(dict(sorted(_schemas.items())))},
            "responses": responses,
        },
    }


register_paths(
    {"/openapi.json": {"get": {
        "operationId": "getOpenApiDocument",
        "tags": ["Meta"],
        "summary": "This document",
        "description": "The OpenAPI 3.1 description of the API. Needs no token.",
        "security": [],
        "responses": {"200": json_response("The OpenAPI document.", {"type": "object"})},
    }}},
    tags={"Meta": "About the API itself."},
)
