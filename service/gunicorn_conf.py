"""Gunicorn settings, derived from the service's `Settings` (environment variables).

One worker process per container by default, holding one model copy; its threads accept
concurrent requests while torch uses the cores. The worker class is gthread hardened for
exposure (service/gunicorn_worker.py): whole requests only, JSON errors, draining on SIGTERM.
"""

import os
import tempfile
from pathlib import Path

from service import logs  # imported as a module: gunicorn reads every module-level name as a setting
from service.config import ConfigError, Settings

try:
    _settings = Settings.from_env()
except ConfigError as error:
    raise SystemExit(f"summarizer: cannot start: {error}") from None

bind = f"{_settings.host}:{_settings.port}"
workers = _settings.web_concurrency
threads = _settings.gunicorn_threads
worker_class = "service.gunicorn_worker.BufferingWorker"
timeout = _settings.gunicorn_timeout
graceful_timeout = 30
keepalive = 5
control_socket_disable = True  # one fixed path per user: two servers on one machine would fight over it
accesslog = "-"
errorlog = "-"
loglevel = "info"
access_log_format = logs.ACCESS_FORMAT
logconfig_dict = logs.logconfig(_settings.log_format)


def on_starting(_server) -> None:
    """One scrape of /metrics sees every worker: prometheus-client's multiprocess mode, in a directory
    of this server's own (set in the master, before the workers start and import the client)."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="summarizer-metrics-")
    for stale in Path(directory).glob("*.db"):  # a previous run's values
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory


def child_exit(_server, worker) -> None:
    """A worker's live gauges go with it (its counters stay in the totals)."""
    from prometheus_client import multiprocess  # not at the top: the master must not fix the client's mode early

    multiprocess.mark_process_dead(worker.pid)
