"""Score a running service: concurrent `POST /v1/summarize` calls through the repository's client.

Requests go out from a thread pool of `concurrency` workers sharing one `client.Client`.
Latency is measured per request, client side; throughput is completed requests per
second of wall time for the whole run at that concurrency.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from client import Client, ServiceError
from eval.latency import latency_stats
from eval.records import Record
from eval.systems import SERVICE, SystemRun, output_for, styles
from service.domain import Options


def service_runs(
    url: str,
    records: Sequence[Record],
    options: Options,
    concurrency: int = 4,
    name: str = "service",
    timeout: float = 120.0,
    progress: Callable[[int], None] | None = None,
) -> list[SystemRun]:
    """Summarize every record over HTTP; one run per requested style, with latency statistics."""
    with Client(url, timeout=timeout) as service:
        service.wait_ready()

        def call(record: Record) -> tuple[object, float]:
            started = time.perf_counter()
            try:
                answer = service.summarize(
                    record.article,
                    title=record.title,
                    style=options.style,
                    max_bullets=options.max_bullets,
                    short_max_words=options.short_max_words,
                )
            except ServiceError as error:
                raise ServiceError(f"record {record.id}: {error}", error.status, error.code) from None
            if progress:
                progress(1)
            return answer, 1000 * (time.perf_counter() - started)

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            futures = [pool.submit(call, record) for record in records]
            try:
                answers = [future.result() for future in futures]
            except ServiceError:
                pool.shutdown(cancel_futures=True)
                raise
        wall = time.perf_counter() - started
        engine = service.info().get("engine", {})
    info = {"url": url, "concurrency": concurrency, "engine": engine, **latency_stats([ms for _, ms in answers], wall)}
    return [
        SystemRun(f"{name}:{s}", SERVICE, [output_for(s, a.short, a.bullets, ms) for a, ms in answers], info)
        for s in styles(options.style)
    ]
