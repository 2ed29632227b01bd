"""The abstractive engine: transformers seq2seq and chat models, in the stages of a transformers pipeline.

`loading` (find and load the model offline) -> `prompts` (presets and model input) ->
`generation` (batched `generate`, decoding) -> `outputs` (complete sentences, bullets),
with `chunking` for long articles; `engine` ties them together and grounds the result.
"""

from service.engines.abstractive.engine import AbstractiveEngine

__all__ = ["AbstractiveEngine"]
