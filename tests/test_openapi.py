"""The OpenAPI document: valid, complete, its examples real answers; the docs page works offline."""

import copy
import re
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from service.openapi import load_examples
from service.protocol import ERRORS

SERVICE = Path(__file__).resolve().parents[1] / "service"
UNDOCUMENTED = ("/", "/docs", "/docs/assets/{name}", "/openapi.json", "/static/{filename}")  # pages, not API


@pytest.fixture(scope="module")
def document(app):
    return app.test_client().get("/openapi.json").get_json()


def test_the_document_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_route_is_documented(app, document):
    routes = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule) for rule in app.url_map.iter_rules()}
    documented = set(document["paths"])
    assert routes - set(UNDOCUMENTED) == documented


def test_every_error_code_the_code_raises_is_declared_and_documented(document):
    raised = set()
    for source in set(SERVICE.rglob("*.py")) - {SERVICE / "cli.py"}:  # the CLI's file problems are not HTTP
        text = source.read_text(encoding="utf-8")
        raised |= set(re.findall(r'ApiError\(\s*\d{3},\s*"(\w+)"', text))
        raised |= set(re.findall(r'\(\d{3}, "[\w ]+", "(\w+)"\)', text))  # gunicorn's refusals
    raised |= {"not_found", "method_not_allowed", "internal_error"}  # service/errors.py
    assert raised <= set(ERRORS), raised - set(ERRORS)
    schema = document["components"]["schemas"]["ErrorBody"]["properties"]["code"]
    assert set(schema["enum"]) == set(ERRORS)
    described = " ".join(
        r["description"] for p in document["paths"].values() for o in p.values() for r in o["responses"].values()
    )
    summarize_codes = {code for code, (status, _) in ERRORS.items() if status in (400, 401, 413, 415, 422, 503, 504)}
    assert all(code in described for code in summarize_codes)


def test_the_examples_are_real_answers(client):
    for name, example in load_examples().items():
        path = "/v1/summarize" if name == "summarize" else "/v1/summarize/batch"
        answer = client.post(path, json=example["request"]).get_json()
        assert _without_latency(answer) == _without_latency(example["response"]), (
            "stale examples: run .venv/bin/python scripts/refresh_api_examples.py"
        )


def _without_latency(value):
    value = copy.deepcopy(value)
    if isinstance(value, dict):
        return {k: _without_latency(v) for k, v in value.items() if k != "latency_ms"}
    if isinstance(value, list):
        return [_without_latency(v) for v in value]
    return value


def test_the_docs_page_and_its_assets_come_from_this_server(client):
    page = client.get("/docs")
    assert page.status_code == 200 and "script-src 'self'" in page.headers["Content-Security-Policy"]
    html = page.get_data(as_text=True)
    assert "<script>" not in html and "http" not in html  # no inline script, nothing from elsewhere
    for asset in re.findall(r'(?:src|href)="(/[^"]+)"', html):
        assert client.get(asset).status_code == 200, asset


def test_api_keys_appear_as_security_schemes(engine):
    from service.app import create_app
    from service.config import Settings

    document = create_app(Settings(api_keys="k"), engine).test_client().get("/openapi.json").get_json()
    assert set(document["components"]["securitySchemes"]) == {"bearer", "api_key"}
    assert document["paths"]["/v1/summarize"]["post"]["security"]
    assert "security" not in document["paths"]["/healthz"]["get"]
