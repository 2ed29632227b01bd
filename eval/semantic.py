"""Embedding-based scores with the service's MiniLM sentence encoder (all-MiniLM-L6-v2).

- semantic similarity: cosine (× 100) between the summary and the reference, each
  represented by the unit-length mean of its sentence embeddings; with several
  references the closest one counts.
- support: for each summary sentence, the cosine of its best-supporting article
  sentence. The faithfulness proxy is the share of summary sentences whose support
  reaches a threshold; it flags unsupported content, it does not prove faithfulness.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

import numpy as np
import torch

from service.engines.grounding import best_matches


class Encoder(Protocol):
    def encode(self, texts: Sequence[str]) -> torch.Tensor: ...


class SentenceVectors:
    """Embeds every distinct sentence of a run once (articles, references and all systems share it)."""

    def __init__(self, encoder: Encoder, chunk: int = 512):
        self.encoder = encoder
        self.chunk = chunk
        self._row: dict[str, int] = {}
        self._pending: list[str] = []
        self._matrix = np.zeros((0, 0), dtype=np.float32)

    def add(self, sentences: Iterable[str]) -> None:
        for sentence in sentences:
            if sentence not in self._row:
                self._row[sentence] = -1
                self._pending.append(sentence)

    @property
    def pending(self) -> int:
        """How many added sentences still wait to be embedded."""
        return len(self._pending)

    def encode_pending(self, progress: Callable[[int], None] | None = None) -> None:
        """Embed everything added since the last call, in chunks (calls `progress(n)` after each)."""
        base = len(self._matrix)
        blocks = [self._matrix] if base else []
        for first in range(0, len(self._pending), self.chunk):
            part = self._pending[first : first + self.chunk]
            blocks.append(self.encoder.encode(part).numpy().astype(np.float32))
            if progress:
                progress(len(part))
        for offset, sentence in enumerate(self._pending):
            self._row[sentence] = base + offset
        self._pending = []
        if blocks:
            self._matrix = np.concatenate(blocks)

    def __call__(self, sentences: Sequence[str]) -> np.ndarray:
        """The (len(sentences), dim) unit vectors of sentences already encoded."""
        if not sentences:
            return np.zeros((0, self._matrix.shape[1] if self._matrix.size else 1), dtype=np.float32)
        return self._matrix[[self._row[s] for s in sentences]]


def similarity(summary: np.ndarray, references: list[np.ndarray]) -> float:
    """Cosine × 100 of mean-pooled sentence vectors; the closest reference counts."""
    if not len(summary) or not references:
        return 0.0
    pooled = _unit(summary.mean(0))
    return 100 * max(float(pooled @ _unit(ref.mean(0))) for ref in references if len(ref))


def support(summary: np.ndarray, article: np.ndarray) -> list[float]:
    """For each summary sentence, the cosine of its most similar article sentence (as the service grounds)."""
    if not len(summary) or not len(article):
        return [0.0] * len(summary)
    return best_matches(torch.from_numpy(summary @ article.T)).tolist()


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector
