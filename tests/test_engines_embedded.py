"""The embedded extractive engine behind the engine interface."""

import logging
from dataclasses import replace

import pytest
import torch

from service.domain import Job, Options, Sentence
from service.engines.embedded import (
    DEFECT_PENALTY,
    FEATURES,
    MAX_BULLET_WORDS,
    NEAR_DUPLICATE,
    OPENER_PENALTY,
    SENTENCE_TOKENS,
    EmbeddedEngine,
    candidates,
    sentence_features,
)
from service.text import count_words, is_complete, prepare


def test_batch_results_match_single_results(engine, huawei_text):
    other = (
        "Markets fell sharply on Monday. Investors sold tech stocks after weak earnings reports. Oil prices rose. "
        "The central bank will meet next week to discuss rates."
    )
    jobs = [Job(prepare(huawei_text), Options()), Job(prepare(other), Options(style="bullets", max_bullets=3))]
    batched = engine.summarize(jobs)
    single = [engine.summarize([job])[0] for job in jobs]
    assert [s.short and s.short.text for s in batched] == [s.short and s.short.text for s in single]
    assert [[b.text for b in s.bullets] for s in batched] == [[b.text for b in s.bullets] for s in single]
    assert [s.input_tokens for s in batched] == [s.input_tokens for s in single]  # one job has a title, one has not


def test_bullets_are_distinct_complete_sentences_in_order(engine, huawei_text):
    document = prepare(huawei_text)
    summary = engine.summarize([Job(document, Options(style="bullets", max_bullets=5))])[0]
    assert 3 <= len(summary.bullets) <= 5
    starts = [b.sources[0].start for b in summary.bullets]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    assert all(b.text[-1] in '.!?"”' for b in summary.bullets)


def test_short_prefers_the_lead_of_a_news_story(engine, huawei_text):
    summary = engine.summarize([Job(prepare(huawei_text), Options(style="short"))])[0]
    assert summary.short.text.startswith("According to the Wall Street Journal, US officials")
    assert summary.bullets is None


def test_one_sentence_article(engine):
    summary = engine.summarize([Job(prepare("The bridge reopened on Sunday."), Options())])[0]
    assert summary.short.text == "The bridge reopened on Sunday."
    assert [b.text for b in summary.bullets] == ["The bridge reopened on Sunday."]


def test_embedder_batches_stay_within_the_token_budget_and_keep_each_text_its_row(engine):
    embedder = engine.embedder
    texts = [
        "Rain fell.",
        "The council approved a new budget for schools and roads on Tuesday after a long debate.",
        "Cats sleep.",
    ] * 12
    ids = embedder.tokenize(texts)
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    batches = embedder._batches(order, ids)
    assert [i for batch in batches for i in batch] == order
    assert len(batches) > 1 and all(len(b) * max(len(ids[i]) for i in b) <= embedder.batch_tokens for b in batches)
    together = embedder.encode(texts)
    alone = torch.cat([embedder.encode([text]) for text in texts[:3]])
    assert torch.allclose(together[:3], alone, atol=0.05)  # bf16 results move a little with the batch shape
    assert torch.allclose(together[:3], together[33:], atol=0.05)
    assert float(together[0] @ together[1]) < 0.9 and float(together[1] @ together[2]) < 0.9  # rows are told apart


def test_sentences_are_embedded_from_at_most_sentence_tokens(engine):
    long_sentence = "The committee said " + " ".join(["that the plan would work"] * 40) + "."
    summary = engine.summarize([Job(prepare(long_sentence), Options(style="short", short_max_words=200))])[0]
    assert summary.input_tokens == SENTENCE_TOKENS
    assert long_sentence.startswith(summary.short.text) and len(summary.short.text.split()) == 200  # cut to fit
    assert any("cut" in warning for warning in summary.warnings)


def test_input_tokens_count_every_word_piece_the_engine_embedded(engine, huawei_text):
    document = prepare(huawei_text)
    summary = engine.summarize([Job(document, Options())])[0]
    texts = [s.text for s in candidates(document, engine.scorer.max_candidates)] + [document.title]
    assert document.title and summary.input_tokens == sum(map(len, engine.embedder.tokenize(texts)))


def test_running_other_blocks_than_the_scorer_was_trained_on_is_logged(caplog):
    with caplog.at_level(logging.WARNING):
        engine = EmbeddedEngine.load(embedding_layers=2)
    assert engine.info()["embedding_layers"] == 2 and engine.info()["scorer_embedding_layers"] == 1
    assert "trained on features from 1 MiniLM blocks, the engine runs 2" in caplog.text


def test_a_document_without_sentences_gets_an_empty_summary_not_an_exception(engine):
    summary = engine.summarize([Job(prepare("... !!!"), Options())])[0]
    assert summary.short is None and summary.bullets == [] and summary.warnings


