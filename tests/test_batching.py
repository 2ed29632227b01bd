"""Dynamic batching: shared engine calls, bounded queue, timeouts, cancellations, metrics."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from service.app import create_app
from service.batching import Admission, Batcher, Disconnected, Overloaded, TimedOut
from service.config import Settings
from service.domain import Job, Options
from service.metrics import Metrics
from service.text import prepare


def within(seconds: float) -> float:
    """A deadline `seconds` from now."""
    return time.monotonic() + seconds


def jobs_from(texts):
    return [Job(prepare(text), Options()) for text in texts]


def batches(metrics: Metrics) -> tuple[float, float]:
    """(number of engine calls, jobs they carried)."""
    registry = metrics.registry
    return registry.get_sample_value("summarizer_batch_size_count"), registry.get_sample_value(
        "summarizer_batch_size_sum"
    )


def submit_together(batcher: Batcher, jobs: list) -> list:
    """Submit `jobs` from one thread each, all at once; each job's summary or exception, in order."""
    start = threading.Barrier(len(jobs))

    def submit(job):
        with batcher.preparing():
            start.wait()
        return batcher.submit(job, deadline=within(60))

    with ThreadPoolExecutor(len(jobs)) as pool:
        futures = [pool.submit(submit, job) for job in jobs]
        return [f.exception(timeout=60) or f.result() for f in futures]


def test_concurrent_jobs_share_engine_calls_and_get_their_own_results(engine, huawei_text):
    metrics = Metrics()
    batcher = Batcher(engine, metrics, max_batch=16, max_wait_ms=200, max_queue=64)
    texts = [
        huawei_text,
        "The dam burst on Monday, flooding three villages. Hundreds of people fled to higher ground.",
    ] * 4
    jobs = jobs_from(texts)
    single = {
        text: engine.summarize(jobs_from([text]))[0] for text in dict.fromkeys(texts)
    }  # one call per distinct text
    expected = [single[text] for text in texts]
    results = submit_together(batcher, jobs)
    assert [r.short.text for r in results] == [e.short.text for e in expected]
    assert [[b.text for b in r.bullets] for r in results] == [[b.text for b in e.bullets] for e in expected]
    calls, carried = batches(metrics)
    assert carried == len(jobs) and calls < len(jobs)


def test_the_batcher_waits_only_for_requests_being_prepared(engine):
    metrics = Metrics()
    batcher = Batcher(engine, metrics, max_batch=2, max_wait_ms=60_000, max_queue=64)
    lone, first, second = jobs_from(
        ["A lone story about a cat. It sat.", "A story about a dog. It ran.", "A story about a bird. It flew."]
    )
    assert batcher.submit(lone, deadline=within(30)).short.text.startswith("A lone story")  # not held for 60 s
    with batcher.preparing(), ThreadPoolExecutor(2) as pool:  # a request still being prepared: the batcher waits
        results = [pool.submit(batcher.submit, job, within(30)) for job in (first, second)]
        assert [r.result(timeout=30).short.text[:12] for r in results] == ["A story abou"] * 2
    assert batches(metrics) == (2, 3)  # the lone job, then both jobs in one call


