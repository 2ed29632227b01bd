"""The model-free parts of the abstractive engine: chunking, output cleaning, grounding."""
import json

import pytest

from service.embedder import Embedder
from service.engines.abstractive import AbstractiveEngine, bullet_texts, complete_sentences, parse_list, short_text
from service.engines.base import Job, Options
from service.engines.chunking import chunk_sentences, plan_chunks
from service.engines.generation import Generated, Generator
from service.grounding import ground, ground_many
from service.text import prepare
from tiny_models import ARTICLE, build_bart


def words(texts):
    return [len(t.split()) for t in texts]


@pytest.mark.parametrize("overlap", [0, 1, 2])
def test_chunks_cover_every_sentence_within_budget(overlap):
    counts = [5, 9, 3, 7, 7, 2, 8, 4, 6, 1]
    ranges = plan_chunks(counts, budget=15, overlap=overlap)
    assert ranges[0][0] == 0 and ranges[-1][1] == len(counts)
    assert all(sum(counts[a:b]) <= 15 for a, b in ranges)
    for (start, end), (next_start, _) in zip(ranges, ranges[1:]):
        assert next_start == max(end - overlap, start + 1)  # `overlap` shared sentences, always progressing


def test_one_chunk_when_everything_fits():
    sentences = ["One two three.", "Four five."]
    assert chunk_sentences(sentences, words, budget=10, overlap=1) == ["One two three. Four five."]


def test_a_sentence_longer_than_the_budget_is_split_not_cut():
    long = " ".join(f"w{i}" for i in range(25))
    chunks = chunk_sentences(["Short one.", long, "Last."], words, budget=8, overlap=0)
    assert all(len(c.split()) <= 8 for c in chunks)
    assert " ".join(chunks).split() == ["Short", "one."] + long.split() + ["Last."]


def test_cut_off_last_sentence_is_dropped():
    text = "The wall will be built. Work starts in June. The council also said that the"
    assert complete_sentences(Generated(text, finished=False)) == ["The wall will be built.", "Work starts in June."]
    assert complete_sentences(Generated("Only a fragment without end", finished=False)) == []


def test_a_finished_output_keeps_its_last_sentence_without_a_period():
    assert complete_sentences(Generated("The wall will be built. Work starts in June", finished=True))[-1] == "Work starts in June"


def test_short_takes_at_most_two_leading_sentences_within_the_word_limit():
    output = Generated("The wall will be built. Work starts in June. It costs ninety million dollars.", finished=True)
    assert short_text(output, 60, is_chat=False) == "The wall will be built. Work starts in June."
    assert short_text(output, 6, is_chat=False) == "The wall will be built."
    assert short_text(output, 4, is_chat=False) is None
    assert short_text(Generated("Summary: - The wall will be built.", True), 60, is_chat=True) == "The wall will be built."


def test_chat_lists_are_parsed_whatever_the_markers():
    text = (
        "Here are the key points:\n"
        "1. The council approved the wall.\n"
        "2) **Cost:** ninety million dollars.\n"
        "• Work starts in June.\n"
        "* The council approved the wall.\n"
        "- Two members voted against the"
    )
    items = parse_list(Generated(text, finished=False))
    assert items == [
        "The council approved the wall.",
        "Cost: ninety million dollars.",
        "Work starts in June.",
        "The council approved the wall.",
    ]
    assert bullet_texts(Generated(text, finished=False), 5, is_chat=True) == items[:3]
    assert bullet_texts(Generated(text, finished=False), 2, is_chat=True) == items[:2]


def test_a_finished_list_keeps_its_last_item_and_prose_falls_back_to_sentences():
    assert parse_list(Generated("- Work starts in June\n- Costs rise", finished=True)) == ["Work starts in June", "Costs rise"]
    prose = Generated("The wall will be built. Work starts in June.", finished=True)
    assert bullet_texts(prose, 5, is_chat=True) == ["The wall will be built.", "Work starts in June."]


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
    copied, unrelated = ground([target.text, "A recipe for lemon cake needs flour, sugar and eggs."], document, embedder)
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
    assert flat == pytest.approx([p.support for group in single for p in group], abs=1e-3)
    assert [[(s.start, s.end) for s in p.sources] for group in batched for p in group] == [
        [(s.start, s.end) for s in p.sources] for group in single for p in group
    ]


def test_a_fallback_summary_embeds_each_document_sentence_once(embedder, tmp_path):
    """A cut-off model (no sentence ends, EOS blocked) falls back for both outputs; the article is embedded once."""
    presets = {kind: {"num_beams": 1, "min_new_tokens": 12, "max_new_tokens": 12} for kind in ("short", "bullets")}
    engine = AbstractiveEngine(Generator(str(build_bart(tmp_path, periods=False, steps=0)), "cpu", presets=json.dumps(presets)), embedder)
    document = prepare(ARTICLE)
    embedder.texts.clear()
    summary = engine.summarize([Job(document, Options())])[0]
    assert sum("closest source sentence" in w for w in summary.warnings) == 2
    # the article's sentences, plus 2 fallback queries and the 2 grounded one-sentence passages
    assert len(embedder.texts) == len(document.sentences) + 2 + 2
