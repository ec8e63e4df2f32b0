"""The OpenAPI document: valid 3.1, public, and covering every /api/v1 route."""
from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from touchpoints.api import openapi
from touchpoints.api.openapi import API_PREFIX, build_document, register_paths

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def documented_operations(document: dict) -> set[tuple[str, str]]:
    return {(path, method.upper()) for path, item in document["paths"].items()
            for method in item if method in {"get", "post", "put", "patch", "delete"}}


def routed_operations(app) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API_PREFIX + "/"):
            continue
        # Flask's <int:employee_id> is OpenAPI's {employee_id}.
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule[len(API_PREFIX):])
        found |= {(path, method) for method in rule.methods - IGNORED_METHODS}
    return found


def test_document_is_valid_openapi_3_1(client):
    response = client.get("/api/v1/openapi.json")  # no token needed
    assert response.status_code == 200
    document = response.json
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_api_route_is_documented_and_nothing_else(app):
    document = build_document()
    routed = routed_operations(app)
    assert routed, "no /api/v1 routes found"
    assert routed - documented_operations(document) == set(), "undocumented API endpoints"
    assert documented_operations(document) - routed == set(), "documented endpoints that do not exist"


def test_operations_say_how_they_fail_and_are_secured(app):
    document = build_document()
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert operation.get("operationId"), f"{method} {path} has no operationId"
            public = operation.get("security") == []
            if not public:
                assert "401" in operation["responses"], f"{method} {path} does not document 401"


def test_documented_refs_resolve(app):
    document = build_document()
    text = str(document)
    for name in re.findall(r"#/components/schemas/(\w+)", text):
        assert name in document["components"]["schemas"]
    for name in re.findall(r"#/components/responses/(\w+)", text):
        assert name in document["components"]["responses"]


def test_registering_paths_merges_and_refuses_clashes(monkeypatch):
    monkeypatch.setattr(openapi, "_paths", {})
    monkeypatch.setattr(openapi, "_schemas", {})
    monkeypatch.setattr(openapi, "_tags", {})
    operation = {"operationId": "listWidgets", "responses": {"200": {"description": "ok"}}}
    register_paths({"/widgets": {"get": operation}}, {"Widget": {"type": "object"}},
                   tags={"Widgets": "Things."})
    register_paths({"/widgets": {"post": {**operation, "operationId": "addWidget"}}})
    document = build_document()
    assert set(document["paths"]["/widgets"]) == {"get", "post"}
    assert document["components"]["schemas"]["Widget"] == {"type": "object"}
    validate(document)
    with pytest.raises(ValueError, match="already documents get"):
        register_paths({"/widgets": {"get": {**operation, "summary": "other"}}})
    with pytest.raises(ValueError, match="Widget"):
        register_paths({}, {"Widget": {"type": "string"}})
    with pytest.raises(ValueError, match="must start with"):
        register_paths({"widgets": {}})


def test_an_invalid_document_would_be_caught():
    document = build_document()
    document["paths"]["/me"]["get"]["responses"] = "nothing"
    with pytest.raises(OpenAPIValidationError):
        validate(document)
