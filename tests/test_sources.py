"""Articles as people have them: HTML bodies and fields, and URLs fetched by the server (service/sources.py)."""

from __future__ import annotations

import socket
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from service.app import create_app
from service.config import Settings

PAGES = Path(__file__).resolve().parent / "samples" / "pages"


def post(client, **body):
    return client.post("/v1/summarize", json=body)


def code(response) -> str:
    return response.get_json()["error"]["code"]


def assert_grounded_in(answer: dict) -> None:
    """Every source span points into the extracted text the answer returns."""
    text = answer["text"]
    for bullet, grounding in zip(answer["bullets"], answer["grounding"]["bullets"], strict=True):
        assert [text[s["start"] : s["end"]] for s in grounding["sources"]] == [bullet]


def test_an_html_field_is_extracted_and_the_text_comes_back(client):
    answer = post(client, html=(PAGES / "huawei.html").read_text(encoding="utf-8")).get_json()
    assert "Huawei" in answer["short"] and "<" not in answer["text"]
    assert_grounded_in(answer)
    assert "Like this" not in answer["text"]  # page furniture is not the article


def test_a_text_html_body_uses_its_charset_and_the_page_title(client):
    page = (PAGES / "wildfire_cp1252.html").read_bytes()
    response = client.post("/v1/summarize?style=bullets", data=page, content_type="text/html; charset=windows-1252")
    answer = response.get_json()
    assert response.status_code == 200 and "bullets" in answer and "short" not in answer
    assert_grounded_in(answer)
    assert "\ufffd" not in answer["text"]  # decoded, not mangled


def test_a_plain_text_answer_has_no_text_field(client):
    assert "text" not in post(client, text="The council met on Tuesday. It approved the budget.").get_json()


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"html": (PAGES / "front_page.html").read_text(encoding="utf-8")}, 422, "no_article"),
        ({"html": "<html><body><script>" + "x = 1;" * 10_000 + "</script></body></html>"}, 422, "no_article"),
        ({"html": "\x00\x01\x02 binary junk \xff\xfe" * 100}, 422, "no_article"),
        ({"html": ""}, 400, "invalid_field"),
        ({"text": "The council met.", "html": "<p>The council met.</p>"}, 400, "conflicting_input"),
        ({"url": "https://example.com/news"}, 400, "unknown_field"),  # fetching is off by default
        ({"title": "No article"}, 400, "missing_text"),
    ],
)
def test_pages_that_cannot_be_summarized_get_a_clear_error(client, body, status, error):
    response = post(client, **body)
    assert response.status_code == status and code(response) == error


def test_a_page_may_be_larger_than_a_text_body_up_to_its_own_limit(engine):
    """Real pages have 1-3 MB: a page body may reach `max_page_bytes`, a plain-text body only `max_body_bytes`."""
    small = create_app(Settings(max_body_bytes=50_000, max_page_bytes=200_000), engine).test_client()
    page = (PAGES / "huawei.html").read_text(encoding="utf-8")
    padded = page.replace("</body>", "<script>" + "x = 1;" * 20_000 + "</script></body>")  # 120 kB of script
    assert 50_000 < len(padded) < 200_000
    assert small.post("/v1/summarize", data=padded, content_type="text/html").status_code == 200
    assert post(small, html=padded).status_code == 200
    too_big = padded.replace("</body>", "<script>" + "y = 2;" * 20_000 + "</script></body>")
    for response in (small.post("/v1/summarize", data=too_big, content_type="text/html"), post(small, html=too_big)):
        assert response.status_code == 413 and code(response) in ("payload_too_large", "page_too_large")
    assert code(small.post("/v1/summarize", data=padded, content_type="text/plain")) == "payload_too_large"


@pytest.fixture(scope="module")
def origin():
    """A web server on loopback serving tests/samples/pages."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(PAGES)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def fetching(engine):
    """An app that fetches URLs and allows loopback (the test origin); another that does not allow it."""
    allowed = create_app(Settings(fetch_urls=True, fetch_allow="127.0.0.0/8"), engine).test_client()
    strict = create_app(Settings(fetch_urls=True), engine).test_client()
    return allowed, strict


def test_a_url_is_fetched_extracted_and_summarized(fetching, origin):
    allowed, _ = fetching
    answer = post(allowed, url=f"{origin}/council_budget.html").get_json()
    assert answer["short"] and answer["text"] and "<" not in answer["text"]
    assert_grounded_in(answer)


@pytest.mark.parametrize(
    ("path", "status", "error"),
    [("/missing.html", 502, "fetch_failed"), ("/../../etc/passwd", 502, "fetch_failed")],
)
def test_a_url_that_cannot_be_fetched_is_a_clear_error(fetching, origin, path, status, error):
    allowed, _ = fetching
    response = post(allowed, url=f"{origin}{path}")
    assert response.status_code == status and code(response) == error


def test_a_fetch_never_outlives_the_request(engine, origin):
    """The fetch gets what is left of the request's time (SUMMARIZER_REQUEST_TIMEOUT_S), not more."""
    stalled = socket.create_server(("127.0.0.1", 0))  # accepts connections, never answers
    settings = Settings(fetch_urls=True, fetch_allow="127.0.0.0/8", fetch_timeout_s=30, request_timeout_s=1)
    client = create_app(settings, engine).test_client()
    started = time.monotonic()
    response = post(client, url=f"http://127.0.0.1:{stalled.getsockname()[1]}/")
    assert response.status_code == 504 and code(response) == "fetch_timeout"
    assert time.monotonic() - started < 5
    stalled.close()


@pytest.mark.parametrize(
    ("url", "status", "error"),
    [
        ("http://127.0.0.1:9/", 403, "address_not_allowed"),
        ("http://[::1]/", 403, "address_not_allowed"),
        ("http://169.254.169.254/latest/meta-data/", 403, "address_not_allowed"),
        ("http://2130706433/", 403, "address_not_allowed"),
        ("http://user:pass@example.com/", 400, "url_not_allowed"),
        ("ftp://example.com/file", 400, "invalid_field"),  # not http(s): outside the schema
    ],
)
def test_private_addresses_are_refused_unless_allowed(fetching, url, status, error):
    _, strict = fetching
    response = post(strict, url=url)
    assert response.status_code == status and code(response) == error


def test_the_document_offers_url_only_when_fetching_is_on(client, fetching):
    allowed, _ = fetching

    def inputs(c):
        schema = c.get("/openapi.json").get_json()["components"]["schemas"]
        return {name for name in ("SummarizeText", "SummarizeHtml", "SummarizeUrl") if name in schema}

    assert inputs(client) == {"SummarizeText", "SummarizeHtml"}
    assert inputs(allowed) == {"SummarizeText", "SummarizeHtml", "SummarizeUrl"}
    assert allowed.get("/v1/info").get_json()["limits"]["fetch_urls"] is True
