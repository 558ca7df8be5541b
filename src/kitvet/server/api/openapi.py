"""The OpenAPI document as the API really answers: every error is a :data:`PROBLEM`
(``{"detail": "...", "place": "query.offset"}``), including validation errors (FastAPI's own
document would promise its list-shaped ``HTTPValidationError``), and every operation lists
the error statuses it can give. ``tests/server/test_fuzz_api.py`` holds answers to it."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

PROBLEM: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {"type": "string", "description": "What was wrong, in one sentence."},
        "place": {"anyOf": [{"type": "string"}, {"type": "null"}],
                  "description": "The parameter or document place at fault, if any."},
    },
}
_REF = {"$ref": "#/components/schemas/Problem"}
ERRORS = {
    "400": "Bad request (``place`` names what is wrong)",
    "401": "No valid credentials (or an expired or revoked token)",
    "403": "The credentials may not do this (role, scope or institution)",
    "404": "Not found, or not in the caller's scope",
    "409": "The estate refused the change (e.g. a conflicting state)",
    "422": "A parameter or body field is invalid (``place`` names it)",
    "429": "Too many requests",
}
INGEST_ERRORS = {
    "413": "The body, or the inventory after decompression, is too large",
    "415": "Not one of the accepted inventory formats",
}


def install(app: FastAPI) -> None:
    """Replace ``app.openapi`` with the corrected document (built once)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(title=app.title, version=app.version, description=app.description,
                          routes=app.routes)
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        schemas.pop("ValidationError", None)
        schemas["HTTPValidationError"] = schemas["Problem"] = PROBLEM
        for path, operations in doc.get("paths", {}).items():
            for op in operations.values():
                responses = op.setdefault("responses", {})
                errors = ERRORS | (INGEST_ERRORS if path.endswith("/snapshots") else {})
                for code, description in errors.items():
                    responses.setdefault(code, {"description": description,
                                                "content": {"application/json":
                                                            {"schema": _REF}}})
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
