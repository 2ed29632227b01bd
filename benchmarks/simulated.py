"""A stand-in engine whose batch time follows a cost model, for measuring the batcher without a GPU.

`SimulatedEngine(fixed_s, per_item_s)` sleeps `fixed_s + per_item_s * len(jobs)` per call
(sleeping releases the interpreter lock, as a GPU kernel does) and returns each document's
lead sentences, so everything around it (HTTP, cleaning, the batcher) is the real service.
`create_simulated_app()` is a WSGI app factory for gunicorn, with the model from
`SIMULATED_FIXED_S` and `SIMULATED_PER_ITEM_S` (default: the H100 fit below):

    gunicorn -c python:service.gunicorn_conf 'benchmarks.simulated:create_simulated_app()'
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

from service.domain import Job, Passage, Summary

# Fitted to the H100 measurements in benchmarks/README.md (bf16 engine, ~900-token articles, 4 beams,
# 142 new tokens): 0.67 articles/s at batch 1 and 21.59 at batch 64, i.e. 1.49 s and 2.96 s per call.
H100_FIXED_S = 1.467
H100_PER_ITEM_S = 0.0233


class SimulatedEngine:
    """Engine interface, cost model instead of a model."""

    name = "simulated"

    def __init__(self, fixed_s: float = H100_FIXED_S, per_item_s: float = H100_PER_ITEM_S):
        self.fixed_s, self.per_item_s = fixed_s, per_item_s

    def batch_seconds(self, size: int) -> float:
        return self.fixed_s + self.per_item_s * size

    def info(self) -> dict:
        return {"engine": self.name, "model": None, "fixed_s": self.fixed_s, "per_item_s": self.per_item_s}

    def summarize(self, jobs: Sequence[Job]) -> list[Summary]:
        time.sleep(self.batch_seconds(len(jobs)))
        summaries = []
        for job in jobs:
            lead = [Passage.extracted(s) for s in job.document.sentences[:3]]
            summaries.append(Summary(short=lead[0] if job.options.wants_short else None, bullets=lead))
        return summaries


def create_simulated_app():
    """The service on a `SimulatedEngine` (gunicorn app factory)."""
    from service.app import create_app

    fixed = float(os.environ.get("SIMULATED_FIXED_S", H100_FIXED_S))
    per_item = float(os.environ.get("SIMULATED_PER_ITEM_S", H100_PER_ITEM_S))
    return create_app(engine=SimulatedEngine(fixed, per_item))
