"""The loaded engine and its readiness, shared by the routes of one worker."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch

from service.config import Settings
from service.engines import build_engine
from service.engines.base import Engine, Job, Options, Summary
from service.text import prepare

WARM_UP_TEXT = (
    "The city council approved a new budget on Tuesday after a long debate. "
    "The plan raises spending on schools and roads by five percent. "
    "Critics said the increase would force higher taxes next year. "
    "The mayor is expected to sign the budget on Friday."
)


@dataclass
class Runtime:
    """An engine loaded once per worker, warmed up before the worker reports ready."""

    settings: Settings
    engine: Engine
    load_seconds: float = 0.0
    ready: bool = False
    info: dict = field(default_factory=dict)

    @classmethod
    def start(cls, settings: Settings, engine: Engine | None = None) -> "Runtime":
        torch.set_num_threads(settings.intra_op_threads)
        started = time.perf_counter()
        state = cls(settings, engine or build_engine(settings))
        state.summarize(Job(prepare(WARM_UP_TEXT), Options(style="both")))
        state.load_seconds = time.perf_counter() - started
        state.info = state.engine.info()
        state.ready = True
        return state

    def summarize(self, job: Job) -> Summary:
        return self.engine.summarize([job])[0]
