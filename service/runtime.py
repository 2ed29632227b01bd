"""The loaded engine of one worker: readiness, metrics and (optionally) the batcher."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field

import torch

from service.batching import Admission, Batcher, Disconnected, TimedOut
from service.config import Settings, build_engine
from service.domain import Job, Options, Summary
from service.engines import Engine
from service.metrics import Metrics
from service.text import prepare

PREPARING_AT_ONCE = 2
_draining = threading.Event()  # set once per process, on SIGTERM (service/gunicorn_worker.py)

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
    admission: Admission = field(init=False)
    load_seconds: float = 0.0
    info: dict = field(default_factory=dict)
    _unbatched: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)
    _preparation_slots: threading.Semaphore = field(
        default_factory=lambda: threading.Semaphore(PREPARING_AT_ONCE), init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        self.admission = Admission(self.settings.jobs_held)

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
            # The queue takes every job the worker holds: `admission` refuses past `jobs_held` first.
            state.batcher = Batcher(
                state.engine, state.metrics, settings.batch_max_size, settings.batch_max_wait_ms, settings.jobs_held
            )
        return state

    @property
    def draining(self) -> bool:
        """True once the worker was told to stop: it finishes what it holds and takes nothing new."""
        return _draining.is_set()

    @property
    def ready(self) -> bool:
        return not self.draining and (self.batcher is None or self.batcher.alive)

    @contextmanager
    def preparing(self) -> Iterator[None]:
        """Wrap a request's parsing and cleaning: the batcher knows its job is coming, and at most
        `PREPARING_AT_ONCE` requests run this pure-Python work together, so the threads that only
        answer (a quick 503, /healthz) do not queue for the interpreter lock behind dozens of them."""
        with self.batcher.preparing() if self.batcher else nullcontext(), self._preparation_slots:
            yield

    def summarize(self, job: Job, deadline: float, disconnected: Callable[[], bool] = lambda: False) -> Summary:
        """Summarize one job by `deadline` (time.monotonic()): batched, or one at a time when batching is off."""
        if self.batcher is not None:
            return self.batcher.submit(job, deadline, disconnected)
        return self._one_at_a_time(job, deadline)

    def summarize_many(
        self, jobs: list[Job], deadline: float, disconnected: Callable[[], bool] = lambda: False
    ) -> list[Summary | Exception]:
        """Each job's summary, or the reason it has none (TimedOut, an engine error); all queued at once."""
        if self.batcher is None:
            return [_outcome(self._one_at_a_time, job, deadline) for job in jobs]
        with self.batcher.preparing():  # the batcher waits for the whole set before it runs a batch
            queued = [self.batcher.enqueue(job, deadline) for job in jobs]
        return [_outcome(self.batcher.wait, pending, disconnected) for pending in queued]

    def _one_at_a_time(self, job: Job, deadline: float) -> Summary:
        if not self._unbatched.acquire(timeout=max(deadline - time.monotonic(), 0)):
            raise TimedOut
        try:
            return self.engine.summarize([job])[0]
        finally:
            self._unbatched.release()


def _outcome(run: Callable, *args) -> Summary | Exception:
    """`run(*args)`, or the exception it raised; a client that hung up still ends the whole request."""
    try:
        return run(*args)
    except Disconnected:
        raise
    except Exception as error:  # the engine's error for this job, or TimedOut
        return error


def begin_draining() -> None:
    """This process is shutting down: `/readyz` and new summaries answer 503 from now on."""
    _draining.set()
