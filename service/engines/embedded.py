"""The embedded engine: extractive summaries scored with the embedded MiniLM model.

Candidates are the document's sentences with the splitter's cuts repaired and page
furniture left out (`service.engines.candidates`). Each gets features (position,
centrality, similarity to the lead and to the title, length); a small
logistic-regression scorer trained on CNN/DM articles (`scripts/train_scorer.py`,
weights in `scorer.json`) turns them into a salience score. `short` takes the best one
or two sentences within the word limit; `bullets` picks sentences greedily with
maximal-marginal-relevance so they do not repeat each other, then restores document
order. Both prefer sentences that read well alone: defects (quotation fragments, photo
references, caption labels) and context openers ("But ...", "He ...") lose score, an
opener not when the sentence before it is a bullet too. Sentences from every job of a
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

from service.domain import Job, Options, Passage, Sentence, Source, Summary
from service.engines.base import best_fitting, clipped
from service.engines.candidates import candidates, marks
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
LANGUAGES = ("en",)  # what all-MiniLM-L6-v2 was trained on
MAX_BULLET_WORDS = 80  # a longer bullet (text without punctuation) is cut, with a warning
NEAR_DUPLICATE = 0.95  # cosine at which two sentences say the same thing: never both in a summary
# Score taken off a sentence that reads badly alone (`service.engines.candidates`): a defect always,
# a context opener unless the sentence before it is picked too (for the short summary: always).
DEFECT_PENALTY = 0.3
OPENER_PENALTY = 0.15
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
            "languages": list(LANGUAGES),
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
            scores = self.scorer.score(sentence_features(group, embeddings, title)) if group else torch.empty(0)
            summary = self.select(group, embeddings, scores, job.options)
            summary.input_tokens = sum(map(len, job_ids))
            if job.document.language not in (None, *LANGUAGES):
                summary.warnings.append(_foreign(job.document.language))
            results.append(summary)
        return results

    def select(
        self, sentences: list[Sentence], embeddings: torch.Tensor, scores: torch.Tensor, options: Options
    ) -> Summary:
        """The short summary and/or bullets for one article from its scored candidates."""
        summary = Summary()
        if not sentences:
            summary.warnings.append("the document has no sentences to summarize")
            summary.bullets = [] if options.wants_bullets else None
            return summary
        similarity = embeddings @ embeddings.T
        flags = marks(sentences)
        defects = torch.tensor([flag.defect for flag in flags], dtype=torch.float64) * DEFECT_PENALTY
        openers = torch.tensor([flag.opener for flag in flags], dtype=torch.float64) * OPENER_PENALTY
        if options.wants_short:
            readable = scores - (defects + openers).to(scores.dtype)
            summary.short, warning = _short(sentences, readable, similarity, options.short_max_words)
            summary.warnings += [warning] if warning else []
        if options.wants_bullets:
            chosen = self._mmr(similarity, scores, options.max_bullets, defects, openers)
            bullets = [clipped(sentences[i], MAX_BULLET_WORDS) for i in sorted(chosen)]
            summary.bullets = [passage for passage, _ in bullets]
            summary.warnings += [warning for _, warning in bullets if warning]
        return summary

    def _mmr(
        self, similarity: torch.Tensor, scores: torch.Tensor, limit: int, defects: torch.Tensor, openers: torch.Tensor
    ) -> list[int]:
        """Greedy maximal marginal relevance on readable scores; beyond MIN_BULLETS only confident sentences;
        no near-duplicates. A context opener is demoted unless the sentence before it is already chosen."""
        chosen: list[int] = []
        follows_chosen = torch.zeros(len(scores), dtype=torch.bool)
        while len(chosen) < min(limit, len(scores)):
            readable = scores - (defects + openers * ~follows_chosen).to(scores.dtype)
            penalty = similarity[:, chosen].max(dim=1).values if chosen else torch.zeros_like(scores)
            gain = readable - self.scorer.redundancy * penalty
            gain[chosen] = -math.inf
            gain[penalty >= NEAR_DUPLICATE] = -math.inf
            best = int(gain.argmax())
            if gain[best] == -math.inf:
                break
            if len(chosen) >= MIN_BULLETS and readable[best] < self.scorer.extra_bullet_threshold:
                break
            chosen.append(best)
            follows_chosen[best + 1 : best + 2] = True
        return chosen


def _foreign(language: str) -> str:
    return (
        f"the article looks like {language!r}; the embedded model was trained on English only, "
        "so sentence choice may be poorer"
    )


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


def _short(
    sentences: list[Sentence], scores: torch.Tensor, similarity: torch.Tensor, max_words: int
) -> tuple[Passage, str | None]:
    """The best sentence that fits, plus the next best when both fit together and differ.

    When no sentence fits, the shortest of the top three is cut after `max_words` words.
    """
    ranked = [int(i) for i in scores.argsort(descending=True)]
    best = best_fitting(sentences, ranked, max_words)
    if sentences[best].words > max_words:
        passage, _ = clipped(sentences[best], max_words)
        return passage, f"no sentence fits in {max_words} words; the best short one was cut to fit"
    picked = [best]
    budget = max_words - sentences[best].words
    if sentences[best].words < 20:
        others = [i for i in ranked if i != best and sentences[i].words <= max_words]
        partner = next(
            (i for i in others[:2] if sentences[i].words <= budget and similarity[best, i] < NEAR_DUPLICATE), None
        )
        picked += [partner] if partner is not None else []
    picked.sort()
    text = " ".join(sentences[i].text for i in picked)
    return Passage(text, [Source(sentences[i].start, sentences[i].end, 1.0) for i in picked], 1.0), None
