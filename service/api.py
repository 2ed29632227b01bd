"""HTTP routes. Thin: parse, hand the job to the engine, shape the answer."""
from __future__ import annotations

import time

from flask import Blueprint, current_app, jsonify, request

from service import __version__
from service.engines.base import Job
from service.errors import ApiError
from service.runtime import Runtime
from service.schema import FIELDS, MAX_BULLETS_RANGE, MIN_SHORT_WORDS, parse_body, require_sentences, summary_json
from service.text import prepare

routes = Blueprint("api", __name__)


def runtime() -> Runtime:
    return current_app.extensions["summarizer"]


@routes.get("/healthz")
def healthz():
    return jsonify(status="alive")


@routes.get("/readyz")
def readyz():
    state = runtime()
    if not state.ready:
        raise ApiError(503, "not_ready", "The model is still loading.", {"Retry-After": "1"})
    return jsonify(status="ready", engine=state.engine.name, load_seconds=round(state.load_seconds, 3))


@routes.get("/v1/info")
def info():
    state = runtime()
    settings = state.settings
    return jsonify(
        version=__version__,
        engine=state.engine.info(),
        limits={
            "max_body_bytes": settings.max_body_bytes,
            "max_input_words": settings.max_input_words,
            "max_bullets": list(MAX_BULLETS_RANGE),
            "short_max_words": [MIN_SHORT_WORDS, settings.max_short_words],
            "default_short_max_words": settings.default_short_words,
            "default_max_bullets": settings.default_max_bullets,
        },
        fields=list(FIELDS),
    )


@routes.post("/v1/summarize")
def summarize():
    started = time.perf_counter()
    state = runtime()
    parsed = parse_body(request.get_data(cache=False), request.content_type, request.args, state.settings)
    document = prepare(parsed.text, parsed.title)
    require_sentences(document)
    summary = state.summarize(Job(document, parsed.options))
    engine = {"name": state.engine.name, "model": state.info.get("model"), "version": __version__}
    return jsonify(summary_json(summary, document, engine, (time.perf_counter() - started) * 1000))
