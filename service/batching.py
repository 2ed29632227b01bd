"""Admission and dynamic request batching: concurrent requests share one engine call.

`Admission` counts the jobs inside the worker (running or waiting) and refuses a
request *before* its body is read once they fill the running batch and the queue,
so overload costs almost nothing (HTTP 503).

Request threads put their job on a queue and wait; one batching thread takes the
first waiting job, gathers more (up to `max_batch` jobs), runs `engine.summarize`
once and hands each result back to its own request. It waits at most `max_wait_ms`
for more jobs, and only while more are expected: requests still being prepared
(`preparing()`), or, after a batch, as many jobs as that batch held plus those that
queued meanwhile (the clients just answered usually come straight back). So a lone
request never waits, and a saturated server does not split its clients into two
cohorts that take turns with half-full batches: they merge into full ones. Every job has a deadline counted
from the request's arrival: a job whose deadline has passed, or that would pass it
before a batch could finish (judged from recent batch times), is not started, and a
request that times out or whose client hung up is cancelled, so it costs no batch
slot. When an engine call fails, the batch is retried job by job, so only the
faulty job fails.
"""

from __future__ import annotations

import logging
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

log = logging.getLogger(__name__)
POLL_SECONDS = 0.05
RECHECK_SECONDS = 0.001  # while gathering, how often to see whether requests are still being prepared
BATCH_TIME_SMOOTHING = 0.2  # weight of the latest engine call in the running estimate of a batch's time


class Overloaded(Exception):
    """The worker holds all the jobs it can; the client should retry later."""


class TimedOut(Exception):
    """The job did not finish, or could not finish, within the request's deadline."""


class Disconnected(Exception):
    """The client went away while its job waited."""


class Admission:
    """A count of the jobs inside the worker, with a fixed capacity."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.jobs = 0
        self._lock = threading.Lock()

    @contextmanager
    def admit(self, jobs: int = 1) -> Iterator[None]:
        """Hold `jobs` places for the duration of a request, or raise `Overloaded` at once."""
        with self._lock:
            if self.jobs + jobs > self.capacity:
                raise Overloaded
            self.jobs += jobs
        try:
            yield
        finally:
            with self._lock:
                self.jobs -= jobs


@dataclass
class _Pending:
    job: Job
    deadline: float  # time.monotonic()
    future: Future


class Batcher:
    """Gathers jobs from many request threads into batches for one engine."""

    def __init__(self, engine: Engine, metrics: Metrics, max_batch: int, max_wait_ms: float, max_queue: int):
        self.engine = engine
        self.metrics = metrics
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000
        self.batch_seconds = 0.0  # running estimate of one engine call
        self.expected = 1  # jobs the next batch should find: the last batch's and those queued meanwhile
        self._queue: queue.Queue[_Pending] = queue.Queue(maxsize=max_queue)
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

    def submit(self, job: Job, deadline: float, disconnected: Callable[[], bool] = lambda: False) -> Summary:
        """Queue a job and wait for its summary (raises Overloaded, TimedOut or Disconnected)."""
        return self.wait(self.enqueue(job, deadline), disconnected)

    def enqueue(self, job: Job, deadline: float) -> _Pending:
        """Queue a job without waiting (several jobs of one request batch together); raises Overloaded."""
        pending = _Pending(job, deadline, Future())
        try:
            self._queue.put_nowait(pending)
        except queue.Full:
            raise Overloaded from None
        self.metrics.queue_depth.set(self._queue.qsize())
        return pending

    def wait(self, pending: _Pending, disconnected: Callable[[], bool] = lambda: False) -> Summary:
        """The summary of a queued job (raises TimedOut, Disconnected, or the engine's error for this job)."""
        future, deadline = pending.future, pending.deadline
        while True:
            try:
                return future.result(timeout=min(POLL_SECONDS, max(deadline - time.monotonic(), 0)))
            except FutureTimeout:
                if disconnected():
                    future.cancel()
                    raise Disconnected from None
                if time.monotonic() >= deadline:
                    future.cancel()  # a job already running finishes; its result is dropped
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
            waiting_for_more = left > 0 and (self._preparing > 0 or len(batch) < self.expected)
            try:
                batch.append(self._queue.get(timeout=min(left, RECHECK_SECONDS) if waiting_for_more else 0))
            except queue.Empty:
                if not waiting_for_more:
                    break
        self.metrics.queue_depth.set(self._queue.qsize())
        return [p for p in batch if p.future.set_running_or_notify_cancel() and self._can_finish(p)]

    def _can_finish(self, pending: _Pending) -> bool:
        """False (and the job fails with `TimedOut`) when its deadline comes before a batch would end."""
        if time.monotonic() + self.batch_seconds < pending.deadline:
            return True
        pending.future.set_exception(TimedOut())
        return False

    def _execute(self, batch: list[_Pending]) -> None:
        self.metrics.batch_size.observe(len(batch))
        started = time.monotonic()
        try:
            summaries = self.engine.summarize([p.job for p in batch])
        except Exception as error:
            if len(batch) == 1:
                log.exception("the engine failed on a job")
                batch[0].future.set_exception(error)
            else:  # find the faulty job: the others still get their summaries
                log.warning("the engine failed on a batch of %d jobs (%s); retrying them one by one", len(batch), error)
                for pending in batch:
                    self._execute([pending])
            return
        elapsed = time.monotonic() - started
        weight = BATCH_TIME_SMOOTHING if self.batch_seconds else 1.0
        self.batch_seconds += weight * (elapsed - self.batch_seconds)
        self.expected = min(len(batch) + self._queue.qsize(), self.max_batch)
        finished = time.monotonic()
        for pending, summary in zip(batch, summaries):
            if finished > pending.deadline:
                self.metrics.late.inc()
            pending.future.set_result(summary)
