"""Grounding summary sentences in the source sentences that support them (service/engines/grounding.py)."""

import pytest
import torch
from tiny_models import ARTICLE

from service.engines.embedder import Embedder
from service.engines.grounding import best_matches, embed_sentences, ground, ground_many, similarities
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


# -- values: sources, scores, support, top_k, documents without sentences ----------------------------------

TWO_FACTS = (
    "The council approved a flood wall for the harbour on Monday. "
    "Oil prices rose sharply after the storm closed two refineries. "
    "A local bakery won a prize for its lemon cake."
)


def test_a_passage_of_two_source_sentences_is_grounded_on_both(engine):
    document = prepare(TWO_FACTS)
    first, second, _ = document.sentences
    (passage,) = ground([f"  {second.text}   {first.text} "], document, engine.embedder)
    assert passage.text == f"{second.text} {first.text}"
    top = passage.sources[:2]
    assert {(s.start, s.end) for s in top} == {(first.start, first.end), (second.start, second.end)}
    assert [s.score for s in top] == pytest.approx([1.0, 1.0], abs=2e-3)
    assert passage.support == pytest.approx(1.0, abs=2e-3)
    assert all(round(s.score, 4) == s.score for s in passage.sources) and round(passage.support, 4) == passage.support
    assert len(passage.sources) <= 4 and len({(s.start, s.end) for s in passage.sources}) == len(passage.sources)


def test_each_source_keeps_its_best_score_and_support_is_the_weakest_sentence_s_best(engine):
    document = prepare(TWO_FACTS)
    first = document.sentences[0]
    (passage,) = ground([f"{first.text} Penguins cannot fly but swim very well."], document, engine.embedder, top_k=3)
    assert len(passage.sources) == 3  # three sources, one entry each, at their best score
    assert (passage.sources[0].start, passage.sources[0].end) == (first.start, first.end)
    assert passage.sources[0].score == pytest.approx(1.0, abs=2e-3)  # not lowered by the other sentence
    (penguins,) = ground(["Penguins cannot fly but swim very well."], document, engine.embedder, top_k=3)
    assert passage.support == pytest.approx(penguins.sources[0].score, abs=2e-3)
    assert passage.support < penguins.sources[0].score + 0.01 < 0.99
    assert round(passage.support, 4) == passage.support and round(penguins.support, 4) == penguins.support


def test_top_k_bounds_the_sources_per_sentence(engine):
    document = prepare(TWO_FACTS)
    text = document.sentences[1].text
    assert len(ground([text], document, engine.embedder, top_k=1)[0].sources) == 1
    assert len(ground([text], document, engine.embedder)[0].sources) == 2  # the default
    assert len(ground([text], document, engine.embedder, top_k=10)[0].sources) == 3  # no more than the document has


def test_a_document_without_sentences_grounds_nothing(engine):
    (passage,) = ground(["  Something   was said. "], prepare("... !!!"), engine.embedder)
    assert (passage.text, passage.sources, passage.support) == ("Something was said.", [], 0.0)


def test_precomputed_vectors_give_the_same_grounding(engine):
    documents = [prepare(TWO_FACTS), prepare(ARTICLE)]
    items = [(["Oil prices rose."], documents[0]), (["The council approved a flood wall."], documents[1])]
    vectors = embed_sentences(documents, engine.embedder)
    assert [len(v) for v in vectors] == [len(d.sentences) for d in documents]
    given, computed = ground_many(items, engine.embedder, vectors=vectors), ground_many(items, engine.embedder)
    assert [[(s.start, s.end) for s in p.sources] for g in given for p in g] == [
        [(s.start, s.end) for s in p.sources] for g in computed for p in g
    ]
    assert [p.support for g in given for p in g] == pytest.approx([p.support for g in computed for p in g], abs=1e-3)


def test_similarities_are_cosines_of_each_text_with_its_own_document(engine):
    document = prepare(TWO_FACTS)
    vectors = embed_sentences([document], engine.embedder)
    (row,) = similarities([document.sentences[2].text], vectors, engine.embedder)
    assert row.shape == (3,) and int(row.argmax()) == 2 and float(row[2]) == pytest.approx(1.0, abs=2e-3)
    assert best_matches(torch.stack([row, row.flip(0)])).tolist() == pytest.approx([float(row.max())] * 2)
