"""Per-system means with 95% bootstrap intervals, and paired tests between systems."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from eval.bootstrap import mean_ci, paired_test
from eval.latency import LIVE_STATS
from eval.scoring import HEADLINE, METRICS, Example
from eval.systems import BASELINE, ENGINE, SERVICE, SystemRun

PAIRED_METRICS = (*HEADLINE, "supported")


def system_summary(run: SystemRun, examples: Sequence[Example], indices: np.ndarray) -> dict:
    """`{"kind", "n", metric: mean, ..., "ci95": {metric: [low, high]}}` plus the run's latency figures."""
    summary: dict = {"kind": run.kind, "n": len(examples)}
    intervals = {}
    for metric in METRICS:
        values = metric_values(examples, metric.key)
        if values is None:
            continue
        summary[metric.key] = float(values.mean())
        intervals[metric.key] = list(mean_ci(values, indices))
    summary["ci95"] = intervals
    summary.update({key: run.info[key] for key in LIVE_STATS if key in run.info})
    return summary


def metric_values(examples: Sequence[Example], key: str) -> np.ndarray | None:
    """The metric over all examples, or None when the system does not have it (e.g. bullets of a short summary)."""
    if not examples or key not in examples[0].scores:
        return None
    return np.array([example.scores[key] for example in examples], dtype=float)


def focus_systems(runs: Sequence[SystemRun]) -> list[str]:
    """The systems a run is about: its engines and services, else its baselines."""
    for kinds in ((ENGINE, SERVICE), (BASELINE,)):
        names = [run.name for run in runs if run.kind in kinds]
        if names:
            return names
    return []


def paired_rows(
    pairs: Sequence[tuple[str, str]],
    scores_a: dict[str, Sequence[Example]],
    scores_b: dict[str, Sequence[Example]],
    indices: np.ndarray,
) -> list[dict]:
    """A paired bootstrap test per (system a, system b) and shared metric; examples must be aligned."""
    rows = []
    for a, b in pairs:
        for key in PAIRED_METRICS:
            va, vb = metric_values(scores_a[a], key), metric_values(scores_b[b], key)
            if va is None or vb is None:
                continue
            result = paired_test(va, vb, indices)
            rows.append(
                {
                    "a": a,
                    "b": b,
                    "metric": key,
                    "mean_a": float(va.mean()),
                    "mean_b": float(vb.mean()),
                    "diff": result.diff,
                    "ci95": [result.low, result.high],
                    "p": result.p,
                    "significant": result.significant,
                }
            )
    return rows