# -- selection on exact inputs: MMR, the extra-bullet threshold, the short summary, candidates ---------------


@pytest.fixture(scope="module")
def selector(engine):
    """The engine with selection knobs of known values (the trained scorer's are tuned and change)."""
    return EmbeddedEngine(engine.embedder, replace(engine.scorer, redundancy=0.6, extra_bullet_threshold=0.5))


def made_up(*words: int) -> list[Sentence]:
    """Sentences "s0 w w ... ." of the given word counts, one after another with their spans."""
    sentences, start = [], 0
    for number, count in enumerate(words):
        text = " ".join([f"s{number}"] + ["w"] * (count - 2) + ["end."])
        sentences.append(Sentence(text, start, start + len(text), count, True))
        start += len(text) + 1
    return sentences


def unit_rows(*rows) -> torch.Tensor:
    return torch.nn.functional.normalize(torch.tensor(rows, dtype=torch.float32), dim=1)


ORTHOGONAL = torch.eye(6)
BULLETS = Options(style="bullets", max_bullets=5)
THREE = Options(style="bullets", max_bullets=3)


def picked(summary) -> list[int]:
    return [int(b.text.split()[0][1:]) for b in summary.bullets]


def test_mmr_skips_a_sentence_that_repeats_one_already_chosen(selector):
    # 1 is 0 said again (cosine 0.9): after 0, its gain is 0.85 - 0.6 * 0.9 = 0.31, below 2's 0.6 and 3's 0.55.
    embeddings = unit_rows([1, 0, 0, 0], [0.9, 0.436, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1])
    scores = torch.tensor([0.9, 0.85, 0.6, 0.55])
    summary = selector.select(made_up(10, 10, 10, 10), embeddings, scores, Options(style="bullets", max_bullets=3))
    assert picked(summary) == [0, 2, 3]
    assert selector.scorer.redundancy == 0.6


def test_near_duplicates_are_never_both_bullets(selector):
    embeddings = unit_rows([1, 0, 0], [1, 0.05, 0], [0, 1, 0])  # 0 and 1: cosine 0.999
    assert float(embeddings[0] @ embeddings[1]) >= NEAR_DUPLICATE
    summary = selector.select(made_up(10, 10, 10), embeddings, torch.tensor([0.9, 0.95, 0.8]), BULLETS)
    assert picked(summary) == [1, 2]


def test_beyond_three_bullets_only_confident_sentences_are_added(selector):
    sentences = made_up(10, 10, 10, 10, 10, 10)
    unsure = selector.select(sentences, ORTHOGONAL, torch.tensor([0.45, 0.4, 0.3, 0.49, 0.2, 0.1]), BULLETS)
    assert picked(unsure) == [0, 1, 3]  # the three best, in document order
    sure = selector.select(sentences, ORTHOGONAL, torch.tensor([0.9, 0.8, 0.7, 0.6, 0.5, 0.4]), BULLETS)
    assert picked(sure) == [0, 1, 2, 3, 4]  # up to max_bullets; 0.5 is at the threshold: confident enough
    mixed = selector.select(sentences, ORTHOGONAL, torch.tensor([0.9, 0.8, 0.7, 0.6, 0.49, 0.1]), BULLETS)
    assert picked(mixed) == [0, 1, 2, 3]
    assert selector.scorer.extra_bullet_threshold == 0.5


