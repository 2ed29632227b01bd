"""Timing for the linear-time tests: the fastest of three runs."""

import time
from collections.abc import Callable


def fastest_seconds(function: Callable, *args) -> float:
    """The fastest of three runs: a noisy neighbour slows runs down, never speeds them up."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - started)
    return min(times)
