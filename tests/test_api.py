"""The HTTP contract of /v1/summarize, /healthz, /readyz and /v1/info (real embedded model)."""

import json

import pytest

from service.app import create_app
from service.config import Settings
from service.text import count_words

ARTICLE = (
    "The city council approved a new transit plan on Tuesday after months of debate. "
    "The plan adds three bus lines and extends the tram to the airport by 2027. "
    "Council members said the project will cost about $1.2 billion over ten years. "
    "Opponents argued that the money should go to road repairs instead. "
    "Mayor Ana Silva called the vote a turning point for the region's commuters. "
    "Construction on the first bus line is set to begin next spring."
)


def post(client, **body):
    return client.post("/v1/summarize", json=body)


def error_code(response):
    assert response.is_json, response.data
    return response.get_json()["error"]["code"]


@pytest.mark.parametrize("style", ["short", "bullets", "both"])
def test_each_style_returns_what_it_asks_for(client, style):
    response = post(client, text=ARTICLE, style=style)
    assert response.status_code == 200
    body = response.get_json()
    assert ("short" in body) == (style in ("short", "both"))
    assert ("bullets" in body) == (style in ("bullets", "both"))
    if "short" in body:
        assert isinstance(body["short"], str) and body["short"]
    if "bullets" in body:
        assert 3 <= len(body["bullets"]) <= 5
        assert len(set(body["bullets"])) == len(body["bullets"])
        assert all(bullet.rstrip('"”').endswith((".", "!", "?")) for bullet in body["bullets"])
    assert body["engine"]["name"] == "embedded"
    assert body["stats"]["input_words"] == count_words(ARTICLE)
    assert body["stats"]["sentences"] == 6
    assert body["stats"]["latency_ms"] > 0
    assert body["stats"]["input_tokens"] > body["stats"]["content_words"]  # word pieces plus [CLS]/[SEP]


def test_default_style_is_both(client):
    body = post(client, text=ARTICLE).get_json()
    assert "short" in body and "bullets" in body


def test_grounding_spans_point_at_the_returned_text(client, huawei_text):
    body = post(client, text=huawei_text).get_json()
    short_sources = body["grounding"]["short"]["sources"]
    assert " ".join(huawei_text[s["start"] : s["end"]] for s in short_sources) == body["short"]
    for bullet, grounding in zip(body["bullets"], body["grounding"]["bullets"], strict=True):
        assert [huawei_text[s["start"] : s["end"]] for s in grounding["sources"]] == [bullet]
        assert grounding["support"] == 1.0


def test_bullets_keep_document_order(client, huawei_text):
    body = post(client, text=huawei_text, style="bullets").get_json()
    starts = [g["sources"][0]["start"] for g in body["grounding"]["bullets"]]
    assert starts == sorted(starts)


def test_scraped_sample_comes_out_clean(client, huawei_text):
    body = post(client, text=huawei_text).get_json()
    everything = " ".join([body["short"], *body["bullets"]])
    for debris in ("Published", "Bruce West", "Like this", "USA urges allies to shun Huawei Technologies", "Money |"):
        assert debris not in everything
    assert body["stats"]["removed"][:2] == ["Published: Sun, November 25, 2018", "Money | By Bruce West"]
    assert body["stats"]["removed"][-1] == "Like this:"
    # Who warned whom about what.
    short = body["short"]
    assert "US officials" in short and "warn" in short and "Huawei" in short and "cybersecurity risk" in short


def test_max_bullets_and_short_length_are_honoured(client):
    body = post(client, text=ARTICLE, max_bullets=2, short_max_words=20).get_json()
    assert len(body["bullets"]) == 2
    assert count_words(body["short"]) <= 20


def test_title_is_accepted_and_not_repeated(client):
    body = post(client, text="Transit Plan Approved\n" + ARTICLE, title="Transit Plan Approved").get_json()
    assert all("Transit Plan Approved" not in bullet for bullet in body["bullets"])


