"""Grounding summary sentences in the source sentences that support them (service/engines/grounding.py)."""

import pytest
from tiny_models import ARTICLE

from service.engines.embedder import Embedder
from service.engines.grounding import ground, ground_many
from service.text import prepare


class CountingEmbedder(Embedder):
    """The real MiniLM embedder, recording every text it encodes."""

    def __init__(self):
        super().__init__()
        self.texts: list[str] = []

    def encode(self, texts):
        self.texts += texts
        return super().encode(texts)


@pytest.fixture(scope="module")
def embedder():
    return CountingEmbedder()


def test_grounding_points_at_the_supporting_sentence(embedder):
    document = prepare(ARTICLE)
    target = document.sentences[2]
    copied, unrelated = ground(
        [target.text, "A recipe for lemon cake needs flour, sugar and eggs."], document, embedder
    )
    assert copied.support == pytest.approx(1.0, abs=1e-3)
    assert (copied.sources[0].start, copied.sources[0].end) == (target.start, target.end)
    assert ARTICLE[copied.sources[0].start : copied.sources[0].end] == target.text
    assert unrelated.support < 0.3
    assert [s.score for s in copied.sources] == sorted((s.score for s in copied.sources), reverse=True)


def test_a_passage_is_as_supported_as_its_weakest_sentence(embedder):
    document = prepare(ARTICLE)
    first = document.sentences[0].text
    (mixed,) = ground([f"{first} A recipe for lemon cake needs flour and eggs."], document, embedder)
    (alone,) = ground([first], document, embedder)
    assert mixed.support < 0.3 < alone.support
    assert (document.sentences[0].start, document.sentences[0].end) in {(s.start, s.end) for s in mixed.sources}


def test_ground_many_matches_ground(embedder):
    documents = [prepare(ARTICLE), prepare("Markets fell on Monday. Oil prices rose sharply after the storm.")]
    texts = [["The council approved a flood wall."], ["Oil prices went up.", "Markets fell."]]
    batched = ground_many(list(zip(texts, documents)), embedder)
    single = [ground(t, d, embedder) for t, d in zip(texts, documents)]
    assert [len(group) for group in batched] == [1, 2]
    flat = [p.support for group in batched for p in group]
    # bf16 (CPUs with native bf16, GPUs) rounds differently for other batch shapes: ~2e-3 seen
    assert flat == pytest.approx([p.support for group in single for p in group], abs=5e-3)
    assert [[(s.start, s.end) for s in p.sources] for group in batched for p in group] == [
        [(s.start, s.end) for s in p.sources] for group in single for p in group
    ]
