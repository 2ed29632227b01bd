"""All configuration, read from environment variables in this one place.

Each setting is a field of `Settings`, and its environment variable is derived from the
field's name: `SUMMARIZER_` + the name in capitals (`short_max_words` is
`SUMMARIZER_SHORT_MAX_WORDS`), except the server's conventional names `HOST`, `PORT`,
`WEB_CONCURRENCY`, `GUNICORN_THREADS` and `GUNICORN_TIMEOUT`. A setting named after a
request field (`max_bullets`, `short_max_words`) is that field's default. Engine
settings left unset (None) take the engine's own default (the keyword defaults of its
`load`); the engine receives the settings whose names are its arguments. An unknown
`SUMMARIZER_*` variable stops the start, so a typo never passes silently.
"""

from __future__ import annotations

import difflib
import inspect
import json
import os
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from service.domain import SHORT_MAX_WORDS_LIMIT, Options
from service.engines import ENGINES, Engine, engine_class
from service.engines.base import ArgumentError
from service.fetch import AllowList

PREFIX = "SUMMARIZER_"
LOG_FORMATS = ("text", "json")
BOOLEANS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}
SERVER_NAMES = ("host", "port", "web_concurrency", "gunicorn_threads", "gunicorn_timeout")


class ConfigError(ValueError):
    """A configuration value is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """Service settings; see the module docstring for their environment variables."""

    # The server (gunicorn).
    host: str = "127.0.0.1"
    port: int = 8000
    web_concurrency: int = 1  # worker processes, each with its own model copy
    gunicorn_threads: int = 64  # more than batch + queue: a batch can fill, and excess requests get a quick 503
    gunicorn_timeout: int = 60
    torch_threads: int = 0  # 0: the cores shared among the workers
    # The engine; None: the engine's default.
    engine: str = ""  # "embedded" or "abstractive"; empty: abstractive when a model is set
    model: str | None = None
    embedding_model: str | None = None
    embedding_layers: int | None = None
    device: str | None = None
    dtype: str | None = None
    max_input_tokens: int | None = None
    max_chunks: int | None = None
    chunk_overlap: int | None = None
    generate_batch: int | None = None
    generation: dict | None = None
    support_threshold: float | None = None
    gguf_cache: str | None = None  # where a `.gguf` model is converted to (default: ~/.cache/article-summarizer/gguf)
    # The edge: who may call, from which web origins, and how the logs look.
    api_keys: str = ""  # comma-separated; when set, /v1/* needs `Authorization: Bearer KEY` or `X-API-Key: KEY`
    cors_origins: str = ""  # comma-separated origins allowed to call the API from a browser; empty: no CORS headers
    log_format: str = "text"  # or "json": one JSON object per line, request id included
    # Requests.
    read_timeout_s: int = 10  # a request must arrive whole within this long of its first byte (else 408)
    max_batch_documents: int = 32  # documents per /v1/summarize/batch call (never more than `jobs_held`)
    max_body_bytes: int = 1_000_000
    max_input_words: int = 20_000
    max_bullets: int = Options.max_bullets
    short_max_words: int = Options.short_max_words
    short_max_words_limit: int = SHORT_MAX_WORDS_LIMIT
    # Pages: HTML bodies and fields, and URLs to fetch.
    max_page_bytes: int = 5_000_000  # an HTML page, posted or fetched (decoded); real news pages have 1-3 MB
    fetch_urls: bool = False  # accept a `url` to fetch; off by default: the server then makes requests for clients
    fetch_allow: str = ""  # comma-separated hosts and CIDR networks fetched although not public (e.g. an intranet)
    fetch_timeout_s: int = 10  # a whole fetch, redirects included
    # Batching.
    batch_max_size: int = 32
    batch_max_wait_ms: int = 5
    queue_max: int = 16
    request_timeout_s: int = 30

    @property
    def jobs_held(self) -> int:
        """Jobs a worker holds at once: a full batch running and the queue; past it, requests get 503."""
        return self.batch_max_size + self.queue_max

    @property
    def batch_documents_limit(self) -> int:
        """Documents per batch call: `max_batch_documents`, and no more than a worker can hold."""
        return min(self.max_batch_documents, self.jobs_held)

    @property
    def intra_op_threads(self) -> int:
        """Torch threads per worker: the configured number, else the cores shared among workers."""
        return self.torch_threads or max(1, (os.cpu_count() or 1) // max(self.web_concurrency, 1))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        _refuse_unknown(environ)
        hints = typing.get_type_hints(cls)
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(env_name(f.name))
            if raw is not None and raw.strip():
                values[f.name] = _parse(f.name, raw.strip(), hints[f.name])
        settings = cls(**values)
        settings.check()
        return settings

    def __post_init__(self) -> None:
        if not self.engine:  # frozen: the default depends on `model`
            object.__setattr__(self, "engine", "abstractive" if self.model else "embedded")

    def check(self) -> None:
        """Refuse unknown values and combinations that would silently disable a protection."""
        if self.engine not in ENGINES:
            raise ConfigError(f"{env_name('engine')} must be one of {', '.join(ENGINES)}, got {self.engine!r}")
        positive = ("web_concurrency", "gunicorn_threads", "batch_max_size", "request_timeout_s", "max_body_bytes")
        for name in (*positive, "read_timeout_s", "max_batch_documents", "fetch_timeout_s", "max_page_bytes"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{env_name(name)} must be at least 1, got {getattr(self, name)}")
        if self.log_format not in LOG_FORMATS:
            raise ConfigError(
                f"{env_name('log_format')} must be one of {', '.join(LOG_FORMATS)}, got {self.log_format!r}"
            )
        try:
            AllowList.parse(self.fetch_allow)
        except ValueError as error:
            raise ConfigError(f"{env_name('fetch_allow')}: {error}") from None
        held = self.jobs_held
        if self.gunicorn_threads <= held:
            raise ConfigError(
                f"{env_name('gunicorn_threads')} ({self.gunicorn_threads}) must exceed {env_name('batch_max_size')} + "
                f"{env_name('queue_max')} ({self.batch_max_size} + {self.queue_max}): the threads beyond the jobs a "
                "worker holds are the ones that answer 503 to the rest"
            )

    def arguments_for(self, load: Callable) -> dict[str, Any]:
        """The settings named like `load`'s parameters: those set, and required ones."""
        parameters = inspect.signature(load).parameters.values()
        return {
            p.name: getattr(self, p.name)
            for p in parameters
            if p.name in FIELD_NAMES and (getattr(self, p.name) is not None or p.default is inspect.Parameter.empty)
        }


