"""The OpenAPI 3.1 document of the API (`GET /openapi.json`) and its interactive page (`GET /docs`).

The document is assembled with openapi-pydantic from the models in `service/protocol.py`
(the same models that validate requests), for this deployment's settings. The page is
Swagger UI from the `swagger-ui-py` package, served from here: no CDN, works offline.
Its examples are real answers of the service (`service/api_examples.json`, written by
`scripts/refresh_api_examples.py` and checked against the live app by the tests).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import swagger_ui
from flask import Blueprint, Response, current_app, jsonify, send_from_directory
from openapi_pydantic import OpenAPI
from openapi_pydantic.util import PydanticSchema, construct_open_api_with_schema_class
from pydantic import BaseModel

from service import __version__
from service.config import Settings
from service.protocol import ERRORS, BatchResponse, ErrorResponse, Health, Info, Ready, RequestModels, SummarizeResponse

EXAMPLES = Path(__file__).with_name("api_examples.json")
SWAGGER_ASSETS = Path(swagger_ui.__file__).with_name("static")
STATIC = Path(__file__).with_name("static")
# Swagger UI sets style attributes from its scripts; scripts still come from this origin only.
DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
SUMMARIZE_ERRORS = (400, 401, 403, 413, 415, 422, 500, 502, 503, 504)
TRANSPORT_ERRORS = "bad_request, not_found, method_not_allowed, request_timeout, uri_too_long, headers_too_large"

docs = Blueprint("docs", __name__)


@docs.get("/openapi.json")
def openapi_json() -> Response:
    return jsonify(current_app.extensions["openapi"])


@docs.get("/docs")
def docs_page() -> Response:
    response = send_from_directory(STATIC, "docs.html")
    response.headers["Content-Security-Policy"] = DOCS_CONTENT_SECURITY_POLICY
    return response


@docs.get("/docs/assets/<path:name>")
def docs_asset(name: str) -> Response:
    return send_from_directory(SWAGGER_ASSETS, name)


def document(models: RequestModels, settings: Settings) -> dict[str, Any]:
    """The OpenAPI document for a deployment with these settings."""
    examples = load_examples()
    option_schemas = models.options.model_json_schema()["properties"]
    text_options = [_query_parameter(name, schema) for name, schema in option_schemas.items()]
    paths = {
        "/v1/summarize": {
            "post": _operation(
                "Summarize one article",
                "A short summary and/or bullets, each grounded in character spans of the text sent (for a page: "
                "of the extracted `text` the answer returns). Send JSON with `text`, `html` or `url` (when fetching "
                "is on), or the article as a text/plain or text/html body with the options in the query string.",
                SummarizeResponse,
                SUMMARIZE_ERRORS,
                request={
                    "application/json": {
                        "schema": PydanticSchema(schema_class=models.summarize),
                        "example": examples["summarize"]["request"],
                    },
                    "text/plain": {"schema": {"type": "string", "minLength": 1}},
                    "text/html": {"schema": {"type": "string", "minLength": 1}},
                },
                parameters=text_options,
                example=examples["summarize"]["response"],
                secured=bool(settings.api_keys),
            )
        },
        "/v1/summarize/batch": {
            "post": _operation(
                "Summarize several articles",
                "Each document is its own job (it batches with other traffic and counts against the same limits); "
                "results come in input order, with an error object for a bad document instead of failing the call.",
                BatchResponse,
                tuple(status for status in SUMMARIZE_ERRORS if status != 422),
                request={
                    "application/json": {
                        "schema": PydanticSchema(schema_class=models.batch),
                        "example": examples["batch"]["request"],
                    }
                },
                example=examples["batch"]["response"],
                secured=bool(settings.api_keys),
            )
        },
        "/v1/info": {
            "get": _operation("Engine, limits and batching settings", "", Info, (401,), secured=bool(settings.api_keys))
        },
        "/healthz": {"get": _operation("Liveness", "200 while the process runs.", Health, ())},
        "/readyz": {"get": _operation("Readiness", "200 once the model is loaded and warmed up.", Ready, (503,))},
        "/metrics": {"get": _metrics_operation()},
    }
    spec = OpenAPI.model_validate(
        {
            "openapi": "3.1.0",
            "info": {
                "title": "Article summarizer",
                "version": __version__,
                "description": "A short summary and grounded bullets for a news article.",
            },
            "paths": paths,
            "components": {"securitySchemes": _security_schemes()} if settings.api_keys else {},
        }
    )
    built = construct_open_api_with_schema_class(spec)
    return built.model_dump(mode="json", by_alias=True, exclude_none=True)


@cache
def load_examples() -> dict[str, Any]:
    return json.loads(EXAMPLES.read_text(encoding="utf-8"))


def _operation(
    summary: str,
    description: str,
    answer: type[BaseModel],
    errors: tuple[int, ...],
    request: dict | None = None,
    parameters: list | None = None,
    example: Any = None,
    secured: bool = False,
) -> dict[str, Any]:
    ok: dict[str, Any] = {"schema": PydanticSchema(schema_class=answer)}
    if example is not None:
        ok["example"] = example
    responses = {"200": {"description": "OK", "content": {"application/json": ok}}}
    responses.update({str(status): _error_response(status) for status in errors})
    responses["default"] = {
        "description": f"Refused by the HTTP layer: {TRANSPORT_ERRORS}",
        "content": _error_content(),
    }
    operation: dict[str, Any] = {"summary": summary, "description": description, "responses": responses}
    if request:
        operation["requestBody"] = {"required": True, "content": request}
    if parameters:
        operation["parameters"] = parameters
    if secured:
        operation["security"] = [{"bearer": []}, {"api_key": []}]
    return operation


def _error_response(status: int) -> dict[str, Any]:
    codes = [code for code, (code_status, _) in ERRORS.items() if code_status == status]
    return {"description": "Error codes: " + ", ".join(codes), "content": _error_content()}


def _error_content() -> dict[str, Any]:
    return {"application/json": {"schema": PydanticSchema(schema_class=ErrorResponse)}}


def _query_parameter(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """An option of the JSON body as a query parameter (text/plain bodies); same schema."""
    description = f"with a text/plain body: {schema['description']}"
    schema = {key: value for key, value in schema.items() if key not in ("title", "description")}
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


def _metrics_operation() -> dict[str, Any]:
    return {
        "summary": "Prometheus metrics of the worker",
        "responses": {
            "200": {"description": "Prometheus text format", "content": {"text/plain": {"schema": {"type": "string"}}}}
        },
    }


def _security_schemes() -> dict[str, Any]:
    return {
        "bearer": {"type": "http", "scheme": "bearer", "description": "one of SUMMARIZER_API_KEYS"},
        "api_key": {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "one of SUMMARIZER_API_KEYS"},
    }
