"""Validation of `/v1/summarize` requests and the shape of its responses."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any

from gunicorn.http.errors import ParseException

from service.config import Settings
from service.domain import (
    MAX_BULLETS_RANGE,
    MAX_TITLE_CHARS,
    MIN_SHORT_MAX_WORDS,
    STYLES,
    Document,
    Options,
    Passage,
    Summary,
)
from service.errors import ApiError
from service.text import count_pieces, count_words

FIELDS = ("text", "title", "style", "max_bullets", "short_max_words")
PIECES_PER_WORD = 3  # words plus punctuation marks; bounds the segmenter's work (about 9 µs per piece)
READ_CHUNK = 65_536
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class SummarizeRequest:
    text: str
    words: int
    title: str | None
    options: Options
    warnings: tuple[str, ...] = ()


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


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "payload_too_large", f"The body is larger than {limit} bytes.")


def parse_body(body: bytes, media_type: str, query: Mapping[str, str], settings: Settings) -> SummarizeRequest:
    """The raw body (JSON or text/plain; `media_type` without parameters) as a validated request, or `ApiError`."""
    if media_type not in ("application/json", "text/plain"):
        raise ApiError(415, "unsupported_media_type", "Send JSON (Content-Type: application/json) or text/plain.")
    try:
        decoded = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ApiError(400, "invalid_encoding", f"The body is not valid UTF-8 (byte {error.start}).") from None
    if media_type == "text/plain":
        fields: dict[str, Any] = {"text": decoded, **_query_fields(query)}
    else:
        fields = _json_object(decoded)
    return _validate(fields, settings)


def _json_object(decoded: str) -> dict[str, Any]:
    try:
        fields = json.loads(decoded)
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
    fields: dict[str, Any] = {}
    for name, value in query.items():
        if name == "text":
            raise ApiError(400, "unknown_field", "With text/plain the article is the body, not a `text` parameter.")
        fields[name] = _int_param(name, value) if name in ("max_bullets", "short_max_words") else value
    return fields


def _int_param(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ApiError(400, "invalid_field", f"`{name}` must be an integer, got {value!r}.") from None


def _validate(fields: dict[str, Any], settings: Settings) -> SummarizeRequest:
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise ApiError(400, "unknown_field", f"Unknown field(s): {', '.join(unknown)}. Allowed: {', '.join(FIELDS)}.")
    text, words = _text(fields, settings)
    title = _optional_str(fields, "title")
    if title is not None and len(title) > MAX_TITLE_CHARS:
        raise ApiError(413, "title_too_long", f"`title` has {len(title)} characters; the limit is {MAX_TITLE_CHARS}.")
    (text, title), warnings = _repair_surrogates(text, title)
    style = fields.get("style", "both")
    if style not in STYLES:
        raise ApiError(400, "invalid_style", f"`style` must be one of {', '.join(STYLES)}, got {style!r}.")
    max_bullets = _bounded_int(fields, "max_bullets", settings.max_bullets, *MAX_BULLETS_RANGE)
    short_words = _bounded_int(
        fields, "short_max_words", settings.short_max_words, MIN_SHORT_MAX_WORDS, settings.short_max_words_limit
    )
    options = Options(style=style, max_bullets=max_bullets, short_max_words=short_words)
    return SummarizeRequest(text, words, title, options, warnings)


def _text(fields: dict[str, Any], settings: Settings) -> tuple[str, int]:
    if "text" not in fields or fields["text"] is None:
        raise ApiError(400, "missing_text", "The request has no `text` to summarize.")
    text = fields["text"]
    if not isinstance(text, str):
        raise ApiError(400, "invalid_field", f"`text` must be a string, got {type(text).__name__}.")
    if not text.strip():
        raise ApiError(400, "empty_text", "`text` is empty or only whitespace.")
    words = count_words(text)
    if words > settings.max_input_words:
        raise ApiError(413, "text_too_long", f"`text` has {words} words; the limit is {settings.max_input_words}.")
    pieces, most = count_pieces(text), PIECES_PER_WORD * settings.max_input_words
    if pieces > most:
        raise ApiError(413, "text_too_long", f"`text` has {pieces} words and symbols; the limit is {most}.")
    return text, words


def _repair_surrogates(*texts: str | None) -> tuple[list[str | None], tuple[str, ...]]:
    """Unpaired surrogates (invalid `\\ud800`-style JSON escapes) become U+FFFD; offsets do not move."""
    repaired, count = [], 0
    for text in texts:
        if text is not None:
            text, found = _SURROGATE.subn("\ufffd", text)
            count += found
        repaired.append(text)
    warning = f"{count} unpaired surrogate code point(s) were replaced with U+FFFD" if count else None
    return repaired, (warning,) if warning else ()


def _optional_str(fields: dict[str, Any], name: str) -> str | None:
    value = fields.get(name)
    if value is not None and not isinstance(value, str):
        raise ApiError(400, "invalid_field", f"`{name}` must be a string, got {type(value).__name__}.")
    return value or None


def _bounded_int(fields: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = fields.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(400, "invalid_field", f"`{name}` must be an integer, got {type(value).__name__}.")
    if not low <= value <= high:
        raise ApiError(400, "out_of_range", f"`{name}` must be between {low} and {high}, got {value}.")
    return value


def require_sentences(document: Document) -> None:
    if not document.sentences:
        raise ApiError(422, "no_sentences", "No sentences were found in `text` after removing page debris.")


def summary_json(
    summary: Summary, document: Document, input_words: int, engine: dict, latency_ms: float
) -> dict[str, Any]:
    """The response body: plain strings for the summaries, grounding alongside."""
    body: dict[str, Any] = {}
    grounding: dict[str, Any] = {}
    if summary.short is not None:
        body["short"] = summary.short.text
        grounding["short"] = _grounding(summary.short)
    if summary.bullets is not None:
        body["bullets"] = [bullet.text for bullet in summary.bullets]
        grounding["bullets"] = [_grounding(bullet) for bullet in summary.bullets]
    body["grounding"] = grounding
    body["warnings"] = summary.warnings
    body["engine"] = engine
    body["stats"] = {
        "input_words": input_words,
        "content_words": document.words,
        "sentences": len(document.sentences),
        "language": document.language,
        "removed": document.dropped,
        "chunks": summary.chunks,
        "input_tokens": summary.input_tokens,
        "latency_ms": round(latency_ms, 2),
    }
    return body


def _grounding(passage: Passage) -> dict[str, Any]:
    return {
        "support": passage.support,
        "sources": [{"start": s.start, "end": s.end, "score": s.score} for s in passage.sources],
    }