def wait_until(condition, seconds: float = 30) -> None:
    """Poll until `condition()` holds; fail the test instead of hanging."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


class GatedEngine:
    """The real engine, held at the door until the test opens the gate."""

    def __init__(self, engine):
        self.engine = engine
        self.gate = threading.Event()
        self.entered = threading.Event()

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def summarize(self, jobs):
        self.entered.set()
        assert self.gate.wait(60), "the test never opened the gate"
        return self.engine.summarize(jobs)


def gated_app(engine, settings: Settings):
    """An app on a `GatedEngine` that is open for the warm-up, then closed: requests wait for `gate.set()`."""
    gated = GatedEngine(engine)
    gated.gate.set()
    app = create_app(settings, gated)
    gated.gate.clear()
    gated.entered.clear()
    return app, gated


def test_full_queue_is_refused_at_once(engine):
    gated = GatedEngine(engine)
    batcher = Batcher(gated, Metrics(), max_batch=1, max_wait_ms=0, max_queue=1)
    with ThreadPoolExecutor(6) as pool:
        running = pool.submit(batcher.submit, jobs_from(["A first story about a fox. It hid."])[0], within(60))
        assert gated.entered.wait(30)
        outcomes = [
            pool.submit(batcher.submit, job, within(60))
            for job in jobs_from([f"Story {n} is about a cat. It sat." for n in range(5)])
        ]
        wait_until(lambda: sum(f.done() for f in outcomes) >= 4)  # one job fits the queue; four are refused at once
        gated.gate.set()
        assert running.result().short.text.startswith("A first story")
    refused = [f for f in outcomes if isinstance(f.exception(), Overloaded)]
    assert len(refused) == 4 and sum(f.exception() is None for f in outcomes) == 1


def test_timed_out_and_abandoned_jobs_are_cancelled_and_skipped(engine):
    metrics = Metrics()
    gated = GatedEngine(engine)
    batcher = Batcher(gated, metrics, max_batch=1, max_wait_ms=0, max_queue=64)
    busy = threading.Thread(
        target=batcher.submit, args=(jobs_from(["The first story is about a fox. It hid."])[0], within(120))
    )
    busy.start()
    assert gated.entered.wait(30)  # the first job occupies the engine
    with pytest.raises(TimedOut):
        batcher.submit(jobs_from(["A short story about a cat. It sat down."])[0], deadline=within(0))
    with pytest.raises(Disconnected):
        batcher.submit(
            jobs_from(["Another story about a dog. It ran off."])[0], deadline=within(60), disconnected=lambda: True
        )
    gated.gate.set()
    busy.join()
    result = batcher.submit(jobs_from(["The last story is about a bird. It flew away."])[0], deadline=within(60))
    assert result.short.text.startswith("The last story")
    calls, carried = batches(metrics)
    assert (calls, carried) == (2, 2)  # the cancelled jobs never reached the engine


def test_overload_is_a_json_503_with_retry_after(engine, huawei_text):
    app, gated = gated_app(engine, Settings(batch_max_size=2, batch_max_wait_ms=0, queue_max=1))

    def post(_):
        return app.test_client().post("/v1/summarize", json={"text": huawei_text})

    with ThreadPoolExecutor(10) as pool:
        first = pool.submit(post, 0)
        assert gated.entered.wait(30)  # the engine is busy with the first request
        others = [pool.submit(post, n) for n in range(1, 10)]
        # the worker holds batch + queue = 3 jobs: two more are admitted, seven refused before their body is read
        wait_until(lambda: sum(f.done() for f in others) >= 7)
        gated.gate.set()
        responses = [first.result()] + [f.result() for f in others]
    refused = [r for r in responses if r.status_code == 503]
    assert len(refused) == 7 and all(
        r.get_json()["error"]["code"] == "overloaded" and r.headers["Retry-After"] for r in refused
    )
    assert sum(r.status_code == 200 for r in responses) == 3


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
    for name in (
        "summarizer_request_seconds_bucket",
        "summarizer_batch_size_bucket",
        "summarizer_queue_depth",
        "summarizer_model_load_seconds",
        "summarizer_input_words_bucket",
        "summarizer_input_tokens_bucket",
    ):
        assert name in text


def test_a_request_past_its_timeout_is_a_json_504(engine, huawei_text):
    app, gated = gated_app(engine, Settings(request_timeout_s=0))
    response = app.test_client().post("/v1/summarize", json={"text": huawei_text})
    gated.gate.set()
    app.extensions["summarizer"].batcher.submit(
        jobs_from(["A last story about a bird. It flew."])[0], within(30)
    )  # queue drained
    assert response.status_code == 504 and response.get_json()["error"]["code"] == "timeout"
    metrics = app.extensions["summarizer"].metrics.registry
    assert metrics.get_sample_value("summarizer_rejected_total", {"reason": "timeout"}) == 1


class FailingEngine:
    """The real engine, except that it raises for any batch holding a job whose text contains `poison`."""

    def __init__(self, engine, poison: str):
        self.engine, self.poison, self.batches = engine, poison, []

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def summarize(self, jobs):
        self.batches.append(len(jobs))
        if any(self.poison in job.document.text for job in jobs):
            raise ValueError("poisoned")
        return self.engine.summarize(jobs)


def test_a_failing_job_fails_alone_and_its_batch_mates_get_their_summaries(engine, caplog):
    caplog.set_level("WARNING", logger="service.batching")
    failing = FailingEngine(engine, "POISON")
    batcher = Batcher(failing, Metrics(), max_batch=8, max_wait_ms=500, max_queue=16)
    texts = [f"Story {n} is about a dog. It ran home." for n in range(5)] + ["POISON is here. It hurts."]
    outcomes = submit_together(batcher, jobs_from(texts))
    assert [isinstance(o, ValueError) for o in outcomes] == [False] * 5 + [True]
    assert [o.short.text for o in outcomes[:5]] == [f"Story {n} is about a dog." for n in range(5)]
    assert failing.batches[0] > 1 and failing.batches.count(1) >= len(texts)  # the batch, then job by job
    assert f"the engine failed on a batch of {failing.batches[0]} jobs (poisoned); retrying them one by one" in [
        r.getMessage() for r in caplog.records
    ]


def test_an_engine_error_reaches_the_waiting_request_at_once(engine):
    batcher = Batcher(FailingEngine(engine, "POISON"), Metrics(), max_batch=1, max_wait_ms=0, max_queue=4)
    started = time.monotonic()
    with pytest.raises(ValueError, match="poisoned"):
        batcher.submit(jobs_from(["POISON alone. Nothing else."])[0], within(60))
    assert time.monotonic() - started < 5


def test_a_job_that_cannot_finish_by_its_deadline_is_not_started(engine):
    gated = GatedEngine(engine)
    metrics = Metrics()
    batcher = Batcher(gated, metrics, max_batch=1, max_wait_ms=0, max_queue=4)
    batcher.batch_seconds = 5.0  # recent batches took 5 s
    gated.gate.set()
    with pytest.raises(TimedOut):
        batcher.submit(jobs_from(["A story about a cat. It sat."])[0], within(2))
    assert batches(metrics) == (0, 0)  # the engine never saw it
    assert batcher.submit(jobs_from(["A story about a dog. It ran."])[0], within(30)).short.text


def test_the_deadline_counts_from_arrival_and_the_504_comes_on_time(engine, huawei_text):
    app, gated = gated_app(engine, Settings(request_timeout_s=1))
    started = time.monotonic()
    response = app.test_client().post("/v1/summarize", json={"text": huawei_text})
    elapsed = time.monotonic() - started
    gated.gate.set()
    assert response.status_code == 504 and 1 <= elapsed < 1.5


def test_overload_is_refused_before_the_body_is_read(engine, huawei_text):
    """At capacity, even a malformed body gets 503 overloaded: it was never parsed."""
    app, gated = gated_app(engine, Settings(batch_max_size=1, queue_max=0))
    with ThreadPoolExecutor(2) as pool:
        running = pool.submit(app.test_client().post, "/v1/summarize", json={"text": huawei_text})
        assert gated.entered.wait(30)
        refused = app.test_client().post("/v1/summarize", data=b"{not json", content_type="application/json")
        gated.gate.set()
        assert running.result().status_code == 200
    assert refused.status_code == 503 and refused.get_json()["error"]["code"] == "overloaded"
    metrics = app.extensions["summarizer"].metrics.registry
    assert metrics.get_sample_value("summarizer_rejected_total", {"reason": "queue_full"}) == 1


def test_a_queue_of_zero_holds_only_the_running_batch(engine):
    app = create_app(Settings(batch_max_size=2, queue_max=0), engine)
    assert app.extensions["summarizer"].admission.capacity == 2


# -- the waiting policy and the batch-time estimate, in values ---------------------------------------------


def test_while_a_request_is_being_prepared_the_batcher_waits_max_wait_ms_and_no_longer(engine):
    batcher = Batcher(engine, Metrics(), max_batch=4, max_wait_ms=400, max_queue=8)
    (job,) = jobs_from(["A story about a cat. It sat."])
    with batcher.preparing():  # a request that never submits: the batcher waits for it, up to max_wait_ms
        started = time.monotonic()
        assert batcher.submit(job, within(30)).short.text == "A story about a cat."
        waited = time.monotonic() - started
    assert 0.4 <= waited < 5
    started = time.monotonic()
    batcher.submit(job, within(30))  # nobody being prepared: no wait
    assert time.monotonic() - started < waited


class TimedEngine:
    """The real engine, each call held for the next of `delays` seconds; records each call's duration."""

    def __init__(self, engine, delays):
        self.engine, self.delays, self.durations = engine, list(delays), []

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def summarize(self, jobs):
        started = time.monotonic()
        time.sleep(self.delays.pop(0))
        summaries = self.engine.summarize(jobs)
        self.durations.append(time.monotonic() - started)
        return summaries


