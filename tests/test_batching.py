"""Dynamic batching: shared engine calls, bounded queue, timeouts, cancellations, metrics."""
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from service.app import create_app
from service.batching import Batcher, Disconnected, Overloaded, TimedOut
from service.config import Settings
from service.engines.base import Job, Options
from service.metrics import Metrics
from service.text import prepare


def jobs_from(texts):
    return [Job(prepare(text), Options()) for text in texts]


def batches(metrics: Metrics) -> tuple[float, float]:
    """(number of engine calls, jobs they carried)."""
    registry = metrics.registry
    return registry.get_sample_value("summarizer_batch_size_count"), registry.get_sample_value("summarizer_batch_size_sum")


@pytest.fixture()
def long_text(huawei_text):
    return "\n".join([huawei_text] * 8)


def test_concurrent_jobs_share_engine_calls_and_get_their_own_results(engine, huawei_text):
    metrics = Metrics()
    batcher = Batcher(engine, metrics, max_batch=16, max_wait_ms=200)
    texts = [huawei_text, "The dam burst on Monday, flooding three villages. Hundreds of people fled to higher ground."] * 4
    jobs = jobs_from(texts)
    expected = [engine.summarize([job])[0] for job in jobs]
    start = threading.Barrier(len(jobs))

    def submit(job):
        start.wait()
        return batcher.submit(job, timeout_s=60)

    with ThreadPoolExecutor(len(jobs)) as pool:
        results = list(pool.map(submit, jobs))
    assert [r.short.text for r in results] == [e.short.text for e in expected]
    assert [[b.text for b in r.bullets] for r in results] == [[b.text for b in e.bullets] for e in expected]
    calls, carried = batches(metrics)
    assert carried == len(jobs) and calls < len(jobs)


def test_full_queue_is_refused_at_once(engine, long_text):
    batcher = Batcher(engine, Metrics(), max_batch=1, max_wait_ms=0, max_queue=1)
    outcomes = []
    start = threading.Barrier(12)

    def submit(job):
        start.wait()
        try:
            batcher.submit(job, timeout_s=120)
            outcomes.append("ok")
        except Overloaded:
            outcomes.append("overloaded")

    with ThreadPoolExecutor(12) as pool:
        list(pool.map(submit, jobs_from([long_text] * 12)))
    assert "overloaded" in outcomes and "ok" in outcomes


def test_timed_out_and_abandoned_jobs_are_cancelled_and_skipped(engine, long_text):
    metrics = Metrics()
    batcher = Batcher(engine, metrics, max_batch=1, max_wait_ms=0)
    busy = threading.Thread(target=batcher.submit, args=(jobs_from([long_text])[0], 120))
    busy.start()
    while batches(metrics)[0] is None or batches(metrics)[0] < 1:  # the first job is running
        threading.Event().wait(0.01)
    with pytest.raises(TimedOut):
        batcher.submit(jobs_from(["A short story about a cat. It sat down."])[0], timeout_s=0)
    with pytest.raises(Disconnected):
        batcher.submit(jobs_from(["Another story about a dog. It ran off."])[0], timeout_s=60, disconnected=lambda: True)
    busy.join()
    result = batcher.submit(jobs_from(["The last story is about a bird. It flew away."])[0], timeout_s=60)
    assert result.short.text.startswith("The last story")
    calls, carried = batches(metrics)
    assert (calls, carried) == (2, 2)  # the cancelled jobs never reached the engine


def test_overload_is_a_json_503_with_retry_after(engine, long_text):
    app = create_app(Settings(batch_max_size=2, batch_max_wait_ms=0, queue_max=1), engine)
    start = threading.Barrier(10)

    def post(_):
        client = app.test_client()
        start.wait()
        return client.post("/v1/summarize", json={"text": long_text})

    with ThreadPoolExecutor(10) as pool:
        responses = list(pool.map(post, range(10)))
    refused = [r for r in responses if r.status_code == 503]
    assert refused and all(r.get_json()["error"]["code"] == "overloaded" and r.headers["Retry-After"] for r in refused)
    assert any(r.status_code == 200 for r in responses)


def test_batching_can_be_turned_off(engine, huawei_text):
    app = create_app(Settings(batch_max_size=1), engine)
    assert app.extensions["summarizer"].batcher is None
    assert app.test_client().post("/v1/summarize", json={"text": huawei_text}).status_code == 200
    assert app.test_client().get("/v1/info").get_json()["batching"] is None


def test_metrics_endpoint_reports_requests_batches_and_load_time(client, huawei_text):
    client.post("/v1/summarize", json={"text": huawei_text, "style": "short"})
    client.post("/v1/summarize", json={"text": ""})
    text = client.get("/metrics").get_data(as_text=True)
    assert 'summarizer_requests_total{route="/v1/summarize",status="200",style="short"}' in text
    assert 'summarizer_requests_total{route="/v1/summarize",status="400",style=""}' in text
    for name in ("summarizer_request_seconds_bucket", "summarizer_batch_size_bucket", "summarizer_queue_depth",
                 "summarizer_model_load_seconds", "summarizer_input_words_bucket"):
        assert name in text
