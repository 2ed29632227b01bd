"""Score a running service: concurrent `POST /v1/summarize` calls with per-request latency.

Requests go out from a thread pool of `concurrency` workers (stdlib HTTP, no extra
dependency). Latency is measured per request, client side; throughput is completed
requests per second of wall time for the whole run at that concurrency.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from eval.latency import latency_stats
from eval.records import Record
from eval.systems import SERVICE, SystemRun, output_for, styles
from service.domain import Options
from service.launcher import ServiceError, wait_ready


def service_info(url: str) -> dict:
    """The service's `GET /v1/info` (version, engine facts, limits), or an empty dict when it has none."""
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/v1/info", timeout=10) as response:
            return json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return {}


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
    url = url.rstrip("/")
    wait_ready(url)

    def call(record: Record) -> tuple[dict, float]:
        result = _post(url, record, options, timeout)
        if progress:
            progress(1)
        return result

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        futures = [pool.submit(call, record) for record in records]
        try:
            answers = [future.result() for future in futures]
        except ServiceError:
            pool.shutdown(cancel_futures=True)
            raise
    wall = time.perf_counter() - started
    latencies = [ms for _, ms in answers]
    info = {
        "url": url,
        "concurrency": concurrency,
        "engine": service_info(url).get("engine", {}),
        **latency_stats(latencies, wall),
    }
    return [
        SystemRun(
            f"{name}:{s}",
            SERVICE,
            [output_for(s, body.get("short"), body.get("bullets"), ms) for body, ms in answers],
            info,
        )
        for s in styles(options.style)
    ]


def _post(url: str, record: Record, options: Options, timeout: float) -> tuple[dict, float]:
    payload = {
        "text": record.article,
        "style": options.style,
        "max_bullets": options.max_bullets,
        "short_max_words": options.short_max_words,
    }
    if record.title:
        payload["title"] = record.title
    request = urllib.request.Request(
        f"{url}/v1/summarize", json.dumps(payload).encode(), {"Content-Type": "application/json"}, method="POST"
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = json.loads(response.read())
    except urllib.error.HTTPError as err:
        raise ServiceError(f"record {record.id}: HTTP {err.code} {_error_text(err)}") from None
    except (urllib.error.URLError, OSError) as err:
        raise ServiceError(f"record {record.id}: {url} unreachable ({err})") from None
    return body, 1000 * (time.perf_counter() - started)


def _error_text(err: urllib.error.HTTPError) -> str:
    """`code: message` from the service's JSON error body, or the raw body."""
    raw = err.read().decode("utf-8", "replace")
    try:
        error = json.loads(raw)["error"]
        return f"{error['code']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        return raw[:200]
