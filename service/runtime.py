"""The loaded engine of one worker: readiness, metrics and (optionally) the batcher."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field

import torch

from service.batching import Batcher
from service.config import Settings, build_engine
from service.domain import Job, Options, Summary
from service.engines import Engine
from service.metrics import Metrics
from service.text import prepare

WARM_UP_TEXT = (
    "The city council approved a new budget on Tuesday after a long debate. "
    "The plan raises spending on schools and roads by five percent. "
    "Critics said the increase would force higher taxes next year. "
    "The mayor is expected to sign the budget on Friday."
)


@dataclass
class Runtime:
    """An engine loaded once per worker, warmed up before the worker reports ready."""

    settings: Settings
    engine: Engine
    metrics: Metrics = field(default_factory=Metrics)
    batcher: Batcher | None = None
    load_seconds: float = 0.0
    info: dict = field(default_factory=dict)
    _unbatched: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    @classmethod
    def start(cls, settings: Settings, engine: Engine | None = None) -> Runtime:
        torch.set_num_threads(settings.intra_op_threads)
        started = time.perf_counter()
        state = cls(settings, engine or build_engine(settings))
        state.engine.summarize([Job(prepare(WARM_UP_TEXT), Options(style="both"))])
        state.load_seconds = time.perf_counter() - started
        state.metrics.model_load.set(state.load_seconds)
        state.info = state.engine.info()
        if settings.batch_max_size > 1:
            state.batcher = Batcher(
                state.engine, state.metrics, settings.batch_max_size, settings.batch_max_wait_ms, settings.queue_max
            )
        return state

    @property
    def ready(self) -> bool:
        return self.batcher is None or self.batcher.alive

    def preparing(self) -> AbstractContextManager:
        """Wrap a request's parsing and cleaning, so the batcher knows its job is coming."""
        return self.batcher.preparing() if self.batcher else nullcontext()

    def summarize(self, job: Job, disconnected: Callable[[], bool] = lambda: False) -> Summary:
        """Summarize one job: through the batcher, or one request at a time when batching is off."""
        if self.batcher is None:
            with self._unbatched:
                return self.engine.summarize([job])[0]
        return self.batcher.submit(job, self.settings.request_timeout_s, disconnected)
