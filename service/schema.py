"""Reading and validating requests with the models of `service.protocol`, and shaping the answers.

Every refusal is an `ApiError` with a stable code. Besides what the models check, the
article must hold a word (`empty_text`), stay within the word and symbol limits
(`text_too_long`), and unpaired surrogates (invalid `\\ud800`-style JSON escapes) are
replaced with U+FFFD, with a warning; offsets do not move.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any

from gunicorn.http.errors import ParseException
from pydantic import BaseModel, ValidationError

from service import sources
from service.config import Settings
from service.domain import STYLES, Document, Options, Passage, Summary
from service.errors import ApiError
from service.protocol import (
    BatchItem,
    BatchResponse,
    BatchStats,
    EngineRef,
    ErrorBody,
    Grounding,
    GroundingSet,
    RequestModels,
    SourceSpan,
    Stats,
    SummarizeResponse,
)
from service.text import count_pieces, count_words

PIECES_PER_WORD = 3  # words plus punctuation marks; bounds the segmenter's work (about 9 µs per piece)
READ_CHUNK = 65_536
MEDIA_TYPES = ("application/json", "text/plain", "text/html")
INPUTS = ("text", "html", "url")  # exactly one per article
_SURROGATE = re.compile("[\ud800-\udfff]")
_INTEGER_OPTIONS = ("max_bullets", "short_max_words")


@dataclass(frozen=True)
class Article:
    """One validated article of a request."""

    text: str
    words: int
    title: str | None
    warnings: tuple[str, ...] = ()
    extracted: bool = False  # the text came from a page (html or url input): the answer returns it


@dataclass(frozen=True)
class SummarizeRequest:
    article: Article
    options: Options


@dataclass(frozen=True)
class BatchRequest:
    items: list[tuple[str | None, Article | ApiError]]  # (id, article) in input order; a bad document: its error
    options: Options


def body_limit(media_type: str, settings: Settings) -> int:
    """The largest body `/v1/summarize` reads: a page (text/html, or JSON that may carry one) may be larger."""
    if media_type in ("text/html", "application/json"):
        return max(settings.max_body_bytes, settings.max_page_bytes)
    return settings.max_body_bytes


def read_body(stream: IO[bytes], content_length: int | None, limit: int) -> bytes:
    """The whole body, or `ApiError`: 413 past `limit` (unread when Content-Length says so), 400 when cut short.

    Nothing is ever summarized from a partial body: a chunked body over the limit and a
    body shorter than its Content-Length are errors, not truncated texts.
    """
    if content_length is not None and content_length > limit:
        raise _too_large(limit)
    chunks, size = [], 0
    try:
        while chunk := stream.read(READ_CHUNK):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            if content_length is not None and size >= content_length:
                break
    except (OSError, ParseException) as error:  # the client went away, or sent a malformed chunked body
        raise ApiError(400, "invalid_body", f"The request body could not be read: {type(error).__name__}.") from None
    if content_length is not None and size != content_length:
        raise ApiError(400, "invalid_body", f"The body has {size} bytes; Content-Length announced {content_length}.")
    return b"".join(chunks)


def parse_summarize(
    body: bytes,
    media_type: str,
    query: Mapping[str, str],
    models: RequestModels,
    settings: Settings,
    charset: str | None = None,
    deadline: float | None = None,
) -> SummarizeRequest:
    """A JSON, text/plain or text/html body, with options in the query string, as a validated request."""
    _require_media_type(media_type, MEDIA_TYPES)
    options = _query_fields(query)  # with a JSON body too, where the body's fields take precedence
    if options:
        _validate(models.options, options)  # a bad query option is refused even when the body overrides it
    if media_type == "text/plain":
        fields = {"text": _decoded(body), **options}
    elif media_type == "text/html":
        fields = {"html": sources.decode_page(body, charset), **options}
    else:
        fields = {**options, **_json_object(body)}
        if fields.get("html") is None and len(body) > settings.max_body_bytes:  # only a page may be larger
            raise _too_large(settings.max_body_bytes)
    return validate_summarize(fields, models, settings, deadline)


def validate_summarize(
    fields: dict[str, Any], models: RequestModels, settings: Settings, deadline: float | None = None
) -> SummarizeRequest:
    """The fields of one summary request (decoded JSON, or the CLI's arguments) as a validated request.

    The article comes as `text`, `html` (its main content is extracted) or `url` (fetched by `deadline`).
    """
    given = [name for name in INPUTS if fields.get(name) is not None]
    if not given:  # whatever else is wrong
        raise ApiError(400, "missing_text", "The request has no `text` (nor `html`, nor `url`) to summarize.")
    if len(given) > 1:
        raise ApiError(400, "conflicting_input", f"Send one of `text`, `html` or `url`, not {' and '.join(given)}.")
    source = given[0]
    if source not in models.inputs:
        raise ApiError(400, "unknown_field", "`url`: fetching pages is off on this server (SUMMARIZER_FETCH_URLS).")
    fields, warnings = _repaired(fields)
    validated = _validate(models.inputs[source], fields)
    text, title = sources.article(source, getattr(validated, source), settings, deadline)
    article = _article(text, validated.title or title, settings, warnings, extracted=source != "text")
    return SummarizeRequest(article, _options(validated))


def parse_batch(body: bytes, media_type: str, models: RequestModels, settings: Settings) -> BatchRequest:
    """A JSON batch. A request outside the schema fails whole (400); a document that cannot be summarized
    (empty, too long) becomes its own error, and the others are summarized."""
    _require_media_type(media_type, ("application/json",))
    fields = _json_object(body)
    documents = fields.get("documents")
    repaired = (
        [_repaired(d) if isinstance(d, dict) else (d, ()) for d in documents] if isinstance(documents, list) else []
    )
    validated = _validate(models.batch, {**fields, "documents": [d for d, _ in repaired] or documents})
    items: list[tuple[str | None, Article | ApiError]] = []
    for document, (_, warnings) in zip(validated.documents, repaired):
        try:
            items.append((document.id, _article(document.text, document.title, settings, warnings)))
        except ApiError as error:
            items.append((document.id, error))
    return BatchRequest(items, _options(validated))


def _decoded(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ApiError(400, "invalid_encoding", f"The body is not valid UTF-8 (byte {error.start}).") from None


def _require_media_type(media_type: str, allowed: tuple[str, ...]) -> None:
    if media_type not in allowed:
        got = media_type or "no Content-Type"
        raise ApiError(415, "unsupported_media_type", f"Send {' or '.join(allowed)} (Content-Type); got {got}.")


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        fields = json.loads(_decoded(body))
    except json.JSONDecodeError as error:
        raise ApiError(
            400, "invalid_json", f"Malformed JSON: {error.msg} (line {error.lineno}, column {error.colno})."
        ) from None
    except RecursionError:
        raise ApiError(400, "invalid_json", "The JSON is nested too deeply.") from None
    except ValueError as error:  # e.g. an integer longer than Python converts (4300 digits)
        raise ApiError(400, "invalid_json", f"Malformed JSON: {error}.") from None
    if not isinstance(fields, dict):
        raise ApiError(400, "invalid_json", 'The JSON body must be an object such as {"text": "..."}.')
    return fields


def _query_fields(query: Mapping[str, str]) -> dict[str, Any]:
    """Options of a text/plain request come from the query string; numbers are parsed."""
    if "text" in query:
        raise ApiError(400, "unknown_field", "With text/plain the article is the body, not a `text` parameter.")
    return {name: _integer(value) if name in _INTEGER_OPTIONS else value for name, value in query.items()}


def _integer(value: str) -> int | str:
    return int(value) if re.fullmatch(r"[+-]?\d{1,9}", value) else value  # anything else: the model says why


def _validate(model: type[BaseModel], fields: dict[str, Any]) -> BaseModel:
    try:
        return model.model_validate(fields)
    except ValidationError as error:
        raise _api_error(error.errors()[0], model) from None


def _api_error(problem: dict[str, Any], model: type[BaseModel]) -> ApiError:
    """A pydantic error as the API's stable code (the first problem is reported)."""
    kind, location = problem["type"], problem["loc"]
    field = ".".join(str(part) for part in location)
    name = location[-1] if location else ""
    if kind == "extra_forbidden":
        allowed = ", ".join(model.model_fields)
        return ApiError(400, "unknown_field", f"Unknown field `{field}`. Allowed: {allowed}.")
    if name == "text" and kind == "string_too_short":
        return ApiError(400, "empty_text", "`text` is empty or only whitespace.")
    if name == "title" and kind == "string_too_long":
        return ApiError(400, "title_too_long", f"`title` is longer than {problem['ctx']['max_length']} characters.")
    if name == "style" and kind == "literal_error":
        return ApiError(400, "invalid_style", f"`style` must be one of {', '.join(STYLES)}, got {problem['input']!r}.")
    if kind in ("greater_than_equal", "less_than_equal", "too_short", "too_long", "string_too_long"):
        return ApiError(400, "out_of_range", f"`{field}`: {problem['msg']}.")
    if kind == "missing":
        return ApiError(400, "invalid_field", f"`{field}` is required.")
    return ApiError(400, "invalid_field", f"`{field}`: {problem['msg']} (got {type(problem['input']).__name__}).")


def _article(
    text: str, title: str | None, settings: Settings, warnings: tuple[str, ...], extracted: bool = False
) -> Article:
    if not text.strip():
        raise ApiError(400, "empty_text", "`text` is empty or only whitespace.")
    words = count_words(text)
    if words > settings.max_input_words:
        raise ApiError(413, "text_too_long", f"`text` has {words} words; the limit is {settings.max_input_words}.")
    pieces, most = count_pieces(text), PIECES_PER_WORD * settings.max_input_words
    if pieces > most:
        raise ApiError(413, "text_too_long", f"`text` has {pieces} words and symbols; the limit is {most}.")
    return Article(text, words, title or None, warnings, extracted)


def _options(validated: BaseModel) -> Options:
    return Options(style=validated.style, max_bullets=validated.max_bullets, short_max_words=validated.short_max_words)


def _repaired(fields: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Unpaired surrogates in string fields become U+FFFD (one code point for one: offsets do not move)."""
    repaired, count = {}, 0
    for name, value in fields.items():
        if isinstance(value, str):
            value, found = _SURROGATE.subn("\ufffd", value)
            count += found
        repaired[name] = value
    return repaired, (f"{count} unpaired surrogate code point(s) were replaced with U+FFFD",) if count else ()


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "payload_too_large", f"The body is larger than {limit} bytes.")


def require_sentences(document: Document) -> None:
    if not document.sentences:
        raise ApiError(422, "no_sentences", "No sentences were found in `text` after removing page debris.")


def summary_response(
    summary: Summary,
    document: Document,
    input_words: int,
    engine: EngineRef,
    latency_ms: float,
    text: str | None = None,
) -> SummarizeResponse:
    """The answer: plain strings for the summaries, grounding alongside (and `text`, when it was extracted)."""
    fields: dict[str, Any] = {"text": text} if text is not None else {}
    grounding: dict[str, Any] = {}
    if summary.short is not None:
        fields["short"] = summary.short.text
        grounding["short"] = _grounding(summary.short)
    if summary.bullets is not None:
        fields["bullets"] = [bullet.text for bullet in summary.bullets]
        grounding["bullets"] = [_grounding(bullet) for bullet in summary.bullets]
    stats = Stats(
        input_words=input_words,
        content_words=document.words,
        sentences=len(document.sentences),
        language=document.language,
        removed=document.dropped,
        chunks=summary.chunks,
        input_tokens=summary.input_tokens,
        latency_ms=round(latency_ms, 2),
    )
    return SummarizeResponse(
        **fields, grounding=GroundingSet(**grounding), warnings=summary.warnings, engine=engine, stats=stats
    )


def batch_response(results: list[tuple[str | None, SummarizeResponse | ApiError]], latency_ms: float) -> BatchResponse:
    items = [
        BatchItem(id=id_, summary=None, error=ErrorBody(code=outcome.code, message=outcome.message))
        if isinstance(outcome, ApiError)
        else BatchItem(id=id_, summary=outcome, error=None)
        for id_, outcome in results
    ]
    failed = sum(item.error is not None for item in items)
    stats = BatchStats(
        documents=len(items), summarized=len(items) - failed, failed=failed, latency_ms=round(latency_ms, 2)
    )
    return BatchResponse(results=items, stats=stats)


def _grounding(passage: Passage) -> Grounding:
    sources = [SourceSpan(start=s.start, end=s.end, score=s.score) for s in passage.sources]
    return Grounding(support=passage.support, sources=sources)
