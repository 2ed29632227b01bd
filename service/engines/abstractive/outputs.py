"""Output cleaning: model text into complete sentences, a short summary and bullets (pure functions).

Nothing cut off by the token limit survives: a last sentence without an ending is
dropped when the model did not stop on its own. Chat lists are parsed into bullets
(numbers, `-`, `*`, `•` and emphasis removed); a "Summary:" label is stripped.
"""

from __future__ import annotations

import re

from service.engines.abstractive.generation import Generated
from service.text import count_words, has_word, is_complete, normalize_space, split_sentences

SHORT_SENTENCES = 2
_LIST_MARKER = re.compile(r"^\s*(?:[-*•·–—▪‣●◦]|\(?\d{1,2}[.)]|\(?[a-zA-Z][.)](?=\s))\s*")
_LABEL = re.compile(r"^\s*(?:summary|tl;?dr|short summary)\s*:\s*", re.IGNORECASE)
_EMPHASIS = re.compile(r"\*\*|__")
_PREAMBLE = re.compile(r"^\s*(?:#+\s.*|.*:\s*)$")  # a heading, or a line introducing what follows ("Here is:")
_WORDS = re.compile(r"\w+")
REPEAT_OVERLAP = 0.8  # a bullet sharing this share of the shorter one's words with an earlier bullet repeats it


def complete_sentences(output: Generated) -> list[str]:
    """The output's sentences, minus a last one that the token limit cut off."""
    sentences = sentence_texts(output.text)
    if sentences and not output.finished and not is_complete(sentences[-1]):
        sentences.pop()
    return sentences


def short_text(output: Generated, max_words: int, is_chat: bool) -> str | None:
    """The leading complete sentences (at most two) that fit in `max_words`; None when none does."""
    if is_chat:
        lines = [line for line in output.text.splitlines() if not _PREAMBLE.match(line)]
        output = Generated(" ".join(_clean_item(line) for line in lines), output.finished)
    chosen: list[str] = []
    for sentence in complete_sentences(output)[:SHORT_SENTENCES]:
        if count_words(" ".join(chosen + [sentence])) > max_words:
            break
        chosen.append(sentence)
    return " ".join(chosen) or None


def bullet_texts(output: Generated, max_bullets: int, is_chat: bool) -> list[str]:
    """1..max_bullets distinct complete bullets: list items from a chat model, sentences from seq2seq."""
    items = parse_list(output) if is_chat else []
    bullets: list[str] = []
    for text in items or complete_sentences(output):
        if not (is_chat and _PREAMBLE.match(text)) and not any(_repeats(text, earlier) for earlier in bullets):
            bullets.append(text)
    return bullets[:max_bullets]


def _repeats(text: str, earlier: str) -> bool:
    """Most words of the shorter of the two also stand in the other (case aside): a restated point."""
    words, earlier_words = (set(_WORDS.findall(t.casefold())) for t in (text, earlier))
    return len(words & earlier_words) >= REPEAT_OVERLAP * min(len(words), len(earlier_words))


def parse_list(output: Generated) -> list[str]:
    """Items of a bulleted or numbered list; preamble lines and an item cut off by the limit are dropped."""
    lines = [line for line in output.text.splitlines() if line.strip()]
    items = [_clean_item(line) for line in lines if _LIST_MARKER.match(line)]
    items = [item for item in items if has_word(item) and not _PREAMBLE.match(item)]  # "- Here are the points:"
    cut = not output.finished and lines and _LIST_MARKER.match(lines[-1])
    if items and cut and not is_complete(items[-1]):
        items.pop()
    return items


def _clean_item(line: str) -> str:
    """A chat line without its label ("Summary:"), list marker and emphasis."""
    return normalize_space(_EMPHASIS.sub("", _LIST_MARKER.sub("", _LABEL.sub("", line))))


def sentence_texts(text: str) -> list[str]:
    """The sentences of generated text, whitespace normalized, those without a word left out."""
    return [normalize_space(s.text) for s in split_sentences(text) if has_word(s.text)]
