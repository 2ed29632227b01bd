"""Shared helpers for the benchmarks: the article set and latency statistics."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "goyal2022_cnn_test500.jsonl"


def load_articles(path: Path, limit: int) -> list[str]:
    with path.open() as lines:
        return [json.loads(line)["article"] for _, line in zip(range(limit), lines)]


def latency_summary(seconds: list[float]) -> dict[str, float]:
    ms = np.array(seconds) * 1000
    return {"p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95)), "p99_ms": float(np.percentile(ms, 99))}
