"""The embedded engine: extractive summaries scored with the embedded MiniLM model.

Each content sentence gets features (position, centrality, similarity to the lead
and to the title, length); a small logistic-regression scorer trained on CNN/DM
articles (`scripts/train_scorer.py`, weights in `scorer.json`) turns them into a
salience score. `short` takes the best one or two sentences within the word limit;
`bullets` picks sentences greedily with maximal-marginal-relevance so they do not
repeat each other, then restores document order. Sentences from every job of a
batch are embedded in one pass.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import torch

from service.domain import Document, Job, Options, Passage, Sentence, Source, Summary
from service.engines.base import best_fitting
from service.engines.devices import pick_device
from service.engines.embedder import Embedder

log = logging.getLogger(__name__)
SCORER_PATH = Path(__file__).with_name("scorer.json")
FEATURES = (
    "inv_position",
    "relative_position",
    "centrality",
    "lead_similarity",
    "title_similarity",
    "log_words",
    "is_quote",
)
MIN_BULLETS = 3
# Word pieces embedded per sentence. Capping at 64 instead of 128 changed no summary's
# ROUGE on 450 FRANK/SummEval/REALSumm articles and trims the longest sentences' cost.
SENTENCE_TOKENS = 64


@dataclass(frozen=True)
class Scorer:
    """Logistic regression over `FEATURES`, plus the selection knobs tuned with it."""

    weights: dict[str, float]
    bias: float
    redundancy: float = 0.6
    extra_bullet_threshold: float = 0.5
    max_candidates: int = 60
    embedding_layers: int | None = None  # MiniLM blocks of the features it was trained on (None: not recorded)

    @classmethod
    def load(cls, path: Path = SCORER_PATH) -> Scorer:
        data = json.loads(path.read_text())
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    @cached_property
    def _weight_vector(self) -> torch.Tensor:
        return torch.tensor([self.weights[name] for name in FEATURES])

    def score(self, features: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(features @ self._weight_vector + self.bias)


class EmbeddedEngine:
    """Selects source sentences; every passage is grounded in exactly its own span."""

    name = "embedded"

    def __init__(self, embedder: Embedder, scorer: Scorer):
        self.embedder = embedder
        self.scorer = scorer

    @classmethod
    def load(
        cls, embedding_model: str | None = None, device: str = "auto", embedding_layers: int = 1
    ) -> EmbeddedEngine:
        """The bundled MiniLM (or the model directory `embedding_model`), first `embedding_layers` blocks (0: all)."""
        embedder = Embedder(
            embedding_model, device=pick_device(device), max_tokens=SENTENCE_TOKENS, layers=embedding_layers
        )
        engine = cls(embedder, Scorer.load())
        if engine.scorer.embedding_layers not in (None, engine.embedder.layers):
            log.warning(
                "the scorer was trained on features from %d MiniLM blocks, the engine runs %d; summaries may be a "
                "little worse (retrain with scripts/train_scorer.py)",
                engine.scorer.embedding_layers,
                engine.embedder.layers,
            )
        return engine

    def info(self) -> dict:
        return {
            "engine": self.name,
            "family": "extractive",
            "model": "sentence-transformers/all-MiniLM-L6-v2",
            "path": str(self.embedder.path),
            "device": str(self.embedder.device),
            "dtype": str(self.embedder.dtype).removeprefix("torch."),
            "embedding_layers": self.embedder.layers,
            "max_input_tokens_per_sentence": self.embedder.max_tokens,
            "max_candidate_sentences": self.scorer.max_candidates,
            "scorer_embedding_layers": self.scorer.embedding_layers,
        }

    def summarize(self, jobs: Sequence[Job]) -> list[Summary]:
        groups = [candidates(job.document, self.scorer.max_candidates) for job in jobs]
        ids = [
            self.embedder.tokenize([s.text for s in group] + ([job.document.title] if job.document.title else []))
            for job, group in zip(jobs, groups)
        ]
        vectors = self.embedder.embed([row for job_ids in ids for row in job_ids]).split(
            [len(job_ids) for job_ids in ids]
        )
        results = []
        for job, group, rows, job_ids in zip(jobs, groups, vectors, ids):
            embeddings, title = rows[: len(group)], rows[len(group)] if len(rows) > len(group) else None
            summary = self.select(
                group, embeddings, self.scorer.score(sentence_features(group, embeddings, title)), job.options
            )
            summary.input_tokens = sum(map(len, job_ids))
            results.append(summary)
        return results

    def select(
        self, sentences: list[Sentence], embeddings: torch.Tensor, scores: torch.Tensor, options: Options
    ) -> Summary:
        """The short summary and/or bullets for one article from its scored candidates."""
        summary = Summary()
        if options.wants_short:
            summary.short, warning = _short(sentences, scores, options.short_max_words)
            summary.warnings += [warning] if warning else []
        if options.wants_bullets:
            chosen = self._mmr(embeddings, scores, options.max_bullets)
            summary.bullets = [Passage.extracted(sentences[i]) for i in sorted(chosen)]
        return summary

    def _mmr(self, embeddings: torch.Tensor, scores: torch.Tensor, limit: int) -> list[int]:
        """Greedy maximal marginal relevance; beyond MIN_BULLETS only confident sentences."""
        chosen: list[int] = []
        similarity = embeddings @ embeddings.T
        while len(chosen) < min(limit, len(scores)):
            penalty = similarity[:, chosen].max(dim=1).values if chosen else torch.zeros_like(scores)
            gain = scores - self.scorer.redundancy * penalty
            gain[chosen] = -math.inf
            best = int(gain.argmax())
            if len(chosen) >= MIN_BULLETS and scores[best] < self.scorer.extra_bullet_threshold:
                break
            chosen.append(best)
        return chosen


def candidates(document: Document, limit: int) -> list[Sentence]:
    """Complete sentences of a reasonable length; all sentences when none qualifies."""
    good = [s for s in document.sentences if s.complete and 5 <= s.words <= 80]
    return (good or document.sentences)[:limit]


def sentence_features(sentences: list[Sentence], embeddings: torch.Tensor, title: torch.Tensor | None) -> torch.Tensor:
    """One row of `FEATURES` per sentence."""
    count = len(sentences)
    position = torch.arange(count, dtype=torch.float32)
    centroid = torch.nn.functional.normalize(embeddings.mean(0), dim=0)
    lead = embeddings[0]
    columns = {
        "inv_position": 1.0 / (position + 1.0),
        "relative_position": position / max(count - 1, 1),
        "centrality": embeddings @ centroid,
        "lead_similarity": embeddings @ lead,
        "title_similarity": embeddings @ title if title is not None else embeddings @ lead,
        "log_words": torch.tensor([math.log(s.words) for s in sentences]),
        "is_quote": torch.tensor([float(s.text.lstrip()[:1] in "\"“'‘") for s in sentences]),
    }
    return torch.stack([columns[name] for name in FEATURES], dim=1)


def _short(sentences: list[Sentence], scores: torch.Tensor, max_words: int) -> tuple[Passage, str | None]:
    """The best sentence that fits, plus the next best when both fit together."""
    ranked = [int(i) for i in scores.argsort(descending=True)]
    best = best_fitting(sentences, ranked, max_words)
    if sentences[best].words > max_words:
        return Passage.extracted(
            sentences[best]
        ), f"no sentence fits in {max_words} words; returned the shortest top sentence"
    picked = [best]
    budget = max_words - sentences[best].words
    if sentences[best].words < 20:
        fitting = [i for i in ranked if sentences[i].words <= max_words]
        partner = next((i for i in fitting[1:3] if sentences[i].words <= budget), None)
        picked += [partner] if partner is not None else []
    picked.sort()
    text = " ".join(sentences[i].text for i in picked)
    return Passage(text, [Source(sentences[i].start, sentences[i].end, 1.0) for i in picked], 1.0), None
