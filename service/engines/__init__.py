"""Engines behind the one interface in `base.py`; `build_engine` picks one from settings."""
from __future__ import annotations

from service.config import Settings
from service.engines.base import Engine


def build_engine(settings: Settings) -> Engine:
    """Load the configured engine (raises a clear error when its model cannot be loaded)."""
    if settings.engine == "abstractive":
        from service.engines.abstractive import AbstractiveEngine

        return AbstractiveEngine.from_settings(settings)
    from service.engines.extractive import ExtractiveEngine

    return ExtractiveEngine.from_settings(settings)
