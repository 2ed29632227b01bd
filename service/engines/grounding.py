"""Grounding: align summary sentences with the source sentences that support them.

Every summary sentence is embedded with MiniLM and compared (cosine) with the
document's content sentences. A passage's sources are the best-matching source
spans of each of its sentences; its `support` is the best match of its *weakest*
sentence, so one unsupported sentence makes the whole passage suspect.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from service.domain import Document, Passage, Source
from service.engines.embedder import Embedder
from service.text import normalize_space, split_sentences


def embed_sentences(documents: Sequence[Document], embedder: Embedder) -> list[torch.Tensor]:
    """Each document's sentence vectors (one row per sentence), all embedded in one pass."""
    vectors = embedder.encode([s.text for d in documents for s in d.sentences])
    return list(vectors.split([len(d.sentences) for d in documents]))


def similarities(texts: Sequence[str], vectors: Sequence[torch.Tensor], embedder: Embedder) -> list[torch.Tensor]:
    """Cosine of `texts[i]` against every row of `vectors[i]` (a document's `embed_sentences` vectors)."""
    return [rows @ query for query, rows in zip(embedder.encode(list(texts)), vectors)]


def ground_many(
    items: Sequence[tuple[Sequence[str], Document]],
    embedder: Embedder,
    top_k: int = 2,
    vectors: Sequence[torch.Tensor] | None = None,
) -> list[list[Passage]]:
    """`ground` for several documents at once; `vectors`: their `embed_sentences`, computed here when not given."""
    if vectors is None:
        vectors = embed_sentences([document for _, document in items], embedder)
    pieces = [
        (i, j, part)
        for i, (texts, _) in enumerate(items)
        for j, text in enumerate(texts)
        for part in _summary_sentences(text)
    ]
    scores = similarities([part for _, _, part in pieces], [vectors[i] for i, _, _ in pieces], embedder)
    per_passage: dict[tuple[int, int], list[torch.Tensor]] = {}
    for (i, j, _), row in zip(pieces, scores):
        per_passage.setdefault((i, j), []).append(row)
    return [
        [_grounded(text, document, per_passage[i, j], top_k) for j, text in enumerate(texts)]
        for i, (texts, document) in enumerate(items)
    ]


def ground(sentences: Sequence[str], document: Document, embedder: Embedder, top_k: int = 2) -> list[Passage]:
    """One grounded `Passage` per summary text (which may hold several sentences)."""
    return ground_many([(sentences, document)], embedder, top_k)[0]


def best_matches(similarity: torch.Tensor) -> torch.Tensor:
    """Each summary sentence's best match: the row maxima of a (summary x source sentences) cosine matrix."""
    return similarity.max(dim=1).values


def _summary_sentences(text: str) -> list[str]:
    return [s.text for s in split_sentences(text)] or [text]


def _grounded(text: str, document: Document, rows: list[torch.Tensor], top_k: int) -> Passage:
    """Sources: the top-k spans of each sentence, best first; support: the weakest sentence's best score."""
    if not document.sentences:
        return Passage(normalize_space(text), [], 0.0)
    best: dict[int, float] = {}
    for row in rows:
        values, indices = row.topk(min(top_k, len(row)))
        for value, index in zip(values.tolist(), indices.tolist()):
            best[index] = max(best.get(index, -1.0), value)
    ranked = sorted(best.items(), key=lambda item: -item[1])
    sources = [Source(document.sentences[i].start, document.sentences[i].end, round(score, 4)) for i, score in ranked]
    support = float(best_matches(torch.stack(rows)).min())
    return Passage(normalize_space(text), sources, round(support, 4))
