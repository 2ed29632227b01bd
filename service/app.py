"""Application factory: `create_app(settings)` builds a ready-to-serve Flask app."""

from __future__ import annotations

from flask import Flask

from service import edge, openapi
from service.api import routes
from service.config import Settings
from service.engines import Engine
from service.errors import register_error_handlers
from service.protocol import RequestModels
from service.runtime import Runtime
from service.web import web


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> Flask:
    """Load the engine (or use the given one), warm it up and register the routes."""
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.json.sort_keys = False
    app.extensions["summarizer"] = Runtime.start(settings, engine)
    app.extensions["request_models"] = models = RequestModels.for_settings(settings)
    app.extensions["openapi"] = openapi.document(models, settings)
    edge.install(app, settings)
    app.register_blueprint(routes)
    app.register_blueprint(openapi.docs)
    app.register_blueprint(web)
    register_error_handlers(app)
    return app
