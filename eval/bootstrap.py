"""Bootstrap confidence intervals and the paired bootstrap test (numpy, fixed seed).

All systems of a run are resampled with the *same* index matrix, so intervals and
paired differences are computed on the same resampled article sets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def resample(n: int, resamples: int = 1000, seed: int = 0) -> np.ndarray:
    """A (resamples, n) matrix of indices drawn with replacement."""
    return np.random.default_rng(seed).integers(0, n, size=(resamples, n))


def mean_ci(values: np.ndarray, indices: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean."""
    return _interval(_means(values, indices), level)


@dataclass(frozen=True)
class Paired:
    """Mean difference a − b with its bootstrap interval and two-sided p-value."""

    diff: float
    low: float
    high: float
    p: float

    @property
    def significant(self) -> bool:
        return self.low > 0 or self.high < 0


def paired_test(a: np.ndarray, b: np.ndarray, indices: np.ndarray, level: float = 0.95) -> Paired:
    """Paired bootstrap test: resample articles, recompute the mean difference a − b.

    The two-sided p-value is twice the share of resampled differences on the far
    side of zero (with the usual +1 correction, so never exactly 0), which agrees
    with the percentile interval: p < 1 − level exactly when the interval excludes 0,
    up to resampling granularity.
    """
    delta = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    means = _means(delta, indices)
    low, high = _interval(means, level)
    far_side = min(int(np.sum(means <= 0)), int(np.sum(means >= 0)))
    p = min(1.0, 2 * (far_side + 1) / (len(means) + 1))
    return Paired(float(delta.mean()), low, high, p)


def _means(values: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """The mean of `values` in each resample (one per row of `indices`)."""
    return np.asarray(values, dtype=float)[indices].mean(axis=1)


def _interval(means: np.ndarray, level: float) -> tuple[float, float]:
    """The central `level` percentile interval of resampled means."""
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)
