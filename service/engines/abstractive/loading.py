"""Loading a transformers summarization model offline: a local directory or a hub id already in the cache.

The model's config decides the path: encoder-decoder models (BART, PEGASUS, T5, ...)
load through `AutoModelForSeq2SeqLM`; decoder-only models must be chat models (a chat
template) and load through `AutoModelForCausalLM`, with left padding for batches.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from huggingface_hub import constants as hub_constants
from huggingface_hub import try_to_load_from_cache
from transformers import (
    AutoConfig,
    AutoModelForCausalLM,
    AutoModelForSeq2SeqLM,
    AutoTokenizer,
    PretrainedConfig,
    PreTrainedModel,
)

from service.engines.abstractive.gguf import GgufConversionError, converted_model_dir, default_cache_dir
from service.engines.base import ArgumentError
from service.engines.devices import pick_device, pick_dtype

SEQ2SEQ_FAMILIES = ("bart", "pegasus", "t5")
TASK_PREFIXES = {"t5": "summarize: "}
CHAT_MAX_INPUT_TOKENS = 4096
FALLBACK_WINDOW = {"t5": 512}


class ModelNotFoundError(ArgumentError):
    """The summarization model is not available offline, or cannot be loaded."""

    def __init__(self, message: str):
        super().__init__("model", message)


@dataclass(frozen=True)
class LoadedModel:
    """A model on its device with its tokenizer and the facts the rest of the engine needs."""

    name: str
    path: Path
    config: PretrainedConfig
    family: str  # `chat`, a known seq2seq family (bart, pegasus, t5) or `seq2seq`
    tokenizer: object
    model: PreTrainedModel
    device: torch.device
    dtype: torch.dtype

    @property
    def is_chat(self) -> bool:
        return self.family == "chat"


def load_model(name: str, device: str = "auto", dtype: str = "auto", gguf_cache: str | None = None) -> LoadedModel:
    """Find `name` offline, load config, tokenizer and weights; raise `ModelNotFoundError` naming the problem.

    A `.gguf` file is converted once into a directory under `gguf_cache` (default: the user's cache).
    """
    path = resolve_model_path(name, gguf_cache)
    chosen = pick_device(device)
    precision = pick_dtype(dtype, chosen)
    config = _load(AutoConfig, path)
    family = family_of(config)
    tokenizer = _load(AutoTokenizer, path)
    if family == "chat":
        _prepare_chat_tokenizer(tokenizer, name)
    loader = AutoModelForCausalLM if family == "chat" else AutoModelForSeq2SeqLM
    model = _load(loader, path, dtype=precision).to(chosen).eval()
    # Lengths come from the presets (max_new_tokens/min_new_tokens) only.
    model.generation_config.max_length = model.generation_config.min_length = None
    return LoadedModel(name, path, config, family, tokenizer, model, chosen, precision)


def resolve_model_path(name: str, gguf_cache: str | None = None) -> Path:
    """A local model directory, the converted copy of a GGUF file, or the snapshot of a hub id in the local
    cache (never the network)."""
    path = Path(name).expanduser()
    if path.suffix == ".gguf":
        try:
            return converted_model_dir(path, Path(gguf_cache) if gguf_cache else default_cache_dir())
        except GgufConversionError as error:
            raise ModelNotFoundError(str(error)) from None
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelNotFoundError(
                f"{name!r}: the directory has no config.json; point it at a saved transformers model"
            )
        return path
    try:
        cached = try_to_load_from_cache(name, "config.json")
    except ValueError:  # not a valid hub id either
        cached = None
    if not isinstance(cached, str):
        raise ModelNotFoundError(
            f"{name!r}: no such directory, and no copy in the Hugging Face cache ({hub_constants.HF_HUB_CACHE}); "
            "point it at a local model directory or download the model first"
        )
    return Path(cached).parent


def family_of(config: PretrainedConfig) -> str:
    """`chat` for decoder-only models; the model type for known seq2seq families, else `seq2seq`."""
    if not config.is_encoder_decoder:
        return "chat"
    return config.model_type if config.model_type in SEQ2SEQ_FAMILIES else "seq2seq"


def task_prefix(loaded: LoadedModel) -> str:
    """The text a seq2seq model expects before the article (T5: `summarize: `); none for chat models."""
    if loaded.is_chat:
        return ""
    params = (getattr(loaded.config, "task_specific_params", None) or {}).get("summarization") or {}
    return params.get("prefix") or TASK_PREFIXES.get(loaded.config.model_type, "")


def input_window(loaded: LoadedModel, configured: int) -> int:
    """Input tokens the model accepts: `configured`, else the smallest limit its config and tokenizer state."""
    if configured:
        return configured
    limits = [getattr(loaded.config, name, None) for name in ("max_position_embeddings", "n_positions")]
    limits.append(loaded.tokenizer.model_max_length)
    known = [int(n) for n in limits if isinstance(n, int) and 0 < n < 1_000_000]
    window = min(known) if known else FALLBACK_WINDOW.get(loaded.config.model_type, 1024)
    return min(window, CHAT_MAX_INPUT_TOKENS) if loaded.is_chat else window


def accepts_system_role(tokenizer) -> bool:
    """Some chat templates (Gemma's) reject a system message."""
    try:
        tokenizer.apply_chat_template(
            [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}], tokenize=False
        )
    except Exception:  # jinja2 raises TemplateError subclasses or plain exceptions from `raise_exception`
        return False
    return True


def _prepare_chat_tokenizer(tokenizer, name: str) -> None:
    if not tokenizer.chat_template:
        raise ModelNotFoundError(
            f"{name!r}: a decoder-only model without a chat template; "
            "serve an instruction-tuned chat model or an encoder-decoder summarizer"
        )
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token


def _load(loader, path: Path, **kwargs):
    """`from_pretrained` offline, with a one-line error."""
    try:
        return loader.from_pretrained(path, local_files_only=True, **kwargs)
    except (OSError, ValueError, KeyError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelNotFoundError(f"{str(path)!r}: cannot load {loader.__name__}: {first_line}") from None
