"""ROUGE as published tables compute it: hand-computed cases, rouge-score directly, published figures."""

from __future__ import annotations

from pathlib import Path

import pytest
from rouge_score import rouge_scorer

from eval.records import load
from eval.rouge import ROUGE_TYPES, Rouge
from eval.systems import stored_runs
from service.text import split_reference

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="module")
def rouge() -> Rouge:
    return Rouge()


def test_hand_computed_f1(rouge):
    scores, best = rouge.score(["The cat sat on the mat."], [["The cat lay on the mat."]])
    # unigrams: the, the, cat, on, mat shared (5 of 6 each side); bigrams: the cat, on the, the mat (3 of 5);
    # LCS: the cat on the mat (5 of 6).
    assert best == 0
    assert scores["rouge1"] == pytest.approx(100 * 5 / 6)
    assert scores["rouge2"] == pytest.approx(60.0)
    assert scores["rougeL"] == pytest.approx(100 * 5 / 6)
    assert scores["rougeLsum"] == pytest.approx(100 * 5 / 6)


def test_stemming_counts_inflected_forms(rouge):
    scores, _ = rouge.score(["Police arrested two men."], [["Police arrest two man."]])
    assert scores["rouge1"] == pytest.approx(75.0)  # arrested ~ arrest, men != man


def test_lsum_uses_one_sentence_per_line(rouge):
    summary = ["Alpha beta gamma.", "Delta epsilon zeta."]
    reference = ["Delta epsilon zeta.", "Alpha beta gamma."]
    scores, _ = rouge.score(summary, [reference])
    assert scores["rougeLsum"] == pytest.approx(100.0)  # sentence-level union LCS ignores order
    assert scores["rougeL"] == pytest.approx(50.0)  # one LCS over the whole text does not


def test_best_reference_is_highest_rouge1_and_all_variants_follow_it(rouge):
    summary = ["Storms closed the airport on Monday."]
    references = [["Heavy snow fell."], ["Storms shut the airport on Monday."], ["The airport reopened."]]
    scores, best = rouge.score(summary, references)
    direct = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeLsum"], use_stemmer=True).score(
        "\n".join(references[1]), "\n".join(summary)
    )
    assert best == 1
    for name in ("rouge1", "rouge2", "rougeLsum"):
        assert scores[name] == pytest.approx(100 * direct[name].fmeasure)


def test_cnndm_reference_joins_are_split_like_sentences():
    joined = "Anuradha Koirala lost her home . Pushpa Basnet evacuated 45 children . Seven others help ."
    assert split_reference(joined) == [
        "Anuradha Koirala lost her home.",
        "Pushpa Basnet evacuated 45 children.",
        "Seven others help.",
    ]
    assert split_reference("First point .<q>Second point .") == ["First point.", "Second point."]


def _harness_rouge(path: Path, system: str) -> dict[str, float]:
    records = load(path).records
    (run,), _ = stored_runs(records, [system])
    rouge = Rouge()
    totals = {"rouge1": 0.0, "rouge2": 0.0, "rougeLsum": 0.0}
    for record, output in zip(records, run.outputs):
        scores, _ = rouge.score(output.sentences, [split_reference(r) for r in record.references])
        for name in totals:
            totals[name] += scores[name] / len(records)
    return totals


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED / "goyal2022_cnn_test500.jsonl").exists(), reason="shared data not present")
@pytest.mark.parametrize("system, r1, r2", [("BRIO", 38.49, 17.11), ("PEGASUS", 34.89, 14.67)])
def test_published_goyal2022_figures(system, r1, r2):
    scores = _harness_rouge(SHARED / "goyal2022_cnn_test500.jsonl", system)
    assert scores["rouge1"] == pytest.approx(r1, abs=0.05)
    assert scores["rouge2"] == pytest.approx(r2, abs=0.05)


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED / "summeval_cnndm.jsonl").exists(), reason="shared data not present")
def test_published_summeval_best_of_eleven_references():
    scores = _harness_rouge(SHARED / "summeval_cnndm.jsonl", "M23_PEGASUS")
    assert scores["rouge1"] == pytest.approx(52.34, abs=0.05)
    assert scores["rouge2"] == pytest.approx(26.69, abs=0.05)


def test_a_rouge_without_references_is_refused():
    with pytest.raises(ValueError, match="^ROUGE needs at least one reference$"):
        Rouge().score(["A summary."], [])


def test_the_best_reference_is_chosen_with_stemming():
    # Stemmed, the first reference matches every word; unstemmed, the second matches more.
    scores, best = Rouge().score(["Police arrested men."], [["Police arrest men."], ["Police arrested two men."]])
    assert best == 0 and scores["rouge1"] == pytest.approx(100.0)


def test_ties_for_the_best_reference_go_to_the_first_and_sentences_join_by_line():
    summary = ["Storms closed roads today."]
    same_words = [["Storms closed.", "Roads today."], ["Storms closed roads today."]]
    assert Rouge().score(summary, same_words) == ({name: pytest.approx(100.0) for name in ROUGE_TYPES}, 0)
    assert Rouge().score(summary, same_words[::-1])[1] == 0
    two = [["Heavy snow fell."], ["Storms shut the roads today."]]
    assert Rouge().score(summary, two)[1] == 1