def test_the_batch_time_estimate_is_the_first_call_then_a_running_average(engine):
    timed = TimedEngine(engine, [0.3, 1.3])
    batcher = Batcher(timed, Metrics(), max_batch=4, max_wait_ms=0, max_queue=8)
    assert batcher.batch_seconds == 0.0
    first, second = jobs_from(["A story about a cat. It sat.", "A story about a dog. It ran."])
    batcher.submit(first, within(30))
    assert batcher.batch_seconds == pytest.approx(timed.durations[0], abs=0.05)
    batcher.submit(second, within(30))
    one, two = timed.durations
    assert batcher.batch_seconds == pytest.approx(one + 0.2 * (two - one), abs=0.05)


def test_after_a_batch_the_batcher_expects_as_many_jobs_as_it_held_up_to_max_batch(engine):
    batcher = Batcher(engine, Metrics(), max_batch=3, max_wait_ms=1_000, max_queue=8)
    assert batcher.expected == 1
    batcher.submit(jobs_from(["A story about a cat. It sat."])[0], within(30))
    assert batcher.expected == 1
    texts = [f"Story {n} is about a dog. It ran home." for n in range(5)]
    assert all(r.short for r in submit_together(batcher, jobs_from(texts)))
    assert batcher.expected in (2, 3)  # the last batch held 2 or 3 jobs (5 = 3 + 2): never more than max_batch


