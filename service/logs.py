"""Logging: every line carries the request id; `SUMMARIZER_LOG_FORMAT=json` writes one JSON object per line.

gunicorn's own loggers (`gunicorn.error`, `gunicorn.access`) and the service's (`service.*`,
through the root logger) share one handler on stderr. The request id of the request a
thread is serving is kept in a context variable (set by `service.edge`); access lines take
it from the response's `X-Request-Id` header, since gunicorn writes them after the request.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar

request_id: ContextVar[str] = ContextVar("request_id", default="-")

ACCESS_FORMAT = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms pid=%(p)s request_id=%({x-request-id}o)s'
_ACCESS_FIELDS = {"h": "remote", "m": "method", "U": "path", "s": "status", "B": "bytes", "M": "ms"}


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record: the id of the request this thread serves, or '-'."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class AccessFieldsFilter(logging.Filter):
    """gunicorn passes an access line's fields as a dict of atoms: make them fields of the JSON line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, dict):
            for atom, name in _ACCESS_FIELDS.items():
                setattr(record, name, record.args.get(atom))
            record.request_id = record.args.get("{x-request-id}o", "-")
        return True


def logconfig(log_format: str) -> dict:
    """`logging.config.dictConfig` input for gunicorn's `logconfig_dict`."""
    if log_format == "json":
        formatter = {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    else:
        formatter = {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    handler = {"class": "logging.StreamHandler", "stream": "ext://sys.stderr", "formatter": "line"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}, "access": {"()": AccessFieldsFilter}},
        "formatters": {"line": formatter},
        "handlers": {
            "console": {**handler, "filters": ["request_id"]},
            "access": {**handler, "filters": ["request_id", "access"]},
        },
        "root": {"level": "INFO", "handlers": ["console"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["console"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["access"], "propagate": False},
        },
    }
