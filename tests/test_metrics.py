"""Prometheus metric values after known traffic (service/metrics.py, service/api.py, service/batching.py).

Each test builds its own app on the session's real engine, so its registry starts at zero.
"""

import socket
from concurrent.futures import ThreadPoolExecutor

import pytest
from test_batching import gated_app, jobs_from, wait_until, within

from service.app import create_app
from service.config import Settings
from service.text import count_words, prepare

ARTICLE = (
    "The city council approved a new transit plan on Tuesday after months of debate. "
    "The plan adds three bus lines and extends the tram to the airport by 2027. "
    "Council members said the project will cost about $1.2 billion over ten years. "
    "Opponents argued that the money should go to road repairs instead."
)
OTHER = "Heavy rain flooded dozens of homes in the valley overnight. Rescue teams evacuated more than 200 residents."
SCRAPED = "Advertisement\n" + ARTICLE + "\nShare this:"  # debris: input words > content words


def value(app, name: str, labels: dict | None = None) -> float | None:
    return app.extensions["summarizer"].metrics.registry.get_sample_value(name, labels or {})


@pytest.fixture()
def fresh_app(engine):
    return create_app(Settings(), engine)


def test_article_sizes_are_recorded_per_summarized_article(fresh_app):
    client = fresh_app.test_client()
    answers = [client.post("/v1/summarize", json={"text": text}).get_json() for text in (SCRAPED, OTHER)]
    batch = client.post("/v1/summarize/batch", json={"documents": [{"text": ARTICLE}, {"text": "   "}]}).get_json()
    stats = [a["stats"] for a in answers] + [batch["results"][0]["summary"]["stats"]]
    documents = [prepare(text) for text in (SCRAPED, OTHER, ARTICLE)]
    assert value(fresh_app, "summarizer_input_words_count") == 3  # the blank document was refused, not summarized
    assert value(fresh_app, "summarizer_input_words_sum") == sum(d.words for d in documents)
    assert [s["content_words"] for s in stats] == [d.words for d in documents]
    assert stats[0]["input_words"] == count_words(SCRAPED) > stats[0]["content_words"]
    assert value(fresh_app, "summarizer_input_sentences_sum") == sum(len(d.sentences) for d in documents) == 2 + 4 + 4
    assert value(fresh_app, "summarizer_input_tokens_count") == 3
    assert value(fresh_app, "summarizer_input_tokens_sum") == sum(s["input_tokens"] for s in stats)
    small = sum(d.words <= 50 for d in documents)
    assert value(fresh_app, "summarizer_input_words_bucket", {"le": "50.0"}) == small == 1  # OTHER only


def test_requests_latency_and_batches_are_counted_by_route_status_and_style(fresh_app):
    client = fresh_app.test_client()
    client.post("/v1/summarize", json={"text": ARTICLE, "style": "short"})
    client.post("/v1/summarize", json={"text": ARTICLE, "style": "bullets"})
    client.post("/v1/summarize", json={"text": ""})
    client.get("/healthz")
    client.get("/nope")
    requests = "summarizer_requests_total"
    summarize = {"route": "/v1/summarize"}
    assert value(fresh_app, requests, {**summarize, "status": "200", "style": "short"}) == 1
    assert value(fresh_app, requests, {**summarize, "status": "200", "style": "bullets"}) == 1
    assert value(fresh_app, requests, {**summarize, "status": "400", "style": ""}) == 1
    assert value(fresh_app, requests, {"route": "/healthz", "status": "200", "style": ""}) == 1
    assert value(fresh_app, requests, {"route": "unmatched", "status": "404", "style": ""}) == 1
    assert value(fresh_app, "summarizer_request_seconds_count", summarize) == 3
    assert 0 < value(fresh_app, "summarizer_request_seconds_sum", summarize) < 60
    assert (value(fresh_app, "summarizer_batch_size_count"), value(fresh_app, "summarizer_batch_size_sum")) == (2, 2)
    assert value(fresh_app, "summarizer_late_jobs_total") == 0


def test_model_load_time_is_the_runtime_s(fresh_app):
    load = value(fresh_app, "summarizer_model_load_seconds")
    assert load == fresh_app.extensions["summarizer"].load_seconds > 0
    ready = fresh_app.test_client().get("/readyz").get_json()
    assert ready["load_seconds"] == round(load, 3)


def test_queue_depth_counts_the_jobs_waiting_for_the_batcher(engine):
    app, gated = gated_app(engine, Settings(batch_max_size=2, batch_max_wait_ms=0, queue_max=8))
    batcher = app.extensions["summarizer"].batcher
    with ThreadPoolExecutor(5) as pool:
        first = pool.submit(batcher.submit, jobs_from([ARTICLE])[0], within(60))
        assert gated.entered.wait(30)  # one batch runs; the next four jobs wait in the queue
        waiting = [pool.submit(batcher.submit, job, within(60)) for job in jobs_from([OTHER] * 4)]
        wait_until(lambda: value(app, "summarizer_queue_depth") == 4)
        gated.gate.set()
        assert all(f.result(timeout=60).short for f in [first, *waiting])
    assert value(app, "summarizer_queue_depth") == 0
    assert value(app, "summarizer_batch_size_sum") == 5  # the warm-up ran before the batcher existed


def test_refusals_are_counted_by_reason(engine):
    app, gated = gated_app(engine, Settings(batch_max_size=1, queue_max=0, request_timeout_s=30))
    with ThreadPoolExecutor(2) as pool:
        running = pool.submit(app.test_client().post, "/v1/summarize", json={"text": ARTICLE})
        assert gated.entered.wait(30)
        refused = [app.test_client().post("/v1/summarize", json={"text": OTHER}) for _ in range(3)]
        gated.gate.set()
        assert running.result().status_code == 200
    assert [r.status_code for r in refused] == [503] * 3
    assert value(app, "summarizer_rejected_total", {"reason": "queue_full"}) == 3
    assert value(app, "summarizer_rejected_total", {"reason": "timeout"}) is None


def test_a_client_that_hung_up_gets_499_and_is_counted(engine):
    """The hang-up check reads the socket gunicorn exposes; here one whose peer has closed."""
    app, gated = gated_app(engine, Settings())
    ours, theirs = socket.socketpair()
    theirs.close()
    try:
        response = app.test_client().post(
            "/v1/summarize", json={"text": ARTICLE}, environ_overrides={"gunicorn.socket": ours}
        )
    finally:
        gated.gate.set()
        ours.close()
    assert response.status_code == 499 and response.get_json()["error"]["code"] == "client_closed_request"
    assert value(app, "summarizer_rejected_total", {"reason": "client_gone"}) == 1


def test_a_job_finished_after_its_deadline_is_counted_late(engine):
    app, gated = gated_app(engine, Settings(request_timeout_s=1))
    batcher = app.extensions["summarizer"].batcher
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(batcher.submit, jobs_from([ARTICLE])[0], within(0.5))
        assert gated.entered.wait(30)  # the job started in time, and the engine holds it past its deadline
        assert type(waiting.exception(timeout=30)).__name__ == "TimedOut"
        gated.gate.set()
        wait_until(lambda: value(app, "summarizer_late_jobs_total") == 1)
