"""Loading a transformers summarization model and running batched `generate` on it.

The model is found offline only: a local directory, or a hub id already in the
Hugging Face cache. Its config decides the path: encoder-decoder models
(BART, PEGASUS, T5, ...) go through `AutoModelForSeq2SeqLM` with the family's
task prefix; decoder-only models must be chat models (a chat template) and are
prompted through it. Generation presets exist per request kind (`short`,
`bullets`, and `map` for the chunk summaries of long articles): family defaults,
overridable per deployment. Every output says whether the model stopped on its
own or was cut off by the token limit.
"""
from __future__ import annotations

import itertools
import json
import math
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Sequence, get_args

import torch
from huggingface_hub import constants as hub_constants
from huggingface_hub import try_to_load_from_cache
from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer, GenerationConfig, PretrainedConfig

from service.config import ENV, ConfigError, Settings
from service.devices import pick_device, pick_dtype
from service.engines.base import MAX_BULLETS_RANGE, Options

Kind = Literal["short", "bullets", "map"]
KINDS: tuple[str, ...] = get_args(Kind)

# Defaults per family, after the published configs of facebook/bart-large-cnn,
# google/pegasus-cnn_dailymail and t5 (task_specific_params.summarization).
_SEQ2SEQ = {
    "short": {"num_beams": 4, "no_repeat_ngram_size": 3, "length_penalty": 1.0, "min_new_tokens": 8, "early_stopping": True},
    "bullets": {"num_beams": 4, "no_repeat_ngram_size": 3, "length_penalty": 2.0, "min_new_tokens": 40, "max_new_tokens": 142, "early_stopping": True},
}
FAMILY_PRESETS: dict[str, dict[str, dict]] = {
    "bart": _SEQ2SEQ,
    "pegasus": {
        "short": {"num_beams": 8, "length_penalty": 0.8, "min_new_tokens": 8, "early_stopping": True},
        "bullets": {"num_beams": 8, "length_penalty": 0.8, "min_new_tokens": 32, "max_new_tokens": 128, "early_stopping": True},
    },
    "t5": {
        "short": _SEQ2SEQ["short"],
        "bullets": {**_SEQ2SEQ["bullets"], "min_new_tokens": 30, "max_new_tokens": 150},
    },
    "seq2seq": _SEQ2SEQ,
    "chat": {
        "short": {"num_beams": 1, "do_sample": False, "repetition_penalty": 1.05},
        "bullets": {"num_beams": 1, "do_sample": False, "repetition_penalty": 1.05},
        "map": {"num_beams": 1, "do_sample": False, "repetition_penalty": 1.05, "max_new_tokens": 192},
    },
}
TASK_PREFIXES = {"t5": "summarize: "}
CHAT_MAX_INPUT_TOKENS = 4096
DEFAULT_BATCH = {"cuda": 32, "cpu": 8}
FALLBACK_WINDOW = {"t5": 512}
TOKENS_PER_BULLET = 48
_SAMPLE = "The city council approved the new budget on Monday after a long debate about school funding, road repairs and taxes."
_THINK = re.compile(r"<think>.*?(</think>|$)", re.DOTALL)

SYSTEM_PROMPT = "You are a careful news editor. You summarize articles faithfully, using only facts stated in the article."
PROMPTS = {
    "short": "Summarize the article below in one or two sentences, at most {words} words in total. Reply with the summary only.",
    "bullets": (
        "List the {bullets} most important points of the article below as bullet points, one per line, each starting "
        'with "- " and written as one complete sentence. Reply with the list only.'
    ),
    "map": "The text below is one part of a longer article. Summarize its key facts in at most five sentences. Reply with the summary only.",
}


class ModelNotFoundError(ConfigError):
    """The configured summarization model is not available offline."""


@dataclass(frozen=True)
class Request:
    """One text to summarize in one way; `max_words` (short) and `max_bullets` (bullets) size the output."""

    kind: Kind
    text: str
    max_words: int = Options.short_max_words
    max_bullets: int = Options.max_bullets


@dataclass(frozen=True)
class Generated:
    """Decoded output; `finished` is False when the token limit cut the model off."""

    text: str
    finished: bool


