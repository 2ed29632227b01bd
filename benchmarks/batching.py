"""The batching policy under saturation, without a GPU: the real server on a simulated engine.

The engine sleeps for `fixed + per_item * batch` seconds per call (by default the cost
model fitted to the H100 measurements, see benchmarks/simulated.py); HTTP, cleaning and
the batcher are real. N closed-loop clients send `--rounds` requests each. Printed: the
throughput against the ideal (full batches back to back: max_batch / batch time), p50
latency in batch times, and the mean batch from the server's metrics.

    .venv/bin/python -m benchmarks.batching --clients 64
    .venv/bin/python -m benchmarks.batching --clients 64 --fixed 0.147 --per-item 0.00233   # 10x faster
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.common import DEFAULT_DATA, load_articles
from benchmarks.load import batch_totals, drive
from benchmarks.simulated import H100_FIXED_S, H100_PER_ITEM_S, SimulatedEngine
from service.launcher import GUNICORN, Server

SIMULATED_APP = "benchmarks.simulated:create_simulated_app()"


def run(articles: list[str], clients: int, rounds: int, max_batch: int, wait_ms: int, model: SimulatedEngine) -> dict:
    env = {
        "SIMULATED_FIXED_S": str(model.fixed_s),
        "SIMULATED_PER_ITEM_S": str(model.per_item_s),
        "SUMMARIZER_BATCH_MAX_SIZE": str(max_batch),
        "SUMMARIZER_QUEUE_MAX": str(max_batch),
        "SUMMARIZER_BATCH_MAX_WAIT_MS": str(wait_ms),
        "SUMMARIZER_MAX_BATCH_DOCUMENTS": str(min(32, 2 * max_batch)),
        "GUNICORN_THREADS": str(2 * max_batch + 16),
        "SUMMARIZER_REQUEST_TIMEOUT_S": "600",
    }
    command = [*GUNICORN[:-1], "--access-logfile", "/dev/null", SIMULATED_APP]
    server = Server.launch(command, env)
    server.wait_ready()
    try:
        drive(server.url, articles, clients, clients, "bullets", timeout_s=600)  # warm-up: one round
        jobs_before, calls_before = batch_totals(server.url)
        result = drive(server.url, articles, clients, clients * rounds, "bullets", timeout_s=600)
        jobs, calls = batch_totals(server.url)
    finally:
        server.stop()
    ideal = max_batch / model.batch_seconds(max_batch)
    batch_time = model.batch_seconds(max_batch)
    result.update(
        mean_batch=(jobs - jobs_before) / max(calls - calls_before, 1),
        ideal_rps=ideal,
        of_ideal=result["throughput_rps"] / ideal,
        p50_batch_times=result["latency_p50_ms"] / 1000 / batch_time,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--clients", type=int, nargs="+", default=[64])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--max-batch", type=int, default=64)
    parser.add_argument("--wait-ms", type=int, default=100, help="SUMMARIZER_BATCH_MAX_WAIT_MS")
    parser.add_argument("--fixed", type=float, default=H100_FIXED_S)
    parser.add_argument("--per-item", type=float, default=H100_PER_ITEM_S)
    args = parser.parse_args()
    model = SimulatedEngine(args.fixed, args.per_item)
    articles = load_articles(args.data, 200)
    print(
        f"cost model: {model.fixed_s:.3f} s + {model.per_item_s * 1000:.1f} ms per item; batch of {args.max_batch}: "
        f"{model.batch_seconds(args.max_batch):.2f} s; wait {args.wait_ms} ms"
    )
    for clients in args.clients:
        r = run(articles, clients, args.rounds, args.max_batch, args.wait_ms, model)
        print(
            f"{clients:3} clients: {r['throughput_rps']:.2f} req/s = {100 * r['of_ideal']:.0f}% of ideal "
            f"({r['ideal_rps']:.2f}); p50 {r['latency_p50_ms']:.0f} ms = {r['p50_batch_times']:.2f} batch times, "
            f"p99 {r['latency_p99_ms']:.0f} ms; mean batch {r['mean_batch']:.1f}; {r['errors']} errors",
            flush=True,
        )


if __name__ == "__main__":
    main()
