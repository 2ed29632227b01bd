"""Token-aware chunking of long articles on sentence boundaries (service/engines/abstractive/chunking.py)."""

import pytest

from service.engines.abstractive.chunking import chunk_sentences, plan_chunks


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
