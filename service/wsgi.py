"""WSGI entry point for gunicorn: `gunicorn -c python:service.gunicorn_conf service.wsgi:app`.

A configuration or model error becomes gunicorn's "App failed to load": the
worker prints one clear line and the whole server exits, instead of a crash loop.
"""

from gunicorn.errors import AppImportError

from service.app import create_app
from service.config import ConfigError

try:
    app = create_app()
except ConfigError as error:
    raise AppImportError(f"summarizer: cannot start: {error}") from None
