"""The domain model: what a request asks for, the prepared article, and what an engine returns.

Every layer speaks these types: text preparation builds `Document`s, the HTTP layer
builds `Options` and `Job`s, engines return `Summary`s, the batcher and the evaluation
harness pass them along. They hold data only; the rules live with their owners
(`service.text` for sentences and words, `service.engines` for summaries).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

Style = Literal["short", "bullets", "both"]
STYLES: tuple[str, ...] = get_args(Style)

# Bounds of the request options. Deployments choose the defaults (`Settings`) and the
# upper bound of `short_max_words` (`short_max_words_limit`).
MAX_BULLETS_RANGE = (1, 10)
MIN_SHORT_MAX_WORDS = 5
SHORT_MAX_WORDS_LIMIT = 200
MAX_TITLE_CHARS = 1_000


@dataclass(frozen=True)
class Sentence:
    """One content sentence; `text == source[start:end]` of the original input."""

    text: str
    start: int
    end: int
    words: int
    complete: bool  # ends like a sentence (., !, ?, possibly inside closing quotes)


@dataclass(frozen=True)
class Document:
    """An article ready for an engine: original text, title, content sentences and the debris removed."""

    text: str
    sentences: list[Sentence]
    title: str | None = None
    dropped: list[str] = field(default_factory=list)
    language: str | None = None  # ISO 639-1 code of the content, None when there is none

    @property
    def words(self) -> int:
        return sum(s.words for s in self.sentences)


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

    @classmethod
    def extracted(cls, sentence: Sentence) -> Passage:
        """A source sentence returned as it is: grounded in exactly its own span."""
        return cls(sentence.text, [Source(sentence.start, sentence.end, 1.0)], 1.0)


@dataclass
class Summary:
    """What an engine returns for one job."""

    short: Passage | None = None
    bullets: list[Passage] | None = None
    chunks: int = 1
    input_tokens: int = 0  # model tokens the engine read for this job
    warnings: list[str] = field(default_factory=list)