def test_plain_text_body_with_query_options(client):
    response = client.post(
        "/v1/summarize?style=bullets&max_bullets=3", data=ARTICLE.encode(), content_type="text/plain; charset=utf-8"
    )
    assert response.status_code == 200
    body = response.get_json()
    assert "short" not in body and len(body["bullets"]) == 3


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"data": b'{"text": ', "content_type": "application/json"}, 400, "invalid_json"),
        ({"data": b"[1, 2]", "content_type": "application/json"}, 400, "invalid_json"),
        ({"data": ARTICLE.encode(), "content_type": "application/xml"}, 415, "unsupported_media_type"),
        ({"data": ARTICLE.encode()}, 415, "unsupported_media_type"),
        ({"json": {}}, 400, "missing_text"),
        ({"json": {"text": None}}, 400, "missing_text"),
        ({"json": {"text": ""}}, 400, "empty_text"),
        ({"json": {"text": " \n\t "}}, 400, "empty_text"),
        ({"json": {"text": 42}}, 400, "invalid_field"),
        ({"json": {"text": "... --- !!!"}}, 422, "no_sentences"),
        ({"json": {"text": ARTICLE, "style": "long"}}, 400, "invalid_style"),
        ({"json": {"text": ARTICLE, "max_bullets": 0}}, 400, "out_of_range"),
        ({"json": {"text": ARTICLE, "max_bullets": 11}}, 400, "out_of_range"),
        ({"json": {"text": ARTICLE, "max_bullets": "3"}}, 400, "invalid_field"),
        ({"json": {"text": ARTICLE, "max_bullets": True}}, 400, "invalid_field"),
        ({"json": {"text": ARTICLE, "short_max_words": 2}}, 400, "out_of_range"),
        ({"json": {"text": ARTICLE, "short_max_words": 10_000}}, 400, "out_of_range"),
        ({"json": {"text": ARTICLE, "title": ["x"]}}, 400, "invalid_field"),
        ({"json": {"text": ARTICLE, "lang": "en"}}, 400, "unknown_field"),
        ({"data": b'{"text": "caf\xe9 au lait."}', "content_type": "application/json"}, 400, "invalid_encoding"),
        ({"data": b"\xff\xfe\xfd", "content_type": "text/plain"}, 400, "invalid_encoding"),
        (
            {"query_string": {"max_bullets": "many"}, "data": b"Some text here.", "content_type": "text/plain"},
            400,
            "invalid_field",
        ),
        (
            {"query_string": {"text": "x"}, "data": b"Some text here.", "content_type": "text/plain"},
            400,
            "unknown_field",
        ),
    ],
)
def test_bad_requests_get_json_errors(client, kwargs, status, code):
    response = client.post("/v1/summarize", **kwargs)
    assert response.status_code == status
    assert error_code(response) == code
    assert response.get_json()["error"]["message"]


def test_too_many_words_is_rejected(client, settings):
    response = post(client, text="word " * (settings.max_input_words + 1))
    assert response.status_code == 413 and error_code(response) == "text_too_long"


def test_body_too_large_is_rejected_before_reading(client, settings):
    body = json.dumps({"text": "a" * (settings.max_page_bytes + 10)})  # JSON may carry a page
    response = client.post("/v1/summarize", data=body, content_type="application/json")
    assert response.status_code == 413 and error_code(response) == "payload_too_large"
    text = "a" * (settings.max_body_bytes + 10)
    response = client.post("/v1/summarize", data=text, content_type="text/plain")
    assert response.status_code == 413 and error_code(response) == "payload_too_large"