def resolve_model_path(name: str) -> Path:
    """A local model directory, or the snapshot of a hub id in the local cache (never the network)."""
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelNotFoundError(f"{ENV['model']}={name!r}: the directory has no config.json; point it at a saved transformers model")
        return path
    try:
        cached = try_to_load_from_cache(name, "config.json")
    except ValueError:  # not a valid hub id either
        cached = None
    if not isinstance(cached, str):
        raise ModelNotFoundError(
            f"{ENV['model']}={name!r}: no such directory, and no copy in the Hugging Face cache "
            f"({hub_constants.HF_HUB_CACHE}); set {ENV['model']} to a local model directory or download the model first"
        )
    return Path(cached).parent


def parse_presets(raw: str) -> dict[str, dict]:
    """Deployment overrides of the generation presets (JSON), validated against `GenerationConfig`."""
    if not raw:
        return {}
    try:
        presets = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ConfigError(f"{ENV['generation']} is not valid JSON: {error.msg}") from None
    if not isinstance(presets, dict) or not all(k in KINDS and isinstance(v, dict) for k, v in presets.items()):
        raise ConfigError(f"{ENV['generation']} must be an object with keys among {', '.join(KINDS)}, each an object of generate() options")
    reference = GenerationConfig()
    unknown = sorted({key for preset in presets.values() for key in preset if not hasattr(reference, key)})
    if unknown:
        raise ConfigError(f"{ENV['generation']}: unknown generate() option(s) {', '.join(unknown)}")
    return presets


def family_of(config: PretrainedConfig) -> str:
    """`chat` for decoder-only models; the model type for known seq2seq families, else `seq2seq`."""
    if not config.is_encoder_decoder:
        return "chat"
    return config.model_type if config.model_type in FAMILY_PRESETS else "seq2seq"


