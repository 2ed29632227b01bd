"""Gunicorn settings, derived from the service's `Settings` (environment variables).

One worker process per container by default, holding one model copy; gthread
threads accept concurrent requests while torch uses the cores for inference.
"""

from service.config import Settings

_settings = Settings.from_env()

bind = f"{_settings.host}:{_settings.port}"
workers = _settings.web_concurrency
threads = _settings.gunicorn_threads
worker_class = "gthread"
timeout = _settings.gunicorn_timeout
graceful_timeout = 30
keepalive = 5
accesslog = "-"
errorlog = "-"
loglevel = "info"
