"""Load test of the real gunicorn server on loopback, batching off vs on in one run.

Starts the server once per mode on a free port, sends a fixed number of requests
from N concurrent clients (articles from the data file, round robin), and prints
throughput, p50/p95/p99 latency, errors and (with batching on) the mean engine
batch per mode, then the on/off ratio.

    .venv/bin/python -m benchmarks.load --clients 16 --requests 320
    .venv/bin/python -m benchmarks.load --clients 1 --requests 100 --modes off
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from benchmarks.common import DEFAULT_DATA, load_articles
from client import Client, ServiceError
from eval.latency import latency_stats
from service.launcher import start_server

MODES = {"off": {"SUMMARIZER_BATCH_MAX_SIZE": "1"}, "on": {}}


def drive(url: str, articles: list[str], clients: int, total: int, style: str, timeout_s: float = 120) -> dict:
    """Send `total` requests from `clients` threads; each thread keeps one connection."""

    def client(index: int) -> tuple[list[float], int]:
        seconds, errors = [], 0
        with Client(url, timeout=timeout_s, retries=0) as service:
            for n in range(index, total, clients):
                started = time.perf_counter()
                try:
                    service.summarize(articles[n % len(articles)], style=style)
                except ServiceError:
                    errors += 1
                seconds.append(time.perf_counter() - started)
        return seconds, errors

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(client, range(clients)))
    elapsed = time.perf_counter() - started
    seconds = [s for latencies, _ in results for s in latencies]
    return {
        "requests": total,
        "errors": sum(e for _, e in results),
        **latency_stats([s * 1000 for s in seconds], elapsed),
    }


def batch_totals(url: str) -> tuple[float, float]:
    """Jobs and engine calls so far, from the server's `summarizer_batch_size` histogram."""
    with Client(url) as service:
        text = service.metrics()
    samples = {
        s.name: s.value
        for f in text_string_to_metric_families(text)
        if f.name == "summarizer_batch_size"
        for s in f.samples
    }
    return samples["summarizer_batch_size_sum"], samples["summarizer_batch_size_count"]


def compare(
    articles: list[str],
    clients: int,
    total: int | dict[str, int],
    style: str,
    modes: list[str],
    extra: dict[str, str],
    warm_up: int | dict[str, int],
    timeout_s: float = 120,
) -> dict:
    """Serve and drive each mode in turn; print one line per mode and the on/off ratio.

    `total` (requests) and `warm_up` (requests sent first, not measured) are one count for
    every mode, or a dict with a count per mode.
    """
    results = {}
    for mode in modes:
        mode_total = total[mode] if isinstance(total, dict) else total
        mode_warm_up = warm_up[mode] if isinstance(warm_up, dict) else warm_up
        server = start_server({**extra, **MODES[mode]}, access_log=False)
        try:
            drive(server.url, articles, min(clients, mode_warm_up), mode_warm_up, style, timeout_s)
            jobs_before, calls_before = batch_totals(server.url)
            results[mode] = r = drive(server.url, articles, clients, mode_total, style, timeout_s)
            jobs, calls = batch_totals(server.url)
            r["mean_batch_size"] = (jobs - jobs_before) / (calls - calls_before) if calls > calls_before else None
        finally:
            server.stop()
        batch = f", mean batch {r['mean_batch_size']:.1f}" if r["mean_batch_size"] else ""
        print(
            f"batching {mode:3}: {clients} clients, {r['requests']} requests, {r['errors']} errors, "
            f"{r['throughput_rps']:.2f} req/s, p50 {r['latency_p50_ms']:.0f} ms, p95 {r['latency_p95_ms']:.0f} ms, "
            f"p99 {r['latency_p99_ms']:.0f} ms{batch}",
            flush=True,
        )
    if {"on", "off"} <= results.keys():
        print(f"throughput on/off: {throughput_ratio(results):.2f}x")
    return results


def throughput_ratio(results: dict) -> float:
    """Throughput with batching on over off, from `compare`'s results (both modes run)."""
    return results["on"]["throughput_rps"] / results["off"]["throughput_rps"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--articles", type=int, default=100)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=320)
    parser.add_argument("--style", default="both")
    parser.add_argument("--modes", nargs="+", default=["off", "on"], choices=list(MODES))
    parser.add_argument("--env", action="append", default=[], help="extra server setting NAME=VALUE (repeatable)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    extra = dict(item.split("=", 1) for item in args.env)
    articles = load_articles(args.data, args.articles)
    results = compare(
        articles,
        args.clients,
        args.requests,
        args.style,
        args.modes,
        extra,
        warm_up=min(2 * args.clients, args.requests),
    )
    if args.json:
        args.json.write_text(json.dumps({"clients": args.clients, "settings": extra, "results": results}, indent=2))


if __name__ == "__main__":
    main()
