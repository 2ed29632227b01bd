"""Batched `generate` on a loaded model: requests in, decoded outputs out.

Requests of one kind run together, longest first, `batch_size` at a time. Output
lengths come from the presets or from the request's size (words for `short`, bullets
for `bullets`). Every output says whether the model stopped on its own or was cut off
by the token limit, so cleaning can drop a cut-off last sentence.
"""

from __future__ import annotations

import itertools
import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from service.domain import MAX_BULLETS_RANGE, SHORT_MAX_WORDS_LIMIT, Options
from service.engines.abstractive.loading import LoadedModel, accepts_system_role, input_window, task_prefix
from service.engines.abstractive.prompts import KINDS, Kind, chat_messages, check_overrides, presets_for
from service.engines.base import ArgumentError

DEFAULT_BATCH = {"cuda": 32, "cpu": 8}
TOKENS_PER_BULLET = 48
_SAMPLE = (
    "The city council approved the new budget on Monday after a long debate about school funding, "
    "road repairs and taxes."
)
_THINK = re.compile(r"<think>.*?(</think>|$)", re.DOTALL)


@dataclass(frozen=True)
class Request:
    """One text to summarize in one way; `short_max_words` (short) and `max_bullets` (bullets) size the output."""

    kind: Kind
    text: str
    short_max_words: int = Options.short_max_words
    max_bullets: int = Options.max_bullets


@dataclass(frozen=True)
class Generated:
    """Decoded output; `finished` is False when the token limit cut the model off."""

    text: str
    finished: bool