class Generator:
    """A loaded model and tokenizer; turns `Request`s into `Generated` outputs in batches."""

    def __init__(
        self,
        name: str,
        device: str = "auto",
        dtype: str = "auto",
        presets: str = "",
        batch_size: int = 0,
        max_input_tokens: int = 0,
        max_short_words: int = Settings.max_short_words,
    ):
        self.name = name
        self.path = resolve_model_path(name)
        self.device = pick_device(device)
        self.dtype = pick_dtype(dtype, self.device)
        self.batch_size = batch_size or DEFAULT_BATCH.get(self.device.type, 8)
        self.config = _load(AutoConfig, self.path)
        self.family = family_of(self.config)
        self.tokenizer = _load(AutoTokenizer, self.path)
        self.is_chat = self.family == "chat"
        if self.is_chat:
            self._prepare_chat_tokenizer()
        loader = AutoModelForCausalLM if self.is_chat else AutoModelForSeq2SeqLM
        self.model = _load(loader, self.path, dtype=self.dtype).to(self.device).eval()
        # Lengths come from the presets (max_new_tokens/min_new_tokens) only.
        self.model.generation_config.max_length = self.model.generation_config.min_length = None
        self.prefix = self._task_prefix()
        self.window = self._window(max_input_tokens)
        decoder_positions = None if self.is_chat else getattr(self.config, "max_position_embeddings", None)
        self.max_output_tokens = decoder_positions - 1 if decoder_positions else self.window
        self.tokens_per_word = max(1.0, len(self._ids(_SAMPLE)) / len(_SAMPLE.split()))
        free_window = self.window - len(self._ids(self._model_input(Request("bullets", ""))))  # without prefix or prompt
        self.presets = self._presets(parse_presets(presets), free_window)
        self.eos_ids = self._eos_ids()
        self.input_budget = self._input_budget(free_window, max_short_words)
        self._tokenizer_lock = threading.Lock()  # padding/truncation settings are backend state
        self._model_lock = threading.Lock()

    # -- public ---------------------------------------------------------------------

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
            wanted = math.ceil(request.max_words * self.tokens_per_word * 1.25) + 8
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
        return {
            "family": self.family,
            "architecture": (self.config.architectures or [type(self.model).__name__])[0],
            "path": str(self.path),
            "device": str(self.device),
            "dtype": str(self.dtype).removeprefix("torch."),
            "max_input_tokens": self.window,
            "generate_batch": self.batch_size,
            "chunk_tokens": self.input_budget,
            "task_prefix": self.prefix or None,
            "generation": self.presets,
        }

    # -- loading ----------------------------------------------------------------------

    def _prepare_chat_tokenizer(self) -> None:
        if not self.tokenizer.chat_template:
            raise ConfigError(
                f"{ENV['model']}={self.name!r}: a decoder-only model without a chat template; "
                "serve an instruction-tuned chat model or an encoder-decoder summarizer"
            )
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self._system_role = _accepts_system_role(self.tokenizer)

    def _task_prefix(self) -> str:
        if self.is_chat:
            return ""
        params = (getattr(self.config, "task_specific_params", None) or {}).get("summarization") or {}
        return params.get("prefix") or TASK_PREFIXES.get(self.config.model_type, "")

    def _window(self, configured: int) -> int:
        """Input tokens the model accepts: the setting, else the smallest limit its config and tokenizer state."""
        if configured:
            return configured
        limits = [getattr(self.config, name, None) for name in ("max_position_embeddings", "n_positions")]
        limits.append(self.tokenizer.model_max_length)
        known = [int(n) for n in limits if isinstance(n, int) and 0 < n < 1_000_000]
        window = min(known) if known else FALLBACK_WINDOW.get(self.config.model_type, 1024)
        return min(window, CHAT_MAX_INPUT_TOKENS) if self.is_chat else window

    def _presets(self, overrides: dict[str, dict], free_window: int) -> dict[str, dict]:
        family = FAMILY_PRESETS[self.family]
        presets = {kind: {**family.get(kind, family["bullets"]), **overrides.get(kind, {})} for kind in KINDS}
        map_cap = max(8, free_window // 3)  # chunk summaries must shrink the text
        presets["map"]["max_new_tokens"] = min(int(presets["map"].get("max_new_tokens", map_cap)), map_cap)
        return presets

    def _input_budget(self, free_window: int, max_short_words: int) -> int:
        """Article tokens that fit one input, next to the prefix or prompt (and, for chat, the largest answer a request can ask for)."""
        budget = free_window - 4
        if self.is_chat:
            budget -= max(self.max_new_tokens(Request(kind, "", max_short_words, MAX_BULLETS_RANGE[1])) for kind in KINDS)
        if budget < 16:
            raise ConfigError(f"{ENV['model']}={self.name!r}: a window of {self.window} tokens leaves no room for the article")
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
        instruction = PROMPTS[request.kind].format(words=request.max_words, bullets=_bullet_range(request.max_bullets))
        content = f"{instruction}\n\n{request.text}"
        messages = [{"role": "user", "content": content}]
        if self._system_role:
            messages.insert(0, {"role": "system", "content": SYSTEM_PROMPT})
        else:
            messages[0]["content"] = f"{SYSTEM_PROMPT}\n\n{content}"
        return self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False, enable_thinking=False)

    def _generate(self, texts: list[str], kind: str, max_new_tokens: int) -> list[Generated]:
        with self._tokenizer_lock:
            batch = self.tokenizer(
                texts, padding=True, truncation=True, max_length=self.window, add_special_tokens=not self.is_chat, return_tensors="pt"
            ).to(self.device)
        with self._model_lock, torch.inference_mode():
            output = self.model.generate(**batch, **self.generate_options(kind, max_new_tokens))
        new = output[:, batch["input_ids"].shape[1] :] if self.is_chat else output[:, 1:]
        return [self._decode(row.tolist(), max_new_tokens) for row in new.cpu()]

    def _decode(self, ids: list[int], max_new_tokens: int) -> Generated:
        """Text up to the first end-of-sequence; an EOS in the last slot may be forced, so it counts as cut off."""
        end = next((i for i, token in enumerate(ids) if token in self.eos_ids), None)
        finished = end is not None and end < max_new_tokens - 1
        text = self.tokenizer.decode(ids[:end], skip_special_tokens=True).replace("<n>", "\n")  # PEGASUS writes <n> between sentences
        return Generated(_THINK.sub("", text).strip(), finished)


def _bullet_range(max_bullets: int) -> str:
    low = min(3, max_bullets)
    return str(max_bullets) if low == max_bullets else f"{low} to {max_bullets}"


def _accepts_system_role(tokenizer) -> bool:
    """Some chat templates (Gemma's) reject a system message."""
    try:
        tokenizer.apply_chat_template([{"role": "system", "content": "s"}, {"role": "user", "content": "u"}], tokenize=False)
    except Exception:  # jinja2 raises TemplateError subclasses or plain exceptions from `raise_exception`
        return False
    return True


def _load(loader, path: Path, **kwargs):
    """`from_pretrained` offline, with a one-line error naming the variable."""
    try:
        return loader.from_pretrained(path, local_files_only=True, **kwargs)
    except (OSError, ValueError, KeyError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelNotFoundError(f"{ENV['model']}={str(path)!r}: cannot load {loader.__name__}: {first_line}") from None
