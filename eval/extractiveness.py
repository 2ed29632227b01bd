"""How extractive a summary is: Grusky et al. (2018) fragments and novel n-grams.

Tokens are lower-cased word characters (`\\w+`), so PTB-tokenized text ("Tottenham 's")
and raw text ("Tottenham's") give the same tokens. Extractive fragments are found
with the paper's greedy algorithm: at each summary position take the longest run
of tokens shared with the article, then continue after it. With fragments F of
summary S and article A:

- coverage    = sum(|f|) / |S|       share of summary words inside a copied fragment
- density     = sum(|f|^2) / |S|     average length of the fragment each word is in
- compression = |A| / |S|            article words per summary word

Novel n-gram rate: the percentage of the summary's n-grams (with repeats, within
sentences, so that two copied sentences put side by side add nothing novel) that
never occur in the article.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import defaultdict

NOVEL_N: tuple[int, ...] = (1, 2, 3)
_TOKEN = re.compile(r"\w+")


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens, the unit of every measure here."""
    return _TOKEN.findall(text.lower())


class ArticleIndex:
    """An article's tokens, token positions and n-gram sets, built once, used for every summary."""

    def __init__(self, article: str):
        self.tokens = tokens(article)
        self.positions: dict[str, list[int]] = defaultdict(list)
        for i, token in enumerate(self.tokens):
            self.positions[token].append(i)
        self.ngrams = {n: set(_ngrams(self.tokens, n)) for n in NOVEL_N}

    def fragments(self, summary: list[str]) -> list[list[str]]:
        """Grusky et al.'s greedy extractive fragments of a tokenized summary."""
        found: list[list[str]] = []
        i = 0
        while i < len(summary):
            longest = 0
            starts = self.positions.get(summary[i], [])
            k = 0
            while k < len(starts):
                length = self._match_length(summary, i, starts[k])
                longest = max(longest, length)
                k = bisect_left(starts, starts[k] + length, k + 1)  # resume after the match, as the paper does
            if longest:
                found.append(summary[i : i + longest])
            i += max(longest, 1)
        return found

    def _match_length(self, summary: list[str], i: int, j: int) -> int:
        length = 0
        while (
            i + length < len(summary)
            and j + length < len(self.tokens)
            and summary[i + length] == self.tokens[j + length]
        ):
            length += 1
        return length


def extractiveness(index: ArticleIndex, sentences: list[str]) -> dict[str, float]:
    """Coverage, density, compression and novel n-gram rates (%) of one sentence-split summary."""
    split = [tokens(sentence) for sentence in sentences]
    words = [word for sentence in split for word in sentence]
    size = max(len(words), 1)
    lengths = [len(f) for f in index.fragments(words)]
    scores = {
        "coverage": sum(lengths) / size,
        "density": sum(n * n for n in lengths) / size,
        "compression": len(index.tokens) / size,
    }
    for n in NOVEL_N:
        grams = [gram for sentence in split for gram in _ngrams(sentence, n)]
        novel = sum(gram not in index.ngrams[n] for gram in grams)
        scores[f"novel{n}"] = 100 * novel / len(grams) if grams else 0.0
    return scores


def _ngrams(words: list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