def test_fewer_bullets_than_three_when_asked_or_when_the_article_is_short(selector):
    sentences = made_up(10, 10, 10, 10, 10, 10)
    scores = torch.tensor([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    assert picked(selector.select(sentences, ORTHOGONAL, scores, Options(style="bullets", max_bullets=2))) == [0, 1]
    two = selector.select(sentences[:2], ORTHOGONAL[:2, :2], scores[:2], BULLETS)
    assert picked(two) == [0, 1]


def test_bullets_are_grounded_in_their_own_spans_and_long_ones_are_cut(selector):
    sentences = made_up(10, MAX_BULLET_WORDS + 5, 10)
    summary = selector.select(sentences, ORTHOGONAL[:3, :3], torch.tensor([0.9, 0.8, 0.7]), BULLETS)
    assert [(b.sources[0].start, b.sources[0].end) for b in summary.bullets][::2] == [
        (s.start, s.end) for s in sentences[::2]
    ]
    cut = summary.bullets[1]
    assert len(cut.text.split()) == MAX_BULLET_WORDS and sentences[1].text.startswith(cut.text)
    assert summary.warnings == [f"a sentence of {MAX_BULLET_WORDS + 5} words was cut to its first {MAX_BULLET_WORDS}"]
    assert summary.short is None


def test_the_short_summary_joins_two_short_best_sentences_and_grounds_both(selector):
    sentences = made_up(12, 30, 10, 9)
    scores = torch.tensor([0.5, 0.9, 0.8, 0.7])  # 1 is best but too long for 25 words
    summary = selector.select(sentences, ORTHOGONAL[:4, :4], scores, Options(style="short", short_max_words=25))
    assert summary.short.text == f"{sentences[2].text} {sentences[3].text}"  # 2 (10 words), then 3 (9): 19 fit
    assert [(s.start, s.end, s.score) for s in summary.short.sources] == [
        (sentences[2].start, sentences[2].end, 1.0),
        (sentences[3].start, sentences[3].end, 1.0),
    ]
    assert summary.bullets is None and summary.warnings == []


def test_the_short_summary_has_one_sentence_when_the_best_is_long_the_pair_repeats_or_nothing_fits(selector):
    short = Options(style="short", short_max_words=60)
    long_best = selector.select(made_up(25, 10), ORTHOGONAL[:2, :2], torch.tensor([0.9, 0.8]), short)
    assert long_best.short.text.startswith("s0 ") and len(long_best.short.sources) == 1  # 25 words: enough alone
    same = unit_rows([1, 0], [1, 0.01])
    repeated = selector.select(made_up(10, 10), same, torch.tensor([0.9, 0.8]), short)
    assert repeated.short.text.startswith("s0 ") and len(repeated.short.sources) == 1
    over_budget = selector.select(
        made_up(10, 12), ORTHOGONAL[:2, :2], torch.tensor([0.9, 0.8]), Options(style="short", short_max_words=20)
    )
    assert over_budget.short.text.startswith("s0 ") and len(over_budget.short.sources) == 1  # 10 + 12 > 20
    third = selector.select(
        made_up(10, 8, 8, 6),
        ORTHOGONAL[:4, :4],
        torch.tensor([0.9, 0.8, 0.7, 0.1]),
        Options(style="short", short_max_words=17),
    )
    assert len(third.short.sources) == 1  # a partner comes from the next two best only; the fourth (6 words) is not one


def test_when_no_sentence_fits_the_short_summary_is_cut(selector):
    sentences = made_up(40, 30, 50, 20)
    summary = selector.select(
        sentences, ORTHOGONAL[:4, :4], torch.tensor([0.9, 0.8, 0.7, 0.1]), Options(style="short", short_max_words=10)
    )
    assert summary.short.text == " ".join(sentences[1].text.split()[:10])  # the shortest of the top three
    assert (summary.short.sources[0].start, summary.short.sources[0].end) == (
        sentences[1].start,
        sentences[1].start + len(summary.short.text),
    )
    assert summary.warnings == ["no sentence fits in 10 words; the best short one was cut to fit"]


def test_a_best_sentence_of_exactly_20_words_stands_alone_and_a_pair_at_the_duplicate_line_is_kept_apart(selector):
    short = Options(style="short", short_max_words=60)
    twenty = selector.select(made_up(20, 10), ORTHOGONAL[:2, :2], torch.tensor([0.9, 0.8]), short)
    assert len(twenty.short.sources) == 1  # a partner only for a best sentence under 20 words
    assert twenty.short.support == 1.0  # verbatim from the article
    nineteen = selector.select(made_up(19, 10), ORTHOGONAL[:2, :2], torch.tensor([0.9, 0.8]), short)
    assert len(nineteen.short.sources) == 2 and nineteen.short.support == 1.0
    cosine = torch.tensor(NEAR_DUPLICATE)
    at_the_line = torch.stack([torch.tensor([1.0, 0.0]), torch.stack([cosine, (1 - cosine**2).sqrt()])])
    assert float(at_the_line[0] @ at_the_line[1]) == float(cosine)
    summary = selector.select(made_up(10, 10), at_the_line, torch.tensor([0.9, 0.8]), short)
    assert len(summary.short.sources) == 1  # a cosine of NEAR_DUPLICATE already counts as the same sentence


def test_the_short_summary_fills_its_budget_exactly(selector):
    ten = Options(style="short", short_max_words=10)
    alone = selector.select(made_up(10, 30), ORTHOGONAL[:2, :2], torch.tensor([0.9, 0.8]), ten)
    assert alone.short.text == made_up(10)[0].text and alone.warnings == []  # 10 words fit in 10
    twenty = Options(style="short", short_max_words=20)
    pair = selector.select(made_up(10, 10), ORTHOGONAL[:2, :2], torch.tensor([0.9, 0.8]), twenty)
    assert len(pair.short.sources) == 2  # 10 + 10 words fit in 20


def test_the_short_summary_prefers_a_sentence_that_does_not_lean_on_the_one_before(selector):
    sentences = sentences_of(
        "The council met for six hours on Tuesday night.",
        "But the vote on the new budget was put off until next week.",
    )
    one_sentence = Options(style="short", short_max_words=15)  # 9 + 13 words: no room for a pair
    summary = selector.select(sentences, ORTHOGONAL[:2, :2], torch.tensor([0.8, 0.9]), one_sentence)
    assert summary.short.text == sentences[0].text  # 0.9 - 0.15 for the opener is below 0.8


def test_the_short_summary_is_fully_supported_and_its_warning_survives_the_bullets(selector):
    sentences = made_up(40, 30, 50, 20)
    summary = selector.select(
        sentences, ORTHOGONAL[:4, :4], torch.tensor([0.9, 0.8, 0.7, 0.1]), Options(style="both", short_max_words=10)
    )
    assert summary.short.support == 1.0  # verbatim from the article
    assert summary.warnings == ["no sentence fits in 10 words; the best short one was cut to fit"]
    assert len(summary.bullets) == 3


def test_selection_without_sentences(selector):
    empty = torch.empty(0)
    both = selector.select([], torch.empty(0, 4), empty, Options())
    assert (both.short, both.bullets, both.warnings) == (None, [], ["the document has no sentences to summarize"])
    assert selector.select([], torch.empty(0, 4), empty, Options(style="short")).bullets is None


def test_candidates_are_complete_sentences_of_5_to_80_words_each_text_once_in_order():
    text = (
        "Too short. "
        "The council approved the plan on Monday. "
        "THE COUNCIL  APPROVED the plan on Monday. "
        "Officials said the work will start in spring. "
        "The mayor spoke " + "at length " * 40 + "about it. "
        "A headline without a period"
    )
    document = prepare(text)
    chosen = candidates(document, 60)
    assert [s.text for s in chosen] == [
        "The council approved the plan on Monday.",
        "Officials said the work will start in spring.",
    ]
    assert [s.text for s in candidates(document, 1)] == ["The council approved the plan on Monday."]
    fragments = prepare("Rain.\nWind.\nSnow, then ice.")
    assert [s.text for s in candidates(fragments, 60)] == ["Rain.", "Wind.", "Snow, then ice."]  # none qualifies: all
    edges = prepare("One two three four five. Word " + "word " * 78 + "end.")
    assert [s.words for s in candidates(edges, 60)] == [5, 80]


def test_the_title_feature_is_the_similarity_to_the_title_else_to_the_lead():
    sentences = made_up(10, 12, 14)
    embeddings = unit_rows([1, 0, 0], [0.6, 0.8, 0], [0, 0.6, 0.8])
    title = unit_rows([0, 0, 1])[0]
    with_title = sentence_features(sentences, embeddings, title)
    column = list(FEATURES).index("title_similarity")
    assert with_title[:, column].tolist() == pytest.approx([0.0, 0.0, 0.8])
    assert sentence_features(sentences, embeddings, None)[:, column].tolist() == pytest.approx([1.0, 0.6, 0.0])


# -- sentences that read badly alone (marked by service/engines/candidates.py) --------------------------------


def sentences_of(*texts: str) -> list[Sentence]:
    """Real sentences, one after another with their spans."""
    out, start = [], 0
    for text in texts:
        out.append(Sentence(text, start, start + len(text), count_words(text), is_complete(text)))
        start += len(text) + 1
    return out


def test_a_quotation_fragment_is_not_chosen_over_a_sound_sentence(selector):
    group = sentences_of(
        "The bridge opened on Monday after three years of work.",
        "Drivers lined up before dawn to cross it first.",
        'Makes my skin crawl even being here," she said about the old one.',
        "The city plans a second bridge further north by 2030.",
    )
    scores = torch.tensor([0.9, 0.8, 0.75, 0.75 - DEFECT_PENALTY + 0.05])
    chosen = [b.text for b in selector.select(group, torch.eye(4), scores, THREE).bullets]
    assert group[2].text not in chosen and group[3].text in chosen


def test_a_context_opener_is_demoted_unless_the_sentence_before_it_is_picked(selector):
    group = sentences_of(
        "The bridge opened on Monday after three years of work.",
        "Drivers lined up before dawn to cross it first.",
        "The mayor called it the biggest project in decades.",
        "But the council says the costs doubled since 2020.",
        "The city plans a second bridge further north by 2030.",
    )
    eye = torch.eye(5)
    scores = torch.tensor([0.9, 0.85, 0.3, 0.8, 0.8 - OPENER_PENALTY + 0.05])
    without = [b.text for b in selector.select(group, eye, scores, THREE).bullets]
    assert group[3].text not in without and group[4].text in without
    after_its_sentence = torch.tensor([0.9, 0.3, 0.85, 0.8, 0.8 - OPENER_PENALTY + 0.05])
    assert group[3].text in [b.text for b in selector.select(group, eye, after_its_sentence, THREE).bullets]
    short = selector.select(group, eye, torch.tensor([0.5, 0.3, 0.3, 0.9, 0.5]), Options(style="short"))
    assert not short.short.text.startswith("But")
