"""HTTP routes. Thin: parse, hand the job to the engine, shape the answer."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

from flask import Blueprint, Response, current_app, g, jsonify, request

from service import __version__
from service.batching import Disconnected, Overloaded, TimedOut
from service.domain import MAX_BULLETS_RANGE, MIN_SHORT_MAX_WORDS, Job
from service.errors import ApiError
from service.runtime import Runtime
from service.schema import FIELDS, parse_body, require_sentences, summary_json
from service.text import prepare

routes = Blueprint("api", __name__)


def runtime() -> Runtime:
    return current_app.extensions["summarizer"]


@routes.before_app_request
def _start_timer() -> None:
    g.started = time.perf_counter()


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
    if not state.ready:
        raise ApiError(503, "not_ready", "The engine is not available.", {"Retry-After": "1"})
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
        engine=state.info,
        limits={
            "max_body_bytes": settings.max_body_bytes,
            "max_input_words": settings.max_input_words,
            "max_bullets": list(MAX_BULLETS_RANGE),
            "short_max_words": [MIN_SHORT_MAX_WORDS, settings.short_max_words_limit],
            "default_short_max_words": settings.short_max_words,
            "default_max_bullets": settings.max_bullets,
            "request_timeout_s": settings.request_timeout_s,
        },
        batching={
            "max_batch": settings.batch_max_size,
            "max_wait_ms": settings.batch_max_wait_ms,
            "max_queue": settings.queue_max,
        }
        if state.batcher
        else None,
        fields=list(FIELDS),
    )


@routes.post("/v1/summarize")
def summarize():
    state = runtime()
    body = request.get_data(cache=False)  # read from the network before the batcher counts on this request
    with state.preparing():
        parsed = parse_body(body, request.mimetype, request.args, state.settings)
        g.style = parsed.options.style
        document = prepare(parsed.text, parsed.title)
        require_sentences(document)
    summary = _run(state, Job(document, parsed.options))
    state.metrics.input_words.observe(document.words)
    state.metrics.input_sentences.observe(len(document.sentences))
    state.metrics.input_tokens.observe(summary.input_tokens)
    engine = {"name": state.engine.name, "model": state.info.get("model"), "version": __version__}
    return jsonify(summary_json(summary, document, parsed.words, engine, (time.perf_counter() - g.started) * 1000))


def _run(state: Runtime, job: Job):
    try:
        return state.summarize(job, _client_gone())
    except Overloaded:
        state.metrics.rejected.labels("queue_full").inc()
        raise ApiError(
            503, "overloaded", "Too many requests are waiting; retry shortly.", {"Retry-After": "1"}
        ) from None
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
