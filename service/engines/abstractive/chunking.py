"""Token-aware chunking of an article on sentence boundaries, with sentence overlap.

A chunk is a run of consecutive sentences whose token count fits the model's input
budget; the next chunk starts `overlap` sentences before the previous one ended, so
a fact split across a boundary is seen whole at least once. A single sentence longer
than the budget (scraped text without punctuation) is split into word runs first, so
nothing is ever cut off by the tokenizer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

CountTokens = Callable[[Sequence[str]], list[int]]


def chunk_sentences(sentences: Sequence[str], count_tokens: CountTokens, budget: int, overlap: int = 1) -> list[str]:
    """Join sentences into chunks of at most `budget` tokens each (by the counts of `count_tokens`)."""
    if budget < 1:
        raise ValueError(f"chunk budget must be positive, got {budget}")
    pieces: list[str] = []
    counts: list[int] = []
    for sentence, tokens in zip(sentences, count_tokens(sentences)):
        parts = _split_long(sentence, tokens, budget, count_tokens)
        pieces += [text for text, _ in parts]
        counts += [n for _, n in parts]
    return [" ".join(pieces[start:end]) for start, end in plan_chunks(counts, budget, overlap)]


def plan_chunks(counts: Sequence[int], budget: int, overlap: int) -> list[tuple[int, int]]:
    """Half-open sentence ranges covering every sentence; each range's counts sum to <= budget.

    Counts above the budget get a range of their own (callers split such sentences first).
    """
    ranges: list[tuple[int, int]] = []
    start = 0
    while start < len(counts):
        end, total = start, 0
        while end < len(counts) and (end == start or total + counts[end] <= budget):
            total += counts[end]
            end += 1
        ranges.append((start, end))
        if end == len(counts):
            break
        start = max(end - overlap, start + 1)
    return ranges


def _split_long(text: str, tokens: int, budget: int, count_tokens: CountTokens) -> list[tuple[str, int]]:
    """Split a sentence over the budget into word runs that each fit."""
    words = text.split()
    if tokens <= budget or len(words) < 2:
        return [(text, tokens)]
    size = math.ceil(len(words) / math.ceil(tokens / budget))
    runs = [" ".join(words[i : i + size]) for i in range(0, len(words), size)]
    return [part for run, n in zip(runs, count_tokens(runs)) for part in _split_long(run, n, budget, count_tokens)]
