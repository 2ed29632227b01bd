"""Request reading and validation (service/schema.py, service/protocol.py): codes, messages and values."""

import io
import json
from dataclasses import replace
from pathlib import Path

import pytest

from service.config import Settings
from service.domain import Options
from service.errors import ApiError
from service.protocol import RequestModels
from service.schema import parse_batch, parse_summarize, read_body, validate_summarize

ARTICLE = "The city council approved a new transit plan on Tuesday after months of debate."
JSON = "application/json"
SCHEMAS = Path(__file__).parent / "samples" / "request_schemas.json"


def refusal(response) -> tuple[int, str, str]:
    error = response.get_json()["error"]
    return response.status_code, error["code"], error["message"]


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (
            {"data": b'{"text": ', "content_type": JSON},
            (400, "invalid_json", "Malformed JSON: Expecting value (line 1, column 10)."),
        ),
        (
            {"data": b"[1]", "content_type": JSON},
            (400, "invalid_json", 'The JSON body must be an object such as {"text": "..."}.'),
        ),
        (
            {"data": b"[" * 10_000 + b"]" * 10_000, "content_type": JSON},
            (400, "invalid_json", "The JSON is nested too deeply."),
        ),
        (
            {"data": b'{"text": "caf\xe9"}', "content_type": JSON},
            (400, "invalid_encoding", "The body is not valid UTF-8 (byte 13)."),
        ),
        (
            {"data": b"x", "content_type": "text/html"},
            (422, "no_article", "The page is not html."),
        ),
        (
            {"data": b"<a/>", "content_type": "application/xml"},
            (
                415,
                "unsupported_media_type",
                "Send application/json or text/plain or text/html (Content-Type); got application/xml.",
            ),
        ),
        (
            {"data": b"x"},
            (
                415,
                "unsupported_media_type",
                "Send application/json or text/plain or text/html (Content-Type); got no Content-Type.",
            ),
        ),
        ({"json": {}}, (400, "missing_text", "The request has no `text` (nor `html`, nor `url`) to summarize.")),
        (
            {"json": {"text": None, "lang": 1}},
            (400, "missing_text", "The request has no `text` (nor `html`, nor `url`) to summarize."),
        ),
        ({"json": {"text": ""}}, (400, "empty_text", "`text` is empty or only whitespace.")),
        ({"json": {"text": " \n "}}, (400, "empty_text", "`text` is empty or only whitespace.")),
        ({"json": {"text": 42}}, (400, "invalid_field", "`text`: Input should be a valid string (got int).")),
        (
            {"json": {"text": ARTICLE, "lang": "en"}},
            (400, "unknown_field", "Unknown field `lang`. Allowed: text, title, style, max_bullets, short_max_words."),
        ),
        (
            {"json": {"text": ARTICLE, "style": "long"}},
            (400, "invalid_style", "`style` must be one of short, bullets, both, got 'long'."),
        ),
        (
            {"json": {"text": ARTICLE, "max_bullets": 0}},
            (400, "out_of_range", "`max_bullets`: Input should be greater than or equal to 1."),
        ),
        (
            {"json": {"text": ARTICLE, "short_max_words": 201}},
            (400, "out_of_range", "`short_max_words`: Input should be less than or equal to 200."),
        ),
        (
            {"json": {"text": ARTICLE, "max_bullets": 2.5}},
            (400, "invalid_field", "`max_bullets`: Input should be a valid integer (got float)."),
        ),
        (
            {"json": {"text": ARTICLE, "title": "t" * 1001}},
            (400, "title_too_long", "`title` is longer than 1000 characters."),
        ),
        ({"json": {"text": "word " * 5001}}, (413, "text_too_long", "`text` has 5001 words; the limit is 5000.")),
        (
            {"json": {"text": "a,a,a,a,a " * 1700}},
            (413, "text_too_long", "`text` has 15300 words and symbols; the limit is 15000."),
        ),
        (
            {"data": b"a" * 200_001, "content_type": "text/plain"},
            (413, "payload_too_large", "The body is larger than 200000 bytes."),
        ),
        (
            {"json": {"text": "... !!!"}},
            (422, "no_sentences", "No sentences were found in `text` after removing page debris."),
        ),
        (
            {"query_string": {"text": "x"}, "data": b"A b.", "content_type": "text/plain"},
            (400, "unknown_field", "With text/plain the article is the body, not a `text` parameter."),
        ),
        (
            {"query_string": {"max_bullets": "many"}, "data": b"A b.", "content_type": "text/plain"},
            (400, "invalid_field", "`max_bullets`: Input should be a valid integer (got str)."),
        ),
        (
            {"query_string": {"max_bullets": "+99"}, "data": b"A b.", "content_type": "text/plain"},
            (400, "out_of_range", "`max_bullets`: Input should be less than or equal to 10."),
        ),
        (
            {"query_string": {"style": "long"}, "json": {"text": ARTICLE, "style": "short"}},
            (400, "invalid_style", "`style` must be one of short, bullets, both, got 'long'."),
        ),
    ],
)
def test_each_refusal_has_its_status_code_and_message(client, request_, expected):
    assert refusal(client.post("/v1/summarize", **request_)) == expected


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (
            {"documents": []},
            (400, "out_of_range", "`documents`: List should have at least 1 item after validation, not 0."),
        ),
        (
            {"documents": [{"text": ARTICLE}] * 33},
            (400, "out_of_range", "`documents`: List should have at most 32 items after validation, not 33."),
        ),
        (
            {"documents": [{"text": ARTICLE, "id": "x" * 201}]},
            (400, "out_of_range", "`documents.0.id`: String should have at most 200 characters."),
        ),
        (
            {"documents": [5]},
            (
                400,
                "invalid_field",
                "`documents.0`: Input should be a valid dictionary or instance of BatchDocument (got int).",
            ),
        ),
        (
            {"documents": [{"id": "a", "title": "No text"}]},
            (400, "invalid_field", "`documents.0.text` is required."),
        ),
        (
            {"documents": [{"text": ARTICLE}], "short_max_words": 4},
            (400, "out_of_range", "`short_max_words`: Input should be greater than or equal to 5."),
        ),
    ],
)
def test_each_batch_refusal_has_its_status_code_and_message(client, payload, expected):
    assert refusal(client.post("/v1/summarize/batch", json=payload)) == expected


