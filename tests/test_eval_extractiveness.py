"""Grusky et al. (2018) fragments, coverage, density, compression and novel n-grams."""

from __future__ import annotations

import random

import pytest

from eval.extractiveness import ArticleIndex, extractiveness, tokens


def paper_fragments(article: list[str], summary: list[str]) -> list[list[str]]:
    """Algorithm 1 of the paper, written out literally (quadratic)."""
    found, i = [], 0
    while i < len(summary):
        f, j = [], 0
        while j < len(article):
            if summary[i] == article[j]:
                i2, j2 = i, j
                while i2 < len(summary) and j2 < len(article) and summary[i2] == article[j2]:
                    i2, j2 = i2 + 1, j2 + 1
                if len(f) < i2 - i:
                    f = summary[i:i2]
                j = j2
            else:
                j += 1
        i += max(len(f), 1)
        if f:
            found.append(f)
    return found


def test_hand_computed_case():
    index = ArticleIndex("The cat sat on the mat.")
    scores = extractiveness(index, ["The cat lay on the mat."])
    # fragments: [the cat], [on the mat]; "lay" is novel
    assert index.fragments(tokens("The cat lay on the mat.")) == [["the", "cat"], ["on", "the", "mat"]]
    assert scores["coverage"] == pytest.approx(5 / 6)
    assert scores["density"] == pytest.approx((2 * 2 + 3 * 3) / 6)
    assert scores["compression"] == pytest.approx(1.0)
    assert scores["novel1"] == pytest.approx(100 / 6)
    assert scores["novel2"] == pytest.approx(40.0)  # cat lay, lay on of 5 bigrams
    assert scores["novel3"] == pytest.approx(75.0)  # only "on the mat" of 4 trigrams is copied


def test_copied_sentence_is_one_fragment():
    article = "Officials said the bridge will reopen in May. Traffic is diverted until then."
    scores = extractiveness(ArticleIndex(article), ["Traffic is diverted until then."])
    assert scores["coverage"] == 1.0
    assert scores["density"] == 5.0
    assert scores["compression"] == pytest.approx(13 / 5)
    assert scores["novel1"] == scores["novel2"] == scores["novel3"] == 0.0


def test_copied_sentences_out_of_order_have_no_novel_ngrams():
    article = "Rain fell all day. Rivers rose fast. Roads were closed."
    scores = extractiveness(ArticleIndex(article), ["Roads were closed.", "Rain fell all day."])
    assert scores["novel2"] == scores["novel3"] == 0.0  # "closed rain" spans two sentences: not counted
    assert scores["coverage"] == 1.0
    assert scores["density"] == pytest.approx((3 * 3 + 4 * 4) / 7)


def test_tokenized_and_raw_text_give_the_same_tokens():
    assert tokens("Tottenham 's 0-0 draw , said Merson .") == tokens("Tottenham's 0-0 draw, said Merson.")


def test_matches_the_papers_algorithm_on_random_texts():
    rng = random.Random(7)
    vocabulary = [f"w{i}" for i in range(12)]
    for _ in range(300):
        article = [rng.choice(vocabulary) for _ in range(rng.randint(0, 60))]
        summary = [rng.choice(vocabulary) for _ in range(rng.randint(0, 25))]
        index = ArticleIndex(" ".join(article))
        assert index.fragments(summary) == paper_fragments(article, summary)


def test_empty_summary_scores_zero_instead_of_failing():
    scores = extractiveness(ArticleIndex("Some article text here."), [])
    assert scores["coverage"] == scores["density"] == scores["novel1"] == 0.0
