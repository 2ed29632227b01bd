"""Prometheus metrics (`GET /metrics`): of every worker of the server, whichever worker answers.

Under gunicorn, prometheus-client's multiprocess mode is on (`PROMETHEUS_MULTIPROC_DIR`, set
by service/gunicorn_conf.py): each worker writes its values to files there and a scrape
adds them up, so counters and histograms count every worker. Gauges: the queue depth is the
sum over live workers, the model load time the slowest worker's. Without the variable (tests,
the Flask test client) an app's metrics live in a registry of its own.
"""

from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128)
WORD_BUCKETS = (50, 100, 250, 500, 1000, 2000, 5000, 10000, 20000)
TOKEN_BUCKETS = (100, 250, 500, 1000, 2000, 4000, 8000, 16000, 32000)


class Metrics:
    """All service metrics in a registry of their own (one per app)."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "summarizer_requests", "HTTP requests by route, status and style", ["route", "status", "style"], registry=r
        )
        self.latency = Histogram(
            "summarizer_request_seconds", "Request latency by route", ["route"], buckets=LATENCY_BUCKETS, registry=r
        )
        self.batch_size = Histogram("summarizer_batch_size", "Jobs per engine call", buckets=BATCH_BUCKETS, registry=r)
        self.queue_depth = Gauge(
            "summarizer_queue_depth", "Jobs waiting for the batcher", registry=r, multiprocess_mode="livesum"
        )
        self.late = Counter(
            "summarizer_late_jobs", "Jobs the engine finished after their deadline (their client had a 504)", registry=r
        )
        self.rejected = Counter(
            "summarizer_rejected", "Requests refused or abandoned, by reason", ["reason"], registry=r
        )
        self.model_load = Gauge(
            "summarizer_model_load_seconds",
            "Seconds to load and warm up the engine (the slowest worker)",
            registry=r,
            multiprocess_mode="max",
        )
        self.input_words = Histogram(
            "summarizer_input_words", "Words per summarized article", buckets=WORD_BUCKETS, registry=r
        )
        self.input_tokens = Histogram(
            "summarizer_input_tokens",
            "Model tokens the engine read per summarized article",
            buckets=TOKEN_BUCKETS,
            registry=r,
        )
        self.input_sentences = Histogram(
            "summarizer_input_sentences",
            "Content sentences per summarized article",
            buckets=(5, 10, 20, 40, 80, 160, 320),
            registry=r,
        )

    def render(self) -> bytes:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            every_worker = CollectorRegistry()
            MultiProcessCollector(every_worker)
            return generate_latest(every_worker)
        return generate_latest(self.registry)
