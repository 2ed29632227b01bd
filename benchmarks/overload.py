"""Overload and slow clients against the real gunicorn server on loopback.

Three phases on one server: `--clients` normal clients (the reference throughput), then
`--crowd` clients at once (more than the worker holds: the rest must be refused quickly
with 503), then the normal clients again while `--slow` sockets dribble a request one
byte a second. Each client keeps one connection and sends the next request as soon as
it has an answer; after a 503 it waits for `Retry-After` when `--backoff` is set (as
the repository's client does), else it sends the next request at once.

    .venv/bin/python -m benchmarks.overload --clients 16 --crowd 200 --slow 200 --seconds 20
"""

from __future__ import annotations

import argparse
import multiprocessing
import socket
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np
from prometheus_client.parser import text_string_to_metric_families

from benchmarks.common import DEFAULT_DATA, load_articles
from client import Client, ServiceError
from service.launcher import start_server

PROCESSES = 4  # load generator processes (each runs a thread per client)


def drive(url: str, articles: list[str], clients: int, seconds: float, backoff: bool) -> dict:
    """`clients` clients sending requests for `seconds`, spread over processes so that the load
    generator's own interpreter lock does not add to the latencies; successes' and 503s' latency."""
    processes = max(1, min(PROCESSES, clients // 8))
    shares = [list(range(p, clients, processes)) for p in range(processes)]
    with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn")) as pool:
        parts = list(pool.map(_client_process, [(url, articles, ids, clients, seconds, backoff) for ids in shares]))
    result: dict = {"clients": clients, "errors": sum(part[1] for part in parts)}
    for status, name in ((200, "ok"), (503, "refused"), (504, "timed_out")):
        latencies = [s for part in parts for s in part[0].get(status, [])]
        result.update({name: len(latencies), f"{name}_p50_ms": _percentile(latencies, 50)})
        result.update({f"{name}_p99_ms": _percentile(latencies, 99), f"{name}_max_ms": _percentile(latencies, 100)})
    result["ok_per_s"] = result["ok"] / seconds
    return result


def _client_process(task: tuple) -> tuple[dict[int, list[float]], int]:
    """One process's share of the clients, a thread each, all starting together for `seconds`."""
    url, articles, ids, clients, seconds, backoff = task
    start = threading.Barrier(len(ids))

    def client(index: int) -> tuple[dict[int, list[float]], int]:
        latencies: dict[int, list[float]] = {}
        errors, n = 0, index
        with Client(url, timeout=60, retries=0) as service:  # each 503 is measured, not retried
            start.wait()
            stop = time.monotonic() + seconds
            while time.monotonic() < stop:
                began = time.perf_counter()
                try:
                    service.summarize(articles[n % len(articles)])
                    status, retry_after = 200, None
                except ServiceError as error:
                    status, retry_after = error.status, error.retry_after
                latencies.setdefault(status, []).append(time.perf_counter() - began)
                n += clients
                errors += status not in (200, 503, 504)
                if status == 503 and backoff:
                    time.sleep(retry_after or 1.0)
        return latencies, errors

    with ThreadPoolExecutor(len(ids)) as pool:
        results = list(pool.map(client, ids))
    merged: dict[int, list[float]] = {}
    for latencies, _ in results:
        for status, values in latencies.items():
            merged.setdefault(status, []).extend(values)
    return merged, sum(errors for _, errors in results)


def slow_sockets(url: str, count: int) -> tuple[threading.Event, list[socket.socket]]:
    """`count` connections that send a request's first line, then one header byte a second."""
    host, port = url.removeprefix("http://").split(":")
    sockets = []
    for _ in range(count):
        sock = socket.create_connection((host, int(port)))
        sock.sendall(b"POST /v1/summarize HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n")
        sockets.append(sock)
    stop = threading.Event()

    def dribble() -> None:
        while not stop.wait(1.0):
            for sock in sockets:
                try:
                    sock.sendall(b"X")
                except OSError:
                    pass  # the server closed it (408 after its read timeout)

    threading.Thread(target=dribble, daemon=True).start()
    return stop, sockets


def late_jobs(url: str) -> float:
    """`summarizer_late_jobs_total` from the server's metrics: engine work whose client had a 504."""
    with Client(url) as service:
        text = service.metrics()
    return next(
        s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name == "summarizer_late_jobs_total"
    )


def _percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) * 1000 if values else None


def _line(name: str, r: dict) -> str:
    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.0f} ms"

    timeouts = f"; {r['timed_out']} x 504, max {ms(r['timed_out_max_ms'])}" if r["timed_out"] else ""
    return (
        f"{name:<34} {r['clients']:>4} clients: {r['ok_per_s']:6.2f} ok/s, ok p50 {ms(r['ok_p50_ms'])}, "
        f"p99 {ms(r['ok_p99_ms'])}; {r['refused']} x 503, p50 {ms(r['refused_p50_ms'])}, "
        f"p99 {ms(r['refused_p99_ms'])}{timeouts}; {r['errors']} other errors"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--articles", type=int, default=100)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--crowd", type=int, default=200)
    parser.add_argument("--slow", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--backoff", action="store_true", help="after a 503, wait Retry-After seconds")
    parser.add_argument("--env", action="append", default=[], help="server setting NAME=VALUE (repeatable)")
    args = parser.parse_args()

    articles = load_articles(args.data, args.articles)
    server = start_server(dict(item.split("=", 1) for item in args.env), access_log=False)
    try:
        drive(server.url, articles, args.clients, 3, args.backoff)  # warm-up
        normal = drive(server.url, articles, args.clients, args.seconds, args.backoff)
        print(_line("normal", normal), flush=True)
        crowd = drive(server.url, articles, args.crowd, args.seconds, args.backoff)
        print(_line("overload", crowd), flush=True)
        print(f"overload ok/s over normal ok/s: {crowd['ok_per_s'] / normal['ok_per_s']:.2f}")
        print(f"jobs finished after their deadline so far: {late_jobs(server.url):.0f}")
        stop, sockets = slow_sockets(server.url, args.slow)
        try:
            slow = drive(server.url, articles, args.clients, args.seconds, args.backoff)
        finally:
            stop.set()
            for sock in sockets:
                sock.close()
        print(_line(f"normal beside {args.slow} slow sockets", slow), flush=True)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
