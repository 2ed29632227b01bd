"""Semantic similarity and the faithfulness proxy, with the real MiniLM encoder."""

from __future__ import annotations

import numpy as np
import pytest

from eval.records import Record
from eval.scoring import SummaryScorer
from eval.semantic import SentenceVectors, similarity, support
from eval.systems import SystemRun, from_bullets, from_text
from service.engines.embedder import Embedder

ARTICLE = (
    "The city council approved a new budget on Tuesday after a long debate. "
    "It adds two bus lines and a night service. Critics said property taxes would rise. "
    "The mayor will sign it next week."
)


class CountingEncoder:
    """The real embedder, counting how many texts it is asked to encode."""

    def __init__(self, embedder: Embedder):
        self.embedder = embedder
        self.encoded = 0

    def encode(self, texts):
        self.encoded += len(texts)
        return self.embedder.encode(texts)


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


def test_each_distinct_sentence_is_encoded_once(embedder):
    encoder = CountingEncoder(embedder)
    vectors = SentenceVectors(encoder, chunk=2)
    vectors.add(["A cat.", "A dog.", "A cat."])
    vectors.add(["A dog.", "A bird."])
    assert vectors.pending == 3
    vectors.encode_pending()
    vectors.add(["A cat.", "A fish."])
    vectors.encode_pending()
    assert encoder.encoded == 4
    rows = vectors(["A fish.", "A cat.", "A cat."])
    assert rows.shape == (3, 384)
    assert np.allclose(rows[1], rows[2])
    assert np.allclose(rows[1], embedder.encode(["A cat."]).numpy()[0], atol=1e-4)


def test_similarity_ranks_paraphrase_above_unrelated_text(embedder):
    vectors = SentenceVectors(embedder)
    summary = ["The council passed the budget."]
    paraphrase = ["City officials approved the new spending plan."]
    unrelated = ["The striker scored twice in the final."]
    vectors.add(summary + paraphrase + unrelated)
    vectors.encode_pending()
    same = similarity(vectors(summary), [vectors(summary)])
    close = similarity(vectors(summary), [vectors(paraphrase)])
    far = similarity(vectors(summary), [vectors(unrelated)])
    assert same == pytest.approx(100.0, abs=0.01)
    assert close > far + 20
    assert similarity(vectors(summary), [vectors(unrelated), vectors(paraphrase)]) == pytest.approx(close)


def test_support_and_the_supported_share(embedder):
    record = Record("1", ARTICLE, ["The council approved a budget with new bus lines."])
    copied = "It adds two bus lines and a night service."
    invented = "The stadium will host the Olympic Games in 2036."
    run = SystemRun("x", "engine", [from_bullets([copied, invented])])
    scorer = SummaryScorer([record], SentenceVectors(embedder), threshold=0.6)
    scorer.queue([run])
    scorer.vectors.encode_pending()
    (example,) = scorer.score(run)
    assert example.support[0] == pytest.approx(1.0, abs=1e-3)
    assert example.support[1] < 0.4
    assert example.scores["supported"] == 50.0
    assert example.scores["bullets"] == 2 and example.scores["sentences"] == 2
    assert example.scores["coverage"] < 1.0 and example.scores["novel1"] > 0


def test_reference_free_records_get_no_reference_metrics(embedder):
    record = Record("1", ARTICLE, [])
    run = SystemRun("x", "stored", [from_text("The mayor will sign it next week.")])
    scorer = SummaryScorer([record], SentenceVectors(embedder))
    scorer.queue([run])
    scorer.vectors.encode_pending()
    (example,) = scorer.score(run)
    assert "rouge1" not in example.scores and "semantic" not in example.scores
    assert example.scores["supported"] == 100.0
    assert example.best_reference is None
    assert support(np.zeros((0, 384)), np.ones((3, 384))) == []
