"""The embedded extractive engine behind the engine interface."""
import json
from pathlib import Path

from service.engines.base import Job, Options
from service.text import prepare

DATA = Path(__file__).resolve().parents[1] / "eval" / "data"


def test_batch_results_match_single_results(engine, huawei_text):
    other = "Markets fell sharply on Monday. Investors sold tech stocks after weak earnings reports. Oil prices rose. The central bank will meet next week to discuss rates."
    jobs = [Job(prepare(huawei_text), Options()), Job(prepare(other), Options(style="bullets", max_bullets=3))]
    batched = engine.summarize(jobs)
    single = [engine.summarize([job])[0] for job in jobs]
    assert [s.short and s.short.text for s in batched] == [s.short and s.short.text for s in single]
    assert [[b.text for b in s.bullets] for s in batched] == [[b.text for b in s.bullets] for s in single]


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
