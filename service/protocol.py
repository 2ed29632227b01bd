"""The wire schema of the HTTP API: requests, responses and errors as pydantic models.

Request validation (`service/schema.py`) and the OpenAPI document (`service/openapi.py`)
both come from these models, so the contract cannot drift from the code. Request models
depend on the deployment (defaults and bounds come from `Settings`), so they are built
per app by `RequestModels.for_settings`; responses are fixed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, RootModel, StrictInt, StrictStr, create_model

from service.domain import MAX_BULLETS_RANGE, MAX_TITLE_CHARS, MIN_SHORT_MAX_WORDS, Style

if TYPE_CHECKING:  # the client imports this module: no engines, no torch
    from service.config import Settings

MAX_ID_CHARS = 200

# Every error the API answers with: code -> (HTTP status, when).
ERRORS: dict[str, tuple[int, str]] = {
    "invalid_json": (400, "malformed JSON, JSON nested too deeply, or JSON that is not an object"),
    "invalid_encoding": (400, "the body is not UTF-8"),
    "invalid_body": (400, "the body is shorter than its Content-Length, or its chunked encoding is malformed"),
    "missing_text": (400, "no `text` (nor `html`, nor `url`)"),
    "conflicting_input": (400, "more than one of `text`, `html` and `url`"),
    "empty_text": (400, "`text` is empty or only whitespace"),
    "invalid_field": (400, "a field of the wrong type"),
    "unknown_field": (400, "a field the API does not know"),
    "invalid_style": (400, "`style` is not short, bullets or both"),
    "out_of_range": (400, "a number outside its range, or a list with too few or too many items"),
    "bad_request": (400, "HTTP the server cannot parse (bad request line, duplicate Content-Length, line folding)"),
    "url_not_allowed": (400, "a `url` that is not http(s), has no host, or carries user info"),
    "unauthorized": (401, "API keys are on and the request has no valid one"),
    "not_found": (404, "unknown route"),
    "method_not_allowed": (405, "wrong method (`Allow` header set)"),
    "request_timeout": (408, "the request did not arrive whole within `SUMMARIZER_READ_TIMEOUT_S` of its first byte"),
    "payload_too_large": (413, "body over `SUMMARIZER_MAX_BODY_BYTES` (refused from Content-Length, unread)"),
    "text_too_long": (413, "more words than `SUMMARIZER_MAX_INPUT_WORDS`, or more than 3x as many words and symbols"),
    "title_too_long": (400, f"`title` over {MAX_TITLE_CHARS} characters"),
    "page_too_large": (413, "a page over `SUMMARIZER_MAX_PAGE_BYTES` (posted, or fetched: checked while streaming)"),
    "uri_too_long": (414, "a request line over 4094 bytes"),
    "unsupported_media_type": (415, "not `application/json`, `text/plain` or `text/html`"),
    "forbidden": (403, "a forwarded request from a proxy gunicorn does not trust"),
    "address_not_allowed": (403, "a `url` whose host is not public (loopback, private, link-local...) nor allowed"),
    "expectation_failed": (417, "an `Expect` header other than 100-continue"),
    "no_sentences": (422, "nothing left to summarize after cleaning"),
    "no_article": (422, "no article text on the page (not HTML, binary data, only scripts or navigation)"),
    "page_too_complex": (422, "a page with more elements than an article page has (besides scripts and navigation)"),
    "unsupported_content_type": (422, "a fetched page that is neither HTML nor plain text"),
    "headers_too_large": (431, "too many or too large headers"),
    "client_closed_request": (499, "the client hung up while its summary was being made (only in the logs)"),
    "internal_error": (500, "a bug; details go to the server log, not the client"),
    "unsupported_transfer_coding": (501, "a Transfer-Encoding other than chunked"),
    "fetch_failed": (502, "the page could not be fetched (DNS, connection, TLS, an error status from its server)"),
    "too_many_redirects": (502, "the page redirects too often (or in a loop)"),
    "not_ready": (503, "`/readyz` while the model loads"),
    "overloaded": (503, "the worker holds all the jobs it can (`Retry-After` set); refused before the body is read"),
    "shutting_down": (503, "the server is draining after SIGTERM"),
    "timeout": (504, "no summary within `SUMMARIZER_REQUEST_TIMEOUT_S` of the request's arrival"),
    "fetch_timeout": (504, "the page did not arrive within `SUMMARIZER_FETCH_TIMEOUT_S` (or the request's own time)"),
}
ErrorCode = Literal[tuple(ERRORS)]  # type: ignore[valid-type]


# An integer; 7.0 is one too (as in JSON Schema), "7" and true are not.
Integer = Annotated[StrictInt, BeforeValidator(lambda v: int(v) if isinstance(v, float) and v.is_integer() else v)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- requests ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestModels:
    """The request models of one deployment (defaults and bounds from its settings)."""

    options: type[BaseModel]  # style, max_bullets, short_max_words
    inputs: dict[str, type[BaseModel]]  # one article by the way it comes: "text", "html", "url" (when fetching is on)
    summarize: type[BaseModel]  # any of `inputs`, for the OpenAPI document
    document: type[BaseModel]  # one article of a batch
    batch: type[BaseModel]  # documents and shared options

    @classmethod
    def for_settings(cls, settings: Settings) -> RequestModels:
        options: dict[str, Any] = {
            "style": (Style, Field("both", description="what to return")),
            "max_bullets": (
                Integer,
                Field(settings.max_bullets, ge=MAX_BULLETS_RANGE[0], le=MAX_BULLETS_RANGE[1], description=BULLETS),
            ),
            "short_max_words": (
                Integer,
                Field(
                    settings.short_max_words,
                    ge=MIN_SHORT_MAX_WORDS,
                    le=settings.short_max_words_limit,
                    description="word budget of the short summary",
                ),
            ),
        }
        title = {
            "title": (
                StrictStr | None,
                Field(
                    None, max_length=MAX_TITLE_CHARS, description="the headline; a repeated headline line is dropped"
                ),
            ),
        }
        article = {"text": (StrictStr, Field(min_length=1, description=TEXT)), **title}
        sources = {
            "text": article,
            "html": {"html": (StrictStr, Field(min_length=1, description=HTML)), **title},
            "url": {
                "url": (StrictStr, Field(max_length=MAX_URL_CHARS, pattern=r"^https?://", description=URL)),
                **title,
            },
        }
        names = {"text": "SummarizeText", "html": "SummarizeHtml", "url": "SummarizeUrl"}
        inputs = {
            source: create_model(names[source], __base__=(_Model,), **fields, **options)
            for source, fields in sources.items()
            if source != "url" or settings.fetch_urls
        }
        document_id = {"id": (StrictStr | None, Field(None, max_length=MAX_ID_CHARS, description="yours, echoed back"))}
        base = (_Model,)
        document = create_model("BatchDocument", __base__=base, **document_id, **article)
        batch_documents = Annotated[
            list[document],
            Field(min_length=1, max_length=settings.batch_documents_limit, description="the articles, in order"),
        ]
        summarize = RootModel[Union[tuple(inputs.values())]]  # noqa: UP007 (a union built at run time)
        summarize.__name__ = "SummarizeRequest"
        return cls(
            options=create_model("SummarizeOptions", __base__=base, **options),
            inputs=inputs,
            summarize=summarize,
            document=document,
            batch=create_model("BatchRequest", __base__=base, documents=(batch_documents, ...), **options),
        )


TEXT = "the article (plain text; scraped pages are fine: debris is removed)"
HTML = "the article as a web page: its main content is extracted, then cleaned as text"
URL = "an http(s) address of the article's page, fetched by the server (only when SUMMARIZER_FETCH_URLS is on)"
MAX_URL_CHARS = 2_048
BULLETS = "upper bound on bullets (the engine returns 3 unless more are clearly salient)"


# -- responses --------------------------------------------------------------------------------


class SourceSpan(_Model):
    start: int = Field(description="character offset into the `text` sent: `text[start:end]`")
    end: int
    score: float | None = Field(description="similarity of the summary sentence to this span (1.0: it is the span)")


class Grounding(_Model):
    support: float | None = Field(
        description="how well the sources back the passage (its weakest sentence's best match)"
    )
    sources: list[SourceSpan]


class GroundingSet(_Model):
    short: Grounding | None = None
    bullets: list[Grounding] | None = None


class EngineRef(_Model):
    name: str
    model: str | None
    version: str


class Stats(_Model):
    input_words: int
    content_words: int = Field(description="words left after page debris was removed")
    sentences: int
    language: str | None = Field(description="ISO 639-1 code of the article's language (py3langid)")
    removed: list[str] = Field(description="page debris cut before summarizing")
    chunks: int
    input_tokens: int
    latency_ms: float


class SummarizeResponse(_Model):
    text: str | None = Field(None, description="html and url input: the extracted text, which the offsets point into")
    short: str | None = Field(None, description="one or two sentences (style short or both)")
    bullets: list[str] | None = Field(None, description="the key points, in document order (style bullets or both)")
    grounding: GroundingSet
    warnings: list[str]
    engine: EngineRef
    stats: Stats


class ErrorBody(_Model):
    code: ErrorCode = Field(description="stable machine-readable code")
    message: str = Field(description="for people")


class ErrorResponse(_Model):
    error: ErrorBody


class BatchItem(_Model):
    id: str | None
    summary: SummarizeResponse | None = Field(description="set when this document was summarized")
    error: ErrorBody | None = Field(description="set when this document was refused or failed")


class BatchStats(_Model):
    documents: int
    summarized: int
    failed: int
    latency_ms: float


class BatchResponse(_Model):
    results: list[BatchItem] = Field(description="one per document, in input order")
    stats: BatchStats


class Health(_Model):
    status: Literal["alive"]


class Ready(_Model):
    status: Literal["ready"]
    engine: str
    load_seconds: float


class Info(BaseModel):
    version: str
    engine: dict[str, Any] = Field(description="engine, model, family, device, dtype and the engine's limits")
    limits: dict[str, Any]
    batching: dict[str, Any] | None
    fields: list[str]