def test_a_job_that_can_just_finish_by_its_deadline_is_started(engine):
    batcher = Batcher(engine, Metrics(), max_batch=1, max_wait_ms=0, max_queue=4)
    batcher.batch_seconds = 1.0
    assert batcher.submit(jobs_from(["A story about a cat. It sat."])[0], within(20)).short.text


def test_admission_holds_places_for_the_duration_of_a_request():
    admission = Admission(3)
    with admission.admit(2):
        assert admission.jobs == 2
        with pytest.raises(Overloaded), admission.admit(2):
            pass
        with admission.admit():
            assert admission.jobs == 3
    assert admission.jobs == 0
    with pytest.raises(Overloaded), admission.admit(4):
        pass
    assert admission.jobs == 0


def test_the_queue_holds_max_queue_jobs(engine):
    gated = GatedEngine(engine)
    batcher = Batcher(gated, Metrics(), max_batch=1, max_wait_ms=0, max_queue=2)
    with ThreadPoolExecutor(3) as pool:
        running = pool.submit(batcher.submit, jobs_from(["A first story about a fox. It hid."])[0], within(60))
        assert gated.entered.wait(30)
        queued = [batcher.enqueue(job, within(60)) for job in jobs_from(["A cat sat.", "A dog ran."])]
        with pytest.raises(Overloaded):
            batcher.enqueue(jobs_from(["A bird flew."])[0], within(60))
        gated.gate.set()
        assert running.result(timeout=60).short
        assert [batcher.wait(p).short.text for p in queued] == ["A cat sat.", "A dog ran."]


def test_an_engine_error_in_a_batch_of_one_is_the_requests_error_and_the_batcher_lives_on(engine, caplog):
    failing = FailingEngine(engine, "POISON")
    batcher = Batcher(failing, Metrics(), max_batch=4, max_wait_ms=0, max_queue=4)
    with caplog.at_level("ERROR", logger="service.batching"), pytest.raises(ValueError, match="poisoned"):
        batcher.submit(jobs_from(["POISON alone. Nothing else."])[0], within(60))
    assert batcher.alive and failing.batches == [1]
    (record,) = [r for r in caplog.records if r.name == "service.batching"]
    assert record.getMessage() == "the engine failed on a job" and record.exc_info[0] is ValueError
    assert batcher.submit(jobs_from(["A story about a dog. It ran."])[0], within(60)).short.text


def test_the_batching_thread_is_a_named_daemon(engine):
    """It never keeps a stopping worker process alive, and shows by name in thread dumps."""
    before = set(threading.enumerate())
    batcher = Batcher(engine, Metrics(), max_batch=2, max_wait_ms=0, max_queue=2)
    (thread,) = set(threading.enumerate()) - before
    assert (thread.name, thread.daemon, batcher.alive) == ("batcher", True, True)


def test_a_batch_that_leaves_jobs_queued_expects_a_full_batch_next(engine):
    gated = GatedEngine(engine)
    batcher = Batcher(gated, Metrics(), max_batch=2, max_wait_ms=0, max_queue=8)
    seen: list[int] = []
    summarize = gated.summarize
    gated.summarize = lambda jobs: seen.append(batcher.expected) or summarize(jobs)  # what each call was told
    with ThreadPoolExecutor(5) as pool:
        first = pool.submit(batcher.submit, jobs_from(["A first story about a fox. It hid."])[0], within(60))
        assert gated.entered.wait(30)
        rest = [pool.submit(batcher.submit, job, within(60)) for job in jobs_from(["A cat sat. It slept."] * 3)]
        wait_until(lambda: batcher._queue.qsize() == 3)
        gated.gate.set()
        assert all(f.result(timeout=60).short for f in [first, *rest])
    assert seen[:2] == [1, 2]  # after a batch of 1 with 3 queued: min(1 + 3, max_batch 2)