def test_a_batch_must_be_json(client):
    response = client.post("/v1/summarize/batch", data=b"x", content_type="text/plain")
    assert refusal(response) == (415, "unsupported_media_type", "Send application/json (Content-Type); got text/plain.")


# -- read_body ---------------------------------------------------------------------------------------------


class Stream(io.BytesIO):
    """A request body; reading past `fail_after` bytes raises like a client that went away."""

    def __init__(self, data: bytes, fail_after: int | None = None):
        super().__init__(data)
        self.fail_after, self.reads = fail_after, 0

    def read(self, size=-1):
        self.reads += 1
        if self.fail_after is not None and self.tell() >= self.fail_after:
            raise OSError("connection reset")
        return super().read(size)


def api_error(call) -> tuple[int, str, str]:
    with pytest.raises(ApiError) as caught:
        call()
    return caught.value.status, caught.value.code, caught.value.message


def test_a_body_announced_over_the_limit_is_refused_unread():
    stream = Stream(b"x" * 10)
    assert api_error(lambda: read_body(stream, 101, 100)) == (
        413,
        "payload_too_large",
        "The body is larger than 100 bytes.",
    )
    assert stream.reads == 0


def test_a_body_is_read_whole_in_chunks_up_to_its_limit():
    body = b"x" * 150_000  # three reads of 65,536 bytes
    assert read_body(Stream(body), len(body), len(body)) == body
    assert read_body(Stream(body), None, len(body)) == body
    assert api_error(lambda: read_body(Stream(body), None, len(body) - 1))[:2] == (413, "payload_too_large")


def test_reading_stops_at_the_content_length():
    stream = Stream(b"x" * 100, fail_after=100)  # a keep-alive connection: reading on would block
    assert read_body(stream, 100, 1_000) == b"x" * 100


