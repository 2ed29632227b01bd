"""HTTP routes. Thin: admit, read and parse, hand the job to the engine, shape the answer."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import Blueprint, Response, current_app, g, jsonify, request

from service import __version__
from service.batching import Disconnected, Overloaded, TimedOut
from service.domain import MAX_BULLETS_RANGE, MAX_TITLE_CHARS, MIN_SHORT_MAX_WORDS, Job, Options
from service.errors import ApiError
from service.protocol import EngineRef, RequestModels
from service.runtime import Runtime
from service.schema import (
    Article,
    batch_response,
    body_limit,
    parse_batch,
    parse_summarize,
    read_body,
    require_sentences,
    summary_response,
)
from service.text import prepare

routes = Blueprint("api", __name__)
RETRY_AFTER = {"Retry-After": "1"}


def runtime() -> Runtime:
    return current_app.extensions["summarizer"]


def request_models() -> RequestModels:
    return current_app.extensions["request_models"]


@routes.before_app_request
def _start_timer() -> None:
    g.started = time.perf_counter()
    g.deadline = time.monotonic() + runtime().settings.request_timeout_s  # counted from arrival


@routes.after_app_request
def _count(response: Response) -> Response:
    route = request.url_rule.rule if request.url_rule else "unmatched"
    metrics = runtime().metrics
    metrics.requests.labels(route, str(response.status_code), g.get("style", "")).inc()
    metrics.latency.labels(route).observe(time.perf_counter() - g.get("started", time.perf_counter()))
    return response


@routes.get("/healthz")
def healthz():
    return jsonify(status="alive")


@routes.get("/readyz")
def readyz():
    state = runtime()
    if state.draining:
        raise ApiError(503, "shutting_down", "The server is shutting down.")
    if not state.ready:
        raise ApiError(503, "not_ready", "The engine is not available.", RETRY_AFTER)
    return jsonify(status="ready", engine=state.engine.name, load_seconds=round(state.load_seconds, 3))


@routes.get("/metrics")
def metrics():
    return Response(runtime().metrics.render(), content_type=runtime().metrics.content_type)


@routes.get("/v1/info")
def info():
    state = runtime()
    settings = state.settings
    return jsonify(
        version=__version__,
        engine=_without_paths(state.info),
        limits={
            "max_body_bytes": settings.max_body_bytes,
            "max_input_words": settings.max_input_words,
            "max_title_chars": MAX_TITLE_CHARS,
            "max_bullets": list(MAX_BULLETS_RANGE),
            "short_max_words": [MIN_SHORT_MAX_WORDS, settings.short_max_words_limit],
            "default_short_max_words": settings.short_max_words,
            "default_max_bullets": settings.max_bullets,
            "max_batch_documents": settings.batch_documents_limit,
            "max_page_bytes": settings.max_page_bytes,
            "fetch_urls": settings.fetch_urls,
            "request_timeout_s": settings.request_timeout_s,
        },
        batching={
            "max_batch": settings.batch_max_size,
            "max_wait_ms": settings.batch_max_wait_ms,
            "max_queue": settings.queue_max,
        }
        if state.batcher
        else None,
        fields=list(dict.fromkeys(name for model in request_models().inputs.values() for name in model.model_fields)),
    )


@routes.post("/v1/summarize")
def summarize():
    state = runtime()
    with _admitted(state):  # before the body is read: overload costs almost nothing
        limit = body_limit(request.mimetype, state.settings)
        body = read_body(request.environ["wsgi.input"], request.content_length, limit)
        with state.preparing():
            charset = request.mimetype_params.get("charset")
            parsed = parse_summarize(
                body, request.mimetype, request.args, request_models(), state.settings, charset, g.deadline
            )
            g.style = parsed.options.style
            document = prepare(parsed.article.text, parsed.article.title)
            require_sentences(document)
        summary = _run(state, Job(document, parsed.options))
    return jsonify(_answer(state, parsed.article, document, summary).model_dump(mode="json", exclude_unset=True))


@routes.post("/v1/summarize/batch")
def summarize_batch():
    """Each document is its own job: they batch with each other and with other traffic."""
    state = runtime()
    with _admitted(state):  # at least one place before the body is read
        body = read_body(request.environ["wsgi.input"], request.content_length, state.settings.max_body_bytes)
        parsed = parse_batch(body, request.mimetype, request_models(), state.settings)
        g.style = parsed.options.style
        articles = [item for _, item in parsed.items if isinstance(item, Article)]
        with _admitted(state, max(len(articles) - 1, 0)):  # the other documents' places
            outcomes = iter(_summarize_articles(state, articles, parsed.options))
    results = [(id_, item if isinstance(item, ApiError) else next(outcomes)) for id_, item in parsed.items]
    response = batch_response(results, (time.perf_counter() - g.started) * 1000)
    return jsonify(response.model_dump(mode="json", exclude_unset=True))


def _summarize_articles(state: Runtime, articles: list[Article], options: Options) -> list:
    """A summary or an `ApiError` per article, in order."""
    outcomes: list = [None] * len(articles)
    jobs: dict[int, tuple[Job, Article]] = {}
    with state.preparing():
        for index, article in enumerate(articles):
            document = prepare(article.text, article.title)
            try:
                require_sentences(document)
            except ApiError as error:
                outcomes[index] = error
                continue
            jobs[index] = (Job(document, options), article)
    summaries = state.summarize_many([job for job, _ in jobs.values()], g.deadline, _client_gone())
    for (index, (job, article)), summary in zip(jobs.items(), summaries):
        outcomes[index] = _job_error(state, summary) or _answer(state, article, job.document, summary)
    return outcomes


def _answer(state: Runtime, article: Article, document, summary):
    summary.warnings[:0] = article.warnings
    state.metrics.input_words.observe(document.words)
    state.metrics.input_sentences.observe(len(document.sentences))
    state.metrics.input_tokens.observe(summary.input_tokens)
    engine = EngineRef(name=state.engine.name, model=state.info.get("model"), version=__version__)
    latency_ms = (time.perf_counter() - g.started) * 1000
    text = article.text if article.extracted else None
    return summary_response(summary, document, article.words, engine, latency_ms, text)


def _job_error(state: Runtime, outcome) -> ApiError | None:
    if isinstance(outcome, TimedOut):
        state.metrics.rejected.labels("timeout").inc()
        return ApiError(504, "timeout", f"No summary within {state.settings.request_timeout_s} s.")
    if isinstance(outcome, Exception):
        return ApiError(500, "internal_error", "The engine failed on this document; see the server log.")
    return None


@contextmanager
def _admitted(state: Runtime, jobs: int = 1) -> Iterator[None]:
    if state.draining:
        raise ApiError(503, "shutting_down", "The server is shutting down; retry elsewhere.", RETRY_AFTER)
    try:
        with state.admission.admit(jobs):
            yield
    except Overloaded:
        state.metrics.rejected.labels("queue_full").inc()
        raise ApiError(503, "overloaded", "Too many requests are waiting; retry shortly.", RETRY_AFTER) from None


def _run(state: Runtime, job: Job):
    try:
        return state.summarize(job, g.deadline, _client_gone())
    except Overloaded:
        state.metrics.rejected.labels("queue_full").inc()
        raise ApiError(503, "overloaded", "Too many requests are waiting; retry shortly.", RETRY_AFTER) from None
    except TimedOut:
        state.metrics.rejected.labels("timeout").inc()
        raise ApiError(504, "timeout", f"No summary within {state.settings.request_timeout_s} s.") from None
    except Disconnected:
        state.metrics.rejected.labels("client_gone").inc()
        raise ApiError(499, "client_closed_request", "The client closed the connection.") from None


def _client_gone() -> Callable[[], bool]:
    """A check that the client hung up (gunicorn exposes the socket); never true elsewhere."""
    sock = request.environ.get("gunicorn.socket")
    if sock is None:
        return lambda: False

    def gone() -> bool:
        try:
            return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True

    return gone


def _without_paths(info: dict) -> dict:
    """Engine facts for the public: an absolute path (model files, site-packages) is cut to its last part."""
    return {
        key: os.path.basename(value) if isinstance(value, str) and os.path.isabs(value) else value
        for key, value in info.items()
    }
