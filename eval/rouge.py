"""ROUGE F1 through Google's `rouge-score`, scored the way published tables are.

Stemmed (Porter); ROUGE-Lsum sees one sentence per line on both sides; scores
are F1 × 100. With several references the *best reference* is the one with the
highest ROUGE-1 F1 for that summary, and every ROUGE variant is reported against
that same reference (this reproduces e.g. the SummEval 11-reference tables).
"""

from __future__ import annotations

from rouge_score import rouge_scorer

ROUGE_TYPES: tuple[str, ...] = ("rouge1", "rouge2", "rougeL", "rougeLsum")


class Rouge:
    """Scores sentence-split summaries against sentence-split references."""

    def __init__(self) -> None:
        self._scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)
        self._rouge1 = rouge_scorer.RougeScorer(["rouge1"], use_stemmer=True)

    def score(self, summary: list[str], references: list[list[str]]) -> tuple[dict[str, float], int]:
        """F1 × 100 per ROUGE type against the best reference, and that reference's index."""
        if not references:
            raise ValueError("ROUGE needs at least one reference")
        prediction = "\n".join(summary)
        best = self._best_reference(prediction, references)
        scored = self._scorer.score("\n".join(references[best]), prediction)
        return {name: 100 * scored[name].fmeasure for name in ROUGE_TYPES}, best

    def _best_reference(self, prediction: str, references: list[list[str]]) -> int:
        """The index of the reference with the highest ROUGE-1 F1 (the first on ties)."""
        if len(references) == 1:
            return 0
        f1 = [self._rouge1.score("\n".join(reference), prediction)["rouge1"].fmeasure for reference in references]
        return max(range(len(f1)), key=f1.__getitem__)
