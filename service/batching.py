"""Dynamic request batching: concurrent requests share one engine call.

Request threads put their job on a bounded queue and wait; one batching thread
takes the first waiting job, gathers more (up to `max_batch` jobs), runs
`engine.summarize` once and hands each result back to its own request. It waits
at most `max_wait_ms` for more jobs, and only while other requests are still being
prepared (`preparing()`), so a lone request never waits. A full queue is refused
at once (`Overloaded`, HTTP 503) instead of piling up; a request that times out or
whose client hung up is cancelled, and a cancelled job is skipped when the batch is
formed, so it costs no batch slot.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError, Future
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from dataclasses import dataclass

from service.domain import Job, Summary
from service.engines import Engine
from service.metrics import Metrics

POLL_SECONDS = 0.05
RECHECK_SECONDS = 0.001  # while gathering, how often to see whether requests are still being prepared


class Overloaded(Exception):
    """The queue is full; the client should retry later."""


class TimedOut(Exception):
    """The job did not finish within the request timeout."""


class Disconnected(Exception):
    """The client went away while its job waited."""


@dataclass
class _Pending:
    job: Job
    future: Future


class Batcher:
    """Gathers jobs from many request threads into batches for one engine."""

    def __init__(
        self, engine: Engine, metrics: Metrics, max_batch: int = 32, max_wait_ms: float = 5.0, max_queue: int = 256
    ):
        self.engine = engine
        self.metrics = metrics
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000
        self._queue: queue.Queue[_Pending] = queue.Queue(maxsize=max_queue)
        metrics.queue_depth.set_function(self._queue.qsize)
        self._preparing = 0
        self._count_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="batcher", daemon=True)
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    @contextmanager
    def preparing(self) -> Iterator[None]:
        """Mark a request that will submit a job soon (it is being parsed and cleaned)."""
        with self._count_lock:
            self._preparing += 1
        try:
            yield
        finally:
            with self._count_lock:
                self._preparing -= 1

    def submit(self, job: Job, timeout_s: float, disconnected: Callable[[], bool] = lambda: False) -> Summary:
        """Queue a job and wait for its summary (raises Overloaded, TimedOut or Disconnected)."""
        pending = _Pending(job, Future())
        try:
            self._queue.put_nowait(pending)
        except queue.Full:
            raise Overloaded from None
        return self._wait(pending.future, time.monotonic() + timeout_s, disconnected)

    def _wait(self, future: Future, deadline: float, disconnected: Callable[[], bool]) -> Summary:
        while True:
            try:
                return future.result(timeout=min(POLL_SECONDS, max(deadline - time.monotonic(), 0)))
            except FutureTimeout:
                if disconnected():
                    future.cancel()
                    raise Disconnected from None
                if time.monotonic() >= deadline:
                    future.cancel()
                    raise TimedOut from None
            except CancelledError:
                raise TimedOut from None

    def _run(self) -> None:
        while True:
            batch = self._gather()
            if batch:
                self._execute(batch)

    def _gather(self) -> list[_Pending]:
        """Block for the first job, then take the waiting ones; wait for more only while
        requests are being prepared, until the batch is full or the wait is over."""
        batch = [self._queue.get()]
        deadline = time.monotonic() + self.max_wait
        while len(batch) < self.max_batch:
            left = deadline - time.monotonic()
            waiting_for_more = self._preparing > 0 and left > 0
            try:
                batch.append(self._queue.get(timeout=min(left, RECHECK_SECONDS) if waiting_for_more else 0))
            except queue.Empty:
                if not waiting_for_more:
                    break
        return [p for p in batch if p.future.set_running_or_notify_cancel()]

    def _execute(self, batch: list[_Pending]) -> None:
        self.metrics.batch_size.observe(len(batch))
        try:
            summaries = self.engine.summarize([p.job for p in batch])
        except Exception as error:  # every waiting request learns about the failure
            for pending in batch:
                pending.future.set_exception(error)
            return
        for pending, summary in zip(batch, summaries):
            pending.future.set_result(summary)