def test_a_short_or_broken_body_is_never_summarized():
    assert api_error(lambda: read_body(Stream(b"x" * 5), 10, 100)) == (
        400,
        "invalid_body",
        "The body has 5 bytes; Content-Length announced 10.",
    )
    assert api_error(lambda: read_body(Stream(b"x" * 70_000, fail_after=65_536), 70_000, 100_000)) == (
        400,
        "invalid_body",
        "The request body could not be read: OSError.",
    )


# -- parsing into requests ------------------------------------------------------------------------------------

SETTINGS = Settings(max_bullets=4, short_max_words=30, short_max_words_limit=90, max_input_words=100)


def models() -> RequestModels:
    """Built in each test, not at import: what a test checks is then what it built."""
    return RequestModels.for_settings(SETTINGS)


def test_options_default_to_the_settings_and_json_overrides_the_query():
    parsed = parse_summarize(json.dumps({"text": ARTICLE}).encode(), JSON, {}, models(), SETTINGS)
    assert parsed.options == Options(style="both", max_bullets=4, short_max_words=30)
    assert (parsed.article.text, parsed.article.words, parsed.article.title, parsed.article.warnings) == (
        ARTICLE,
        14,
        None,
        (),
    )
    body = json.dumps({"text": ARTICLE, "max_bullets": 2, "title": ""}).encode()
    mixed = parse_summarize(body, JSON, {"max_bullets": "5", "style": "short"}, models(), SETTINGS)
    assert mixed.options == Options(style="short", max_bullets=2, short_max_words=30) and mixed.article.title is None


def test_plain_text_takes_numbers_from_the_query_string():
    parsed = parse_summarize(
        ARTICLE.encode(), "text/plain", {"short_max_words": "+0012", "max_bullets": "3"}, models(), SETTINGS
    )
    assert (parsed.options.max_bullets, parsed.options.short_max_words, parsed.article.text) == (3, 12, ARTICLE)
    with pytest.raises(ApiError, match="greater than or equal to 5"):
        parse_summarize(ARTICLE.encode(), "text/plain", {"short_max_words": "-0012"}, models(), SETTINGS)
    too_many_digits = {"max_bullets": "1" + "0" * 9}
    assert api_error(lambda: parse_summarize(ARTICLE.encode(), "text/plain", too_many_digits, models(), SETTINGS))[
        :2
    ] == (400, "invalid_field")


def test_unpaired_surrogates_become_replacement_characters_in_place():
    fields = {"text": "Rain \ud800fell \udfff on Monday.", "title": "Storm \ud83d"}
    parsed = validate_summarize(fields, models(), SETTINGS)
    assert parsed.article.text == "Rain \ufffdfell \ufffd on Monday." and parsed.article.title == "Storm \ufffd"
    assert parsed.article.warnings == ("3 unpaired surrogate code point(s) were replaced with U+FFFD",)


def test_a_batch_keeps_each_documents_own_refusal_and_shares_the_options():
    body = json.dumps(
        {
            "documents": [{"id": "a", "text": ARTICLE}, {"id": "b", "text": " "}, {"text": "word " * 101}],
            "style": "bullets",
        }
    ).encode()
    parsed = parse_batch(body, JSON, models(), SETTINGS)
    assert parsed.options == Options(style="bullets", max_bullets=4, short_max_words=30)
    (first_id, first), (second_id, second), (third_id, third) = parsed.items
    assert (first_id, first.text, first.words) == ("a", ARTICLE, 14)
    assert (second_id, second.code, third_id, third.code) == ("b", "empty_text", None, "text_too_long")


def test_the_request_schemas_are_the_documented_contract():
    """A change here changes the API: update tests/samples/request_schemas.json with it (see `schemas()`)."""
    assert schemas() == json.loads(SCHEMAS.read_text())


def schemas() -> dict:
    """JSON Schemas of the request models for some non-default settings (to regenerate the file:
    `python -c "import json, tests.test_schema as t; print(json.dumps(t.schemas(), indent=1))"`)."""
    built = models()
    fetching = RequestModels.for_settings(replace(SETTINGS, fetch_urls=True))
    return {
        **{name: getattr(built, name).model_json_schema() for name in ("options", "summarize", "document", "batch")},
        "summarize_with_urls": fetching.summarize.model_json_schema(),
    }
