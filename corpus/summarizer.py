"""One batch of corpus records -> one result line per record, under the HTTP API's rules.

Each record is checked as `POST /v1/summarize` checks a request (the same limits and error
codes, from `Settings`), prepared with `service.text.prepare(article, title)` and summarized
by the engine in one `summarize` call per batch. A summarized record's line is the API's
answer (`service.protocol.SummarizeResponse`, unset fields left out) with the record's `id`
in front; a refused one is `{"id", "error": {"code", "message"}}`. When the engine fails on
a batch, its jobs are retried one by one, so one bad record costs only its own line
(`internal_error`). Both runners call this, so their lines are the same.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from service import __version__
from service.config import ConfigError, Settings, build_engine
from service.domain import Document, Job, Summary
from service.engines import Engine
from service.errors import ApiError
from service.protocol import EngineRef, RequestModels
from service.schema import SummarizeRequest, require_sentences, summary_response, validate_summarize
from service.text import prepare

log = logging.getLogger(__name__)
PROBE_TEXT = "Options are checked on this text."


class RunnerError(RuntimeError):
    """A runner cannot go on: the engine did not load, or Ray failed. The message says why."""


@dataclass(frozen=True)
class Item:
    """One corpus record to summarize."""

    id: str
    article: str
    title: str | None = None


@dataclass(frozen=True)
class Result:
    """One output line (JSON, no newline) and, when the record was refused, its error code."""

    id: str
    line: str
    error: str | None = None


def check_options(options: dict[str, Any], settings: Settings) -> None:
    """Raise the API's `ApiError` for options it would refuse (before a whole corpus is refused line by line)."""
    validate_summarize({"text": PROBE_TEXT, **options}, RequestModels.for_settings(settings), settings)


class Summarizer:
    """An engine with the API's request rules: items in, result lines out."""

    def __init__(self, engine: Engine, settings: Settings, options: dict[str, Any]):
        self.engine = engine
        self.settings = settings
        self.options = options
        self.models = RequestModels.for_settings(settings)
        self.reference = EngineRef(name=engine.name, model=engine.info().get("model"), version=__version__)

    @classmethod
    def load(cls, settings: Settings, options: dict[str, Any]) -> Summarizer:
        """Load the engine `settings` name (`RunnerError` naming the setting when it cannot be loaded)."""
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # its loading bar would cut through the progress bar
        try:
            return cls(build_engine(settings), settings, options)
        except ConfigError as error:
            raise RunnerError(f"the engine cannot be loaded: {error}") from None

    def summarize(self, items: Sequence[Item]) -> list[Result]:
        """A result per item, in order; `stats.latency_ms` counts from the start of the batch."""
        started = time.perf_counter()
        checked = [self._checked(item) for item in items]
        ready = [outcome for outcome in checked if not isinstance(outcome, ApiError)]
        summaries = iter(self._summaries([Job(document, request.options) for request, document in ready]))
        results = []
        for item, outcome in zip(items, checked):
            if not isinstance(outcome, ApiError):
                summary = next(summaries)
                outcome = summary if isinstance(summary, ApiError) else self._answer(summary, *outcome, started)
            results.append(_result(item.id, outcome))
        return results

    def _checked(self, item: Item) -> tuple[SummarizeRequest, Document] | ApiError:
        try:
            fields = {"text": item.article, "title": item.title, **self.options}
            request = validate_summarize(fields, self.models, self.settings)
            document = prepare(request.article.text, request.article.title)
            require_sentences(document)
        except ApiError as error:
            return error
        return request, document

    def _summaries(self, jobs: list[Job]) -> list[Summary | ApiError]:
        """The engine's summaries; a failed batch is retried job by job, and a failed job is its error."""
        if not jobs:
            return []
        try:
            return self.engine.summarize(jobs)
        except Exception as error:  # any engine failure: the rest of the corpus goes on
            if len(jobs) > 1:
                log.warning("the engine failed on a batch of %d (%s); retrying one by one", len(jobs), error)
                return [outcome for job in jobs for outcome in self._summaries([job])]
            log.exception("the engine failed on a record")
            return [ApiError(500, "internal_error", f"The engine failed: {type(error).__name__}: {error}")]

    def _answer(self, summary: Summary, request: SummarizeRequest, document: Document, started: float) -> dict:
        summary.warnings[:0] = request.article.warnings
        latency_ms = (time.perf_counter() - started) * 1000
        response = summary_response(summary, document, request.article.words, self.reference, latency_ms)
        return response.model_dump(mode="json", exclude_unset=True)


def _result(record_id: str, outcome: dict | ApiError) -> Result:
    if isinstance(outcome, ApiError):
        error = {"code": outcome.code, "message": outcome.message}
        return Result(record_id, encode_line({"id": record_id, "error": error}), outcome.code)
    return Result(record_id, encode_line({"id": record_id, **outcome}))


def encode_line(value: dict) -> str:
    """JSON on one line, UTF-8 text kept readable; ASCII escapes when it holds a lone surrogate (an id can)."""
    line = json.dumps(value, ensure_ascii=False)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value)
    return line
