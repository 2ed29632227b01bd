"""Per-example scores of one system's outputs: ROUGE, embeddings, extractiveness, lengths.

`METRICS` names every score, its table label, which direction is better and how
it is printed; reports and plots read it, so a metric is declared once, here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eval.extractiveness import ArticleIndex, extractiveness
from eval.records import Record
from eval.rouge import ROUGE_TYPES, Rouge
from eval.semantic import SentenceVectors, similarity, support
from eval.systems import Output, SystemRun
from service.text import count_words, normalize_space, split_reference


@dataclass(frozen=True)
class Metric:
    """A score's key, table label, direction (+1 higher is better, -1 lower, 0 descriptive) and decimals."""

    key: str
    label: str
    better: int
    digits: int = 2


METRICS: tuple[Metric, ...] = (
    Metric("rouge1", "R-1", +1),
    Metric("rouge2", "R-2", +1),
    Metric("rougeL", "R-L", +1),
    Metric("rougeLsum", "R-Lsum", +1),
    Metric("semantic", "Sem. sim.", +1),
    Metric("supported", "Supported %", +1, 1),
    Metric("coverage", "Coverage", 0, 3),
    Metric("density", "Density", 0),
    Metric("compression", "Compression", 0, 1),
    Metric("novel1", "Novel 1-g %", 0, 1),
    Metric("novel2", "Novel 2-g %", 0, 1),
    Metric("novel3", "Novel 3-g %", 0, 1),
    Metric("words", "Words", 0, 1),
    Metric("sentences", "Sentences", 0, 2),
    Metric("bullets", "Bullets", 0, 2),
)
BY_KEY = {metric.key: metric for metric in METRICS}
REFERENCE_METRICS = (*ROUGE_TYPES, "semantic")
HEADLINE = tuple(key for key in REFERENCE_METRICS if key != "rougeL")  # plots and the console table; R-L ~ R-Lsum


@dataclass(frozen=True)
class Example:
    """The scores of one output, the reference ROUGE chose and each sentence's support."""

    scores: dict[str, float]
    best_reference: int | None
    support: list[float]


class SummaryScorer:
    """Scores outputs for a fixed list of records; article and reference work is done once."""

    def __init__(self, records: Sequence[Record], vectors: SentenceVectors, threshold: float = 0.6):
        self.vectors = vectors
        self.threshold = threshold
        self.rouge = Rouge()
        self.with_references = all(record.references for record in records)
        self.indexes = [ArticleIndex(record.article) for record in records]
        self.articles = [[normalize_space(s.text) for s in record.document.sentences] for record in records]
        self.references = [[split_reference(ref) for ref in record.references] for record in records]

    def queue(self, runs: Sequence[SystemRun]) -> int:
        """Queue every sentence scoring will embed (articles, references, outputs); returns how many are new."""
        for sentences in self.articles:
            self.vectors.add(sentences)
        for references in self.references:
            for reference in references:
                self.vectors.add(reference)
        for run in runs:
            for output in run.outputs:
                self.vectors.add(output.sentences)
        return self.vectors.pending

    def score(self, run: SystemRun) -> list[Example]:
        """One `Example` per record, in record order."""
        return [self._example(i, output) for i, output in enumerate(run.outputs)]

    def _example(self, i: int, output: Output) -> Example:
        summary = self.vectors(output.sentences)
        supports = support(summary, self.vectors(self.articles[i]))
        scores: dict[str, float] = {}
        best = None
        if self.with_references:
            scores, best = self.rouge.score(output.sentences, self.references[i])
            scores["semantic"] = similarity(summary, [self.vectors(ref) for ref in self.references[i]])
        scores["supported"] = 100 * sum(s >= self.threshold for s in supports) / len(supports) if supports else 0.0
        scores.update(extractiveness(self.indexes[i], output.sentences))
        scores["words"] = count_words(output.text)
        scores["sentences"] = len(output.sentences)
        if output.bullets is not None:
            scores["bullets"] = output.bullets
        return Example(scores, best, supports)
