"""Latency statistics of a run: percentiles per request and throughput over the wall time."""

from __future__ import annotations

import numpy as np

LIVE_STATS = ("latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "throughput_rps")


def latency_stats(latencies_ms: list[float], wall_s: float) -> dict[str, float]:
    """p50/p95/p99 latency (ms) and throughput (requests/s over the run's wall time)."""
    percentiles = np.percentile(latencies_ms, [50, 95, 99]).tolist()
    return dict(zip(LIVE_STATS, [*percentiles, len(latencies_ms) / wall_s]))
