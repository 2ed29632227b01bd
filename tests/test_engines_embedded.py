"""The embedded extractive engine behind the engine interface."""

import logging

import torch

from service.domain import Job, Options
from service.engines.embedded import SENTENCE_TOKENS, EmbeddedEngine, candidates
from service.text import prepare


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
