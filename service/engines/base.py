"""The one interface every summarization engine implements, and what engines share.

An engine takes a *batch* of jobs (a prepared document plus the options of one
request) and returns one `Summary` per job, in order. The HTTP layer, the request
batcher and the evaluation harness only ever talk to this interface.

Engines are built from plain keyword arguments (`Engine.load(**arguments)`); they
never read the environment. A bad argument raises `ArgumentError` naming it, and the
caller (`service.config` for the server) says which setting it came from.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from service.domain import Job, Passage, Sentence, Source, Summary
from service.text import word_prefix


class ArgumentError(ValueError):
    """An engine argument is invalid, or what it names (a model, a device) is not available."""

    def __init__(self, argument: str, message: str):
        super().__init__(message)
        self.argument = argument


class Engine(Protocol):
    """A summarization engine: loaded once, then called with batches of jobs."""

    name: str

    def info(self) -> dict:
        """Model and runtime facts for `/v1/info` (family, path, device, dtype, limits)."""
        ...

    def summarize(self, jobs: Sequence[Job]) -> list[Summary]:
        """Summarize every job of the batch; the result list is in the same order."""
        ...


def clipped(sentence: Sentence, max_words: int) -> tuple[Passage, str | None]:
    """The sentence as a passage, cut after `max_words` words when longer (with a warning saying so)."""
    if sentence.words <= max_words:
        return Passage.extracted(sentence), None
    text = word_prefix(sentence.text, max_words)
    warning = f"a sentence of {sentence.words} words was cut to its first {max_words}"
    return Passage(text, [Source(sentence.start, sentence.start + len(text), 1.0)], 1.0), warning


def best_fitting(sentences: Sequence[Sentence], ranked: Sequence[int], max_words: int | None) -> int:
    """The best-ranked sentence within `max_words` (None: any), else the shortest of the top three."""
    fitting = [i for i in ranked if max_words is None or sentences[i].words <= max_words]
    return fitting[0] if fitting else min(ranked[:3], key=lambda i: sentences[i].words)
