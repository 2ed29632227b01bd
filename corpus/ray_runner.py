"""The Ray runner: Ray Data `map_batches` over a pool of actors, each holding one engine.

Needs the `ray` extra (`pip install 'article-summarizer[ray]'`); nothing imports this module
unless `--runner ray` asks for it. Without `address` (and with no Ray already initialized in
the process) a local Ray instance is started on this machine's CPUs, without the dashboard
and with usage statistics off (`RAY_USAGE_STATS_ENABLED=0` unless set), so it runs offline;
it is shut down at the end. Token authentication follows Ray's `RAY_AUTH_MODE`: Ray 2.59+
turns it on for a local instance (a token in ~/.ray/auth_token), `disabled` turns it off;
this runner works either way and sets neither.

The driver ships the records in blocks of at most `batch_size` (`ray.data.from_items`), and
each block is one batch (`map_batches(batch_size=None)`): an actor task then holds exactly
one batch, and its results come back as soon as it is done (Ray merges the output of a task
that holds several batches into one block, released only at its end). The driver writes the
results as they stream back (`iter_batches`), so a crash loses only the batches in flight.
With GPUs in the cluster each actor takes one GPU (and the engine picks CUDA); without, each
takes an equal share of a node's CPUs and runs that many torch threads. A dead actor is
restarted, and its batch retried, `RETRIES` times, then the run stops (Ray Data's default,
forever, would loop on a record that kills its actor); a rerun resumes after what was written.
"""

from __future__ import annotations

import logging
import math
import os
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import ray

from corpus.summarizer import Item, Result, RunnerError, Summarizer
from service.config import Settings

RETRIES = 2  # restarts of a dead actor, and retries of its batch


class SummarizerActor:
    """One engine per actor; called with a batch of records (columns id, article, title)."""

    def __init__(self, settings: Settings, options: dict[str, Any], threads: int | None):
        if threads:
            import torch

            torch.set_num_threads(threads)
        self.summarizer = Summarizer.load(settings, options)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list[str]]:
        items = [
            Item(str(record_id), str(article), title if isinstance(title, str) else None)
            for record_id, article, title in zip(batch["id"], batch["article"], batch["title"])
        ]
        results = self.summarizer.summarize(items)
        return {
            "id": [result.id for result in results],
            "line": [result.line for result in results],
            "error": [result.error or "" for result in results],
        }


def results(
    items: Sequence[Item],
    settings: Settings,
    options: dict[str, Any],
    batch_size: int,
    actors: int | None = None,
    address: str | None = None,
) -> Iterator[list[Result]]:
    """The results as Ray batches finish (not in input order)."""
    started_here = _connect(address)
    _quiet_data()
    try:
        gpus = int(ray.cluster_resources().get("GPU", 0))
        size = actors or max(gpus, 1)
        resources = {"num_gpus": 1, "num_cpus": 1} if gpus else {"num_cpus": _cpus_per_actor(size)}
        threads = None if gpus else int(resources["num_cpus"])
        records = [{"id": item.id, "article": item.article, "title": item.title} for item in items]
        blocks = ray.data.from_items(records, override_num_blocks=math.ceil(len(items) / batch_size))
        with warnings.catch_warnings():  # 2.60 deprecates these remote arguments but offers nothing in their place
            warnings.filterwarnings("ignore", message="`ray_remote_args` is deprecated")
            mapped = blocks.map_batches(
                SummarizerActor,
                batch_size=None,  # a block is a batch
                batch_format="numpy",
                compute=ray.data.ActorPoolStrategy(size=size),
                fn_constructor_kwargs={"settings": settings, "options": options, "threads": threads},
                max_restarts=RETRIES,  # Ray Data's default is forever: a record that kills its actor would loop
                max_task_retries=RETRIES,
                **resources,
            )
        for batch in mapped.iter_batches(batch_size=None, batch_format="numpy"):
            yield [
                Result(str(record_id), str(line), str(error) or None)
                for record_id, line, error in zip(batch["id"], batch["line"], batch["error"])
            ]
    except ray.exceptions.RayError as error:  # its message ends with the error raised in the actor
        lines = [line for line in str(error).splitlines() if line.strip()]
        raise RunnerError(f"Ray failed: {lines[-1] if lines else type(error).__name__}") from None
    finally:
        if started_here:
            ray.shutdown()


def _connect(address: str | None) -> bool:
    """Join the cluster at `address`, or the one this process already has, or start a local one (True)."""
    if ray.is_initialized():
        return False
    if address:
        ray.init(address=address, logging_level=logging.WARNING)
        return False
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, logging_level=logging.WARNING)
    return True


def _quiet_data() -> None:
    """Ray Data's own progress bars and plan printing would mix with this tool's progress bar."""
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)  # "progress bars disabled"


def _cpus_per_actor(actors: int) -> int:
    """An equal share of the cluster's CPUs, no more than one node has."""
    total = ray.cluster_resources().get("CPU", 1)
    per_node = max((node["Resources"].get("CPU", 0) for node in ray.nodes() if node["Alive"]), default=1)
    return int(max(1, min(per_node, total // actors)))
