"""Per-article latency of the embedded engine, in process (cleaning + segmentation + engine).

.venv/bin/python benchmarks/latency.py [--data FILE] [--limit 100] [--style both]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import torch

from benchmarks.common import DEFAULT_DATA, load_articles
from eval.latency import latency_stats
from service.config import Settings, build_engine
from service.domain import Job, Options
from service.text import prepare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--style", default="both", choices=("short", "bullets", "both"))
    args = parser.parse_args()

    settings = Settings.from_env()
    torch.set_num_threads(settings.intra_op_threads)
    engine = build_engine(settings)
    articles = load_articles(args.data, args.limit)
    options = Options(style=args.style)
    for article in articles[:5]:  # warm-up
        engine.summarize([Job(prepare(article), options)])
    seconds = []
    for article in articles:
        started = time.perf_counter()
        engine.summarize([Job(prepare(article), options)])
        seconds.append(time.perf_counter() - started)
    stats = latency_stats([s * 1000 for s in seconds], sum(seconds))
    info = engine.info()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch threads {torch.get_num_threads()}"
    )
    print(
        f"engine: {info['engine']} ({info.get('model')}, {info.get('dtype')}), "
        f"{len(articles)} articles of {args.data.name}, style={args.style}"
    )
    print(
        f"p50 {stats['latency_p50_ms']:.1f} ms  p95 {stats['latency_p95_ms']:.1f} ms  "
        f"throughput {stats['throughput_rps']:.1f} articles/s"
    )


if __name__ == "__main__":
    main()
