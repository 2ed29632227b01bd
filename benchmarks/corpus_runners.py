"""Throughput of the corpus runners on the same articles: local (in process) against Ray actor pools.

.venv/bin/python -m benchmarks.corpus_runners --data ../shared/data/frank_cnndm.jsonl --limit 200 \
    --runs local local:1 ray:1 ray:2

Each run summarizes the first --limit records with the embedded engine (defaults of `python -m corpus run`)
and reports: start-up (ray.init for Ray), seconds until the first batch came back (engine loading and,
for Ray, actor start-up included), steady throughput (articles/s after the first batch), overall
throughput (articles/s from the start, start-up included) and the CPU seconds this process and its
children (Ray's) used. `local:T` runs torch on T threads (default: the cores); `ray:N` is a pool of N
actors sharing the machine's CPUs. Every run's results are checked to be the same.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import psutil

from corpus.summarizer import Item, Result
from eval.records import load
from service.config import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--runs", nargs="+", default=["local", "ray:1", "ray:2"])
    args = parser.parse_args()
    items = [Item(r.id, r.article, r.title) for r in load(args.data).records[: args.limit]]
    outputs = {}
    print(f"{len(items)} articles of {args.data.name}, batch {args.batch_size}, {os.cpu_count()} CPUs")
    for run in args.runs:
        load_before, cpu_before = os.getloadavg()[0], _cpu_seconds()
        startup, batches, cpu = _run(run, items, args.batch_size)
        cpu -= cpu_before
        times = [stamp for stamp, _ in batches]
        first = len(batches[0][1])
        steady = (len(items) - first) / (times[-1] - times[0]) if len(batches) > 1 else float("nan")
        print(
            f"{run:>7}: start-up {startup:5.1f} s, first batch after {times[0]:5.1f} s, "
            f"steady {steady:5.2f} articles/s, overall {len(items) / (startup + times[-1]):5.2f} articles/s, "
            f"{cpu:5.1f} CPU s (load average {load_before:.1f} before)",
            flush=True,
        )
        outputs[run] = {r.id: _comparable(r.line) for _, batch in batches for r in batch}
    reference = next(iter(outputs.values()))
    print("results identical across runs:", all(output == reference for output in outputs.values()))


def _run(run: str, items: list[Item], batch_size: int) -> tuple[float, list[tuple[float, list[Result]]], float]:
    """(start-up seconds, [(seconds since the runner started, batch)], CPU seconds used so far)."""
    kind, _, number = run.partition(":")
    options = {}
    if kind == "local":
        from corpus import local

        settings = Settings(torch_threads=int(number or 0))
        return 0.0, _timed(local.results(items, settings, options, batch_size)), _cpu_seconds()
    import ray

    from corpus import ray_runner

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    started = time.perf_counter()
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False)
    startup = time.perf_counter() - started
    try:
        batches = _timed(ray_runner.results(items, Settings(), options, batch_size, int(number or 1)))
        return startup, batches, _cpu_seconds()
    finally:
        ray.shutdown()


def _timed(batches) -> list[tuple[float, list[Result]]]:
    started = time.perf_counter()
    return [(time.perf_counter() - started, batch) for batch in batches]


def _cpu_seconds() -> float:
    """CPU time of this process, its finished children and its live descendants (Ray's processes)."""
    total = 0.0
    me = psutil.Process()
    for process in [me, *me.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system + (times.children_user + times.children_system if process is me else 0)
    return total


def _comparable(line: str) -> dict:
    value = json.loads(line)
    value.get("stats", {}).pop("latency_ms", None)
    return value


if __name__ == "__main__":
    main()
