"""Validation of `/v1/summarize` requests and the shape of its responses."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from service.config import Settings
from service.domain import MAX_BULLETS_RANGE, MIN_SHORT_MAX_WORDS, STYLES, Document, Options, Passage, Summary
from service.errors import ApiError
from service.text import count_words

FIELDS = ("text", "title", "style", "max_bullets", "short_max_words")


@dataclass(frozen=True)
class SummarizeRequest:
    text: str
    words: int
    title: str | None
    options: Options


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
    style = fields.get("style", "both")
    if style not in STYLES:
        raise ApiError(400, "invalid_style", f"`style` must be one of {', '.join(STYLES)}, got {style!r}.")
    max_bullets = _bounded_int(fields, "max_bullets", settings.max_bullets, *MAX_BULLETS_RANGE)
    short_words = _bounded_int(
        fields, "short_max_words", settings.short_max_words, MIN_SHORT_MAX_WORDS, settings.short_max_words_limit
    )
    return SummarizeRequest(
        text, words, title, Options(style=style, max_bullets=max_bullets, short_max_words=short_words)
    )


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
    return text, words


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
