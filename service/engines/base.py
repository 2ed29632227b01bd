"""The one interface every summarization engine implements.

An engine takes a *batch* of jobs (a prepared document plus the options of one
request) and returns one `Summary` per job, in order. The HTTP layer, the request
batcher and the evaluation harness only ever talk to this interface.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol, Sequence, get_args

from service.text import Document

Style = Literal["short", "bullets", "both"]
STYLES: tuple[str, ...] = get_args(Style)
MAX_BULLETS_RANGE = (1, 10)


@dataclass(frozen=True)
class Options:
    """What one request asks for."""

    style: Style = "both"
    max_bullets: int = 5
    short_max_words: int = 60

    @property
    def wants_short(self) -> bool:
        return self.style in ("short", "both")

    @property
    def wants_bullets(self) -> bool:
        return self.style in ("bullets", "both")


@dataclass(frozen=True)
class Job:
    """One document to summarize with the options of its request."""

    document: Document
    options: Options


@dataclass(frozen=True)
class Source:
    """A character span of the *input text* that supports a summary sentence."""

    start: int
    end: int
    score: float | None = None


@dataclass
class Passage:
    """A summary sentence (the short summary, or one bullet) with its grounding."""

    text: str
    sources: list[Source]
    support: float | None = None


@dataclass
class Summary:
    """What an engine returns for one job."""

    short: Passage | None = None
    bullets: list[Passage] | None = None
    chunks: int = 1
    input_tokens: int = 0  # model tokens the engine read for this job
    warnings: list[str] = field(default_factory=list)


class Engine(Protocol):
    """A summarization engine: loaded once, then called with batches of jobs."""

    name: str

    def info(self) -> dict:
        """Model and runtime facts for `/v1/info` (family, path, device, dtype, limits)."""
        ...

    def summarize(self, jobs: Sequence[Job]) -> list[Summary]:
        """Summarize every job of the batch; the result list is in the same order."""
        ...