class Generator:
    """Turns `Request`s into `Generated` outputs in batches on one loaded model."""

    def __init__(
        self,
        loaded: LoadedModel,
        generation: dict | None = None,
        generate_batch: int = 0,
        max_input_tokens: int = 0,
        short_max_words_limit: int = SHORT_MAX_WORDS_LIMIT,
    ):
        self.loaded = loaded
        self.tokenizer, self.model, self.device, self.is_chat = (
            loaded.tokenizer,
            loaded.model,
            loaded.device,
            loaded.is_chat,
        )
        self.batch_size = generate_batch or DEFAULT_BATCH.get(self.device.type, 8)
        self.prefix = task_prefix(loaded)
        self._system_role = self.is_chat and accepts_system_role(self.tokenizer)
        self.window = input_window(loaded, max_input_tokens)
        decoder_positions = None if self.is_chat else getattr(loaded.config, "max_position_embeddings", None)
        self.max_output_tokens = decoder_positions - 1 if decoder_positions else self.window
        self.tokens_per_word = max(1.0, len(self._ids(_SAMPLE)) / len(_SAMPLE.split()))
        free_window = self.window - len(
            self._ids(self._model_input(Request("bullets", "")))
        )  # without prefix or prompt
        self.presets = presets_for(loaded.family, check_overrides(generation), free_window)
        self.eos_ids = self._eos_ids()
        self.input_budget = self._input_budget(free_window, short_max_words_limit, max_input_tokens)
        self._tokenizer_lock = threading.Lock()  # padding/truncation settings are backend state
        self._model_lock = threading.Lock()

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens of each text alone, without special tokens."""
        if not texts:
            return []
        with self._tokenizer_lock:
            encoded = self.tokenizer(list(texts), add_special_tokens=False)["input_ids"]
        return [len(ids) for ids in encoded]

    def max_new_tokens(self, request: Request) -> int:
        """The preset's limit, or one derived from the request's size in words (short) or bullets.

        Never more than a seq2seq decoder has positions for.
        """
        preset = self.presets[request.kind]
        if "max_new_tokens" in preset:
            wanted = int(preset["max_new_tokens"])
        elif request.kind == "short":
            wanted = math.ceil(request.short_max_words * self.tokens_per_word * 1.25) + 8
        else:
            wanted = request.max_bullets * TOKENS_PER_BULLET + 16
        return min(wanted, self.max_output_tokens)

    def generate(self, requests: Sequence[Request]) -> list[Generated]:
        """Outputs in request order; requests of one kind run together, longest first, `batch_size` at a time."""
        results: dict[int, Generated] = {}
        inputs = [self._model_input(r) for r in requests]
        lengths = self.count_tokens(inputs)
        order = sorted(range(len(requests)), key=lambda i: (KINDS.index(requests[i].kind), -lengths[i]))
        for kind, members in itertools.groupby(order, key=lambda i: requests[i].kind):
            group = list(members)
            for first in range(0, len(group), self.batch_size):
                batch = group[first : first + self.batch_size]
                limit = max(self.max_new_tokens(requests[i]) for i in batch)
                for i, output in zip(batch, self._generate([inputs[i] for i in batch], kind, limit)):
                    results[i] = output
        return [results[i] for i in range(len(requests))]

    def generate_options(self, kind: str, max_new_tokens: int) -> dict:
        """The keyword arguments of `model.generate` for one batch of `kind`."""
        options = {**self.presets[kind], "max_new_tokens": max_new_tokens, "pad_token_id": self.tokenizer.pad_token_id}
        options["min_new_tokens"] = min(int(options.get("min_new_tokens", 0)), max_new_tokens)
        return options

    def info(self) -> dict:
        loaded = self.loaded
        return {
            "family": loaded.family,
            "architecture": (loaded.config.architectures or [type(self.model).__name__])[0],
            "path": str(loaded.path),
            "device": str(self.device),
            "dtype": str(loaded.dtype).removeprefix("torch."),
            "max_input_tokens": self.window,
            "generate_batch": self.batch_size,
            "chunk_tokens": self.input_budget,
            "task_prefix": self.prefix or None,
            "generation": self.presets,
        }

    # -- budgets ----------------------------------------------------------------------

    def _input_budget(self, free_window: int, short_max_words_limit: int, configured_window: int) -> int:
        """Article tokens that fit one input beside the prefix or prompt (chat: and the largest answer asked for)."""
        budget = free_window - 4
        if self.is_chat:
            budget -= max(
                self.max_new_tokens(Request(kind, "", short_max_words_limit, MAX_BULLETS_RANGE[1])) for kind in KINDS
            )
        if budget < 16:
            culprit = "max_input_tokens" if configured_window else "model"
            raise ArgumentError(culprit, f"a window of {self.window} tokens leaves no room for the article")
        return budget

    def _eos_ids(self) -> set[int]:
        ids = self.model.generation_config.eos_token_id
        ids = set(ids if isinstance(ids, list) else [ids])
        return {i for i in ids | {self.tokenizer.eos_token_id} if i is not None}

    # -- generation ---------------------------------------------------------------------

    def _ids(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=not self.is_chat)["input_ids"]

    def _model_input(self, request: Request) -> str:
        if not self.is_chat:
            return self.prefix + request.text
        messages = chat_messages(
            request.kind, request.text, request.short_max_words, request.max_bullets, self._system_role
        )
        return self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, tokenize=False, enable_thinking=False
        )

    def _generate(self, texts: list[str], kind: str, max_new_tokens: int) -> list[Generated]:
        with self._tokenizer_lock:
            batch = self.tokenizer(
                texts,
                padding=True,
                truncation=True,
                max_length=self.window,
                add_special_tokens=not self.is_chat,
                return_tensors="pt",
            ).to(self.device)
        with self._model_lock, torch.inference_mode():
            output = self.model.generate(**batch, **self.generate_options(kind, max_new_tokens))
        new = output[:, batch["input_ids"].shape[1] :] if self.is_chat else output[:, 1:]
        return [self._decode(row.tolist(), max_new_tokens) for row in new.cpu()]

    def _decode(self, ids: list[int], max_new_tokens: int) -> Generated:
        """Text up to the first end-of-sequence; an EOS in the last slot may be forced, so it counts as cut off."""
        end = next((i for i, token in enumerate(ids) if token in self.eos_ids), None)
        finished = end is not None and end < max_new_tokens - 1
        text = self.tokenizer.decode(ids[:end], skip_special_tokens=True).replace(
            "<n>", "\n"
        )  # PEGASUS writes <n> between sentences
        return Generated(_THINK.sub("", text).strip(), finished)
