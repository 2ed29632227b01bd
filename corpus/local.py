"""The local runner: the engine in this process, one `summarize` call per batch."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import torch

from corpus.summarizer import Item, Result, Summarizer
from service.config import Settings


def results(
    items: Sequence[Item], settings: Settings, options: dict[str, Any], batch_size: int
) -> Iterator[list[Result]]:
    """The results batch by batch, in input order; torch threads as the server's (SUMMARIZER_TORCH_THREADS)."""
    torch.set_num_threads(settings.intra_op_threads)
    summarizer = Summarizer.load(settings, options)
    for first in range(0, len(items), batch_size):
        yield summarizer.summarize(items[first : first + batch_size])