FIELD_NAMES = tuple(f.name for f in fields(Settings))


def env_name(field: str) -> str:
    """The environment variable of a setting."""
    return field.upper() if field in SERVER_NAMES else PREFIX + field.upper()


ENV_NAMES = {env_name(name): name for name in FIELD_NAMES}


def build_engine(settings: Settings) -> Engine:
    """Load the configured engine; a bad engine argument becomes a `ConfigError` naming its variable."""
    cls = engine_class(settings.engine)
    try:
        return cls.load(**settings.arguments_for(cls.load))
    except ArgumentError as error:
        raise ConfigError(f"{env_name(error.argument)}: {error}") from None


def _refuse_unknown(environ: Mapping[str, str]) -> None:
    for name in environ:
        if name.startswith(PREFIX) and name not in ENV_NAMES:
            close = difflib.get_close_matches(name, ENV_NAMES, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise ConfigError(f"{name} is not a setting{hint} (the settings are listed in the README)")


def _parse(name: str, raw: str, hint: Any) -> object:
    kind = _base_type(hint)
    variable = env_name(name)
    if kind is int:
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{variable} must be an integer, got {raw!r}") from None
        if value < 0:
            raise ConfigError(f"{variable} must not be negative, got {value}")
        return value
    if kind is bool:
        if raw.lower() not in BOOLEANS:
            raise ConfigError(f"{variable} must be one of {', '.join(BOOLEANS)}, got {raw!r}")
        return BOOLEANS[raw.lower()]
    if kind is float:
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(f"{variable} must be a number, got {raw!r}") from None
    if kind is bool:
        if raw.lower() not in BOOLEANS:
            raise ConfigError(f"{variable} must be one of {', '.join(BOOLEANS)}, got {raw!r}")
        return BOOLEANS[raw.lower()]
    if kind is dict:
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as error:
            raise ConfigError(f"{variable} is not valid JSON: {error.msg}") from None
        if not isinstance(value, dict):
            raise ConfigError(f"{variable} must be a JSON object")
        return value
    return raw


def _base_type(hint: Any) -> type:
    """`int` for `int | None`, and so on."""
    if isinstance(hint, types.UnionType):
        return next(arg for arg in typing.get_args(hint) if arg is not type(None))
    return hint