def test_only_a_page_may_be_larger_than_the_body_limit(client, settings):
    """A JSON `text` is held to SUMMARIZER_MAX_BODY_BYTES; a JSON `html` page to SUMMARIZER_MAX_PAGE_BYTES."""
    text = json.dumps({"text": "A sentence here. " * (settings.max_body_bytes // 17 + 1)})
    response = client.post("/v1/summarize", data=text, content_type="application/json")
    assert response.status_code == 413 and error_code(response) == "payload_too_large"
    assert f"{settings.max_body_bytes} bytes" in response.get_json()["error"]["message"]
    page = "<html><body><article><p>" + "A sentence here. " * (settings.max_body_bytes // 17 + 1) + "</p></article>"
    response = client.post("/v1/summarize", json={"html": page + "</body></html>"})
    assert error_code(response) == "text_too_long"  # read and extracted: past the body limit, within the page's


def test_unknown_route_and_wrong_method_are_json(client):
    assert client.get("/nope").status_code == 404
    assert error_code(client.get("/nope")) == "not_found"
    response = client.get("/v1/summarize")
    assert response.status_code == 405 and error_code(response) == "method_not_allowed"
    assert "POST" in response.headers["Allow"]


def test_unexpected_errors_are_json_500(settings, engine):
    app = create_app(settings, engine)

    @app.get("/boom")
    def boom():
        raise RuntimeError("kaboom")

    response = app.test_client().get("/boom")
    assert response.status_code == 500 and error_code(response) == "internal_error"
    assert "kaboom" not in response.get_data(as_text=True)


def test_health_ready_and_info(client, settings):
    assert client.get("/healthz").get_json() == {"status": "alive"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["status"] == "ready"
    info = client.get("/v1/info").get_json()
    assert info["engine"]["engine"] == "embedded"
    assert info["engine"]["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert info["limits"]["max_body_bytes"] == settings.max_body_bytes
    assert info["limits"]["max_input_words"] == settings.max_input_words
    assert info["version"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"[" * 10_000 + b"]" * 10_000, "invalid_json"),
        (b'{"text": "a b c.", "max_bullets": ' + b"9" * 5_000 + b"}", "invalid_json"),
        (b'{"text": 1e999999}', "invalid_field"),
    ],
    ids=["nested", "huge-integer", "huge-float"],
)
def test_pathological_json_is_a_400(client, body, code):
    response = client.post("/v1/summarize", data=body, content_type="application/json")
    assert response.status_code == 400 and error_code(response) == code


def test_unpaired_surrogates_are_replaced_and_reported(client):
    body = b'{"text": "' + ARTICLE.encode() + b' \\ud800 The end came on Friday.", "title": "Plan \\udfff"}'
    response = client.post("/v1/summarize", data=body, content_type="application/json")
    assert response.status_code == 200
    result = response.get_json()
    assert any("surrogate" in warning and "U+FFFD" in warning for warning in result["warnings"])
    assert all("\ud800" not in bullet for bullet in result["bullets"])


def test_long_titles_and_symbol_floods_are_refused(client, settings):
    assert error_code(post(client, text=ARTICLE, title="t" * 1_001)) == "title_too_long"
    assert post(client, text=ARTICLE, title="t" * 1_000).status_code == 200
    flood = post(client, text="a,a,a,a,a " * (settings.max_input_words * 3 // 9 + 1))
    assert flood.status_code == 413 and "symbols" in flood.get_json()["error"]["message"]


def test_a_repeated_sentence_comes_back_once(client):
    body = post(client, text="The dam burst on Monday and flooded the valley. " * 500).get_json()
    assert body["bullets"] == ["The dam burst on Monday and flooded the valley."]
    assert body["short"] == "The dam burst on Monday and flooded the valley."


def test_text_without_punctuation_still_respects_the_short_word_limit(client):
    words = " ".join(f"word{n % 50}" for n in range(4_000))
    body = post(client, text=words, short_max_words=30).get_json()
    assert count_words(body["short"]) == 30 and words.startswith(body["short"])
    assert all(count_words(bullet) <= 80 for bullet in body["bullets"])
    assert any("cut" in warning for warning in body["warnings"])
    (source,) = body["grounding"]["short"]["sources"]
    assert words[source["start"] : source["end"]] == body["short"]


def test_a_chinese_article_is_summarized_with_its_language_and_a_warning(client):
    text = "北京市政府周二宣布了一项新的城市交通计划。该计划将增加三条公交线路。市长表示项目将在明年完工。"
    body = post(client, text=text).get_json()
    assert (
        body["stats"]["language"] == "zh"
        and body["stats"]["sentences"] == 3
        and body["stats"]["input_words"] == count_words(text) == 44
    )
    assert body["short"] in text and any("English only" in warning for warning in body["warnings"])


# -- POST /v1/summarize/batch -------------------------------------------------------------------------

OTHER = "Heavy rain flooded dozens of homes in the valley overnight. Rescue teams evacuated more than 200 residents."


def test_a_batch_keeps_input_order_and_reports_bad_documents_alone(client):
    documents = [
        {"id": "transit", "text": ARTICLE},
        {"id": "blank", "text": "   "},
        {"text": OTHER, "title": "Floods"},
        {"id": "debris", "text": "... !!!"},
    ]
    body = client.post("/v1/summarize/batch", json={"documents": documents, "style": "short"}).get_json()
    assert [r["id"] for r in body["results"]] == ["transit", "blank", None, "debris"]
    assert [r["error"]["code"] if r["error"] else None for r in body["results"]] == [
        None,
        "empty_text",
        None,
        "no_sentences",
    ]
    assert body["results"][0]["summary"]["short"] == post(client, text=ARTICLE, style="short").get_json()["short"]
    assert (
        body["results"][2]["summary"]["short"].startswith("Heavy rain")
        and "bullets" not in body["results"][2]["summary"]
    )
    assert body["stats"] == {**body["stats"], "documents": 4, "summarized": 2, "failed": 2}


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"documents": []}, 400, "out_of_range"),
        ({"documents": [{"text": ARTICLE}] * 33}, 400, "out_of_range"),
        ({"documents": "text"}, 400, "invalid_field"),
        ({}, 400, "invalid_field"),
        ({"documents": [{"text": ARTICLE, "lang": "en"}]}, 400, "unknown_field"),
        ({"documents": [{"text": ARTICLE}], "style": "long"}, 400, "invalid_style"),
        ({"documents": [{"text": ARTICLE, "id": "x" * 201}]}, 400, "out_of_range"),
    ],
)
def test_a_batch_outside_the_schema_fails_whole(client, payload, status, code):
    response = client.post("/v1/summarize/batch", json=payload)
    assert response.status_code == status and error_code(response) == code


def test_the_documents_of_a_call_share_engine_calls(engine):
    app = create_app(Settings(), engine)
    texts = [ARTICLE, OTHER, ARTICLE.replace("Tuesday", "Monday"), OTHER.replace("valley", "city")]
    registry = app.extensions["summarizer"].metrics.registry
    response = app.test_client().post("/v1/summarize/batch", json={"documents": [{"text": t} for t in texts]})
    assert response.status_code == 200 and response.get_json()["stats"]["summarized"] == 4
    assert registry.get_sample_value("summarizer_batch_size_count") == 1
    assert registry.get_sample_value("summarizer_batch_size_sum") == 4


# -- readiness, draining, titles ------------------------------------------------------------------------------


def test_readyz_is_503_not_ready_when_the_batching_thread_is_gone(engine):
    import threading

    app = create_app(Settings(), engine)
    client = app.test_client()
    assert client.get("/readyz").status_code == 200
    finished = threading.Thread(target=lambda: None)
    finished.start()
    finished.join()
    app.extensions["summarizer"].batcher._thread = finished  # the batcher's thread has died
    response = client.get("/readyz")
    assert (response.status_code, error_code(response)) == (503, "not_ready")
    assert response.get_json()["error"]["message"] == "The engine is not available."
    assert response.headers["Retry-After"] == "1"
    assert client.get("/healthz").status_code == 200  # alive, not ready: restart rather than route traffic


def test_a_draining_worker_is_not_ready_and_takes_no_new_summaries(engine, monkeypatch):
    import threading

    from service import runtime

    app = create_app(Settings(), engine)
    monkeypatch.setattr(runtime, "_draining", threading.Event())  # this test's own, not the process's
    runtime.begin_draining()
    client = app.test_client()
    ready = client.get("/readyz")
    assert (ready.status_code, error_code(ready)) == (503, "shutting_down")
    summary = post(client, text=ARTICLE)
    assert (summary.status_code, error_code(summary), summary.headers["Retry-After"]) == (503, "shutting_down", "1")
    batch = client.post("/v1/summarize/batch", json={"documents": [{"text": ARTICLE}]})
    assert (batch.status_code, error_code(batch)) == (503, "shutting_down")


def test_the_title_given_is_dropped_from_the_text_even_when_printed_once(client):
    headline = "City council approves a new transit plan after months of debate"  # a long line: not a section label
    text = f"{headline}\n{ARTICLE}"
    untitled = post(client, text=text, style="bullets", max_bullets=10).get_json()
    assert untitled["stats"]["sentences"] == 7 and untitled["stats"]["removed"] == []
    titled = post(client, text=text, title=headline, style="bullets", max_bullets=10).get_json()
    assert titled["stats"]["sentences"] == 6 and titled["stats"]["removed"] == [headline]
    assert all(headline not in bullet for bullet in titled["bullets"])


def test_an_api_error_carries_its_status_code_message_and_headers():
    from service.errors import ApiError

    error = ApiError(503, "overloaded", "Too many requests.", {"Retry-After": "1"})
    assert (error.status, error.code, error.message, error.headers, str(error)) == (
        503,
        "overloaded",
        "Too many requests.",
        {"Retry-After": "1"},
        "Too many requests.",
    )
    assert ApiError(400, "bad_request", "No.").headers == {}
