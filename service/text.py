"""Text preparation shared by the service and the evaluation harness.

`prepare()` turns raw (often scraped) article text into a `Document`: the content
sentences with their character spans in the *original* text, so every summary
sentence can point back at where it came from. Scraper debris (datelines, bylines,
a repeated headline, section labels, "Like this:", "Advertisement", source tags
such as "(CNN) --") is dropped here, once, for every engine.

Debris is found in *blocks*: lines, and the parts of a line between runs of two or
more spaces (the paragraph breaks of one-line exports). Only short blocks (at most
`MAX_DEBRIS_WORDS` words) can be debris, so no pattern ever removes article content;
content blocks of one line are joined again before segmentation.

Sentence segmentation uses syntok (abbreviations, decimals, quotes); line breaks and
the Chinese/Japanese terminals 。！？ always end a sentence. Words are counted between
spaces, except in scripts written without spaces (Chinese, Japanese kana, Thai, Lao,
Khmer, Myanmar), where each character counts as a word.

Every pattern here runs on request input, so each is written to match in linear
time: no nested or adjacent quantifiers that can split the same characters in
different ways (tests/test_text.py checks the worst cases).
"""

from __future__ import annotations

import re

import py3langid
from syntok import segmenter

from service.domain import Document, Sentence

MAX_DEBRIS_WORDS = 25  # longer blocks are always content
LANGUAGE_SAMPLE_CHARS = 2_000  # language identification reads this much content (about 1 ms)
_NO_SPACE_SCRIPTS = (
    "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
)
_CJK_PUNCTUATION = "\u3000-\u303f\uff01-\uff0f\uff1a-\uff20"  # 。、「」！？… do not count as words
_WORD = re.compile(rf"[{_NO_SPACE_SCRIPTS}]|[^\s{_NO_SPACE_SCRIPTS}{_CJK_PUNCTUATION}]++")
_PIECE = re.compile(r"\w++|[^\w\s]")
_HAS_WORD = re.compile(r"\w")
_LINE = re.compile(r"[^\r\n]++")
_BLOCK = re.compile(r"\S++(?:[ \t\u00a0]\S++)*+")  # text between runs of 2+ spaces
_CJK_END = re.compile(r"[。！？]++[」』）】〕〉》\"”’']*+")
_TERMINAL = re.compile(r"[.!?…。！？][\"'”’)\]」』）]*+$")

_NAME = r"(?-i:[A-Z][\w.'’-]*+)"
_NAMES = rf"{_NAME}(?: {_NAME}){{0,3}}"
# A whole block that is navigation, sharing or layout debris (matched on normalized space).
_DEBRIS = re.compile(
    r"(?:(?:share|follow|tweet|email|print) this:?"
    r"|like this:?.*"
    r"|share (?:this|on \w++|via \w++).*"
    r"|advertisement|sponsored(?: content)?|loading\.*+"
    r"|(?:read|see) (?:more|also)\b.*"
    r"|related(?: articles| stories| content| coverage| links)?(?::.*)?"
    r"|click here\b.*|sign up\b.*|subscribe\b.*|continue reading\b.*"
    r"|(?:image|photo|video) ?(?:credit|caption)?:.*|copyright\b.*|©.*|all rights reserved.*)",
    re.IGNORECASE,
)
# Before the article starts: dates, bylines and "PUBLISHED: … | UPDATED: …" stamps.
_STAMP = re.compile(
    rf"(?:(?:[\w&-]++ ?){{1,5}}\| ?)?by {_NAMES}(?: (?:and|&) {_NAMES})?(?: ?[|,].*)?"
    r"|(?:published|updated|posted|last updated|last modified|created)(?: on| at| by)? ?"
    r"(?::|\d|\||by\b|(?:mon|tue|wed|thu|fri|sat|sun|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*+\b|$).*"
    r"|\W*+published ?:.*"
    r"|(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*+,? \w++ \d{1,2},? \d{4}.*"
    r"|\d{1,2} \w++ \d{4}(?: \d{1,2}:\d{2}.*)?"
    r"|\w++ \d{1,2}, \d{4}(?: \d{1,2}:\d{2}.*)?",
    re.IGNORECASE,
)
# Leading source tags and stamps inside the first content block (only the tag is cut):
# "(CNN) -- ", "Seoul (CNN) ", "LONDON (Reuters) - ", "WASHINGTON — ", "Updated 3:15 p.m. ",
# "By . Daily Mail Reporter . PUBLISHED: . 12:00 EST, 1 May 2014 . | . UPDATED: . … . ".
_LEADING_TAG = re.compile(
    r"(?:by\s*+\.\s*+[^.|]{1,80}\.\s*+)?(?:\W{0,5}published\s*+:[^|]{0,80}\|\s*+\.?\s*+updated\s*+:[^.]{0,40}"
    r"(?:\.\s*+[^.]{0,40})?\d{4}\s*+\.\s*+){1,2}"
    r"|by\s*+\.\s*+[^.]{1,60}\.\s*+(?:and\s++[^.]{1,60}\.\s*+)?(?=[A-Z\"‘“'])"
    r"|(?:[A-Z][\w.,' -]{0,40}\s)?\((?:cnn|reuters|ap|afp|ew\.com|cnn\s++student\s++news|mashable|time\.com)\)"
    r"\s*+(?:--|—|–|-)?\s*+"
    r"|[A-Z][A-Z .,'-]{2,40}\s(?:--|—|–)\s"
    r"|(?:updated|published|posted):? (?:at )?\d{1,2}:\d{2}(?: ?[ap]\.?m\.?)?(?-i: [A-Z]{2,4}\b)?,? ",
    re.IGNORECASE,
)


def count_words(text: str) -> int:
    """Words between spaces; each character of a script written without spaces counts as one."""
    return sum(1 for _ in _WORD.finditer(text))


def word_prefix(text: str, words: int) -> str:
    """`text` up to the end of its `words`-th word (all of it when it has fewer)."""
    for number, match in enumerate(_WORD.finditer(text), start=1):
        if number == words:
            return text[: match.end()]
    return text


def count_pieces(text: str) -> int:
    """Runs of word characters and single other symbols: about the tokens segmentation handles."""
    return sum(1 for _ in _PIECE.finditer(text))


def has_word(text: str) -> bool:
    return bool(_HAS_WORD.search(text))


def is_complete(text: str) -> bool:
    """Ends like a sentence (., !, ?, 。, possibly inside closing quotes)."""
    return bool(_TERMINAL.search(text))


def normalize_space(text: str) -> str:
    return " ".join(text.split())


def split_sentences(text: str, offset: int = 0) -> list[Sentence]:
    """Split text into sentences with spans; line breaks always end a sentence."""
    return [sentence for start, line in _lines(text) for sentence in _split_line(line, offset + start)]


def _split_line(line: str, offset: int) -> list[Sentence]:
    """The sentences of one line (no line breaks), spans shifted by `offset`."""
    sentences: list[Sentence] = []
    for start, piece in _cjk_pieces(line):
        for paragraph in segmenter.analyze(piece):
            for tokens in paragraph:
                first, last = tokens[0].offset, tokens[-1].offset + len(tokens[-1].value)
                text = piece[first:last]
                span = (offset + start + first, offset + start + last)
                sentences.append(Sentence(text, *span, count_words(text), is_complete(text)))
    return sentences


def _cjk_pieces(line: str) -> list[tuple[int, str]]:
    """The line cut after each run of 。！？ (and closing quotes), which syntok does not know."""
    pieces, start = [], 0
    for match in _CJK_END.finditer(line):
        pieces.append((start, line[start : match.end()]))
        start = match.end()
    if start < len(line):
        pieces.append((start, line[start:]))
    return pieces


def split_reference(text: str) -> list[str]:
    """Split a reference summary into sentences, undoing CNN/DM " . " joins and `<q>`."""
    text = text.replace("<q>", "\n").replace("<n>", "\n")
    text = re.sub(r"\s+\.(\s+(?=[^\s,;:)\]])|\s*$)", ".\n", text)
    return [normalize_space(s.text) for s in split_sentences(text)]


def prepare(text: str, title: str | None = None) -> Document:
    """Clean raw article text and split it into content sentences with spans."""
    lines = _lines(text)
    headline = normalize_space(title) if title else _repeated_headline(lines)
    dropped: list[str] = []
    runs: list[tuple[int, str]] = []
    seen_content = False
    for line_start, line in lines:
        line_runs, seen_content = _content_runs(line, line_start, headline, seen_content, dropped)
        runs += line_runs
    runs = _drop_trailing_debris(_cut_leading_tags(runs, dropped), dropped)
    sentences = [
        s
        for start, run in runs
        for s in _split_line(run, start)
        if has_word(s.text) and not _is_debris(s.text, headline, True)
    ]
    return Document(text=text, sentences=sentences, title=headline, dropped=dropped, language=_language(sentences))


def _language(sentences: list[Sentence]) -> str | None:
    """The language of the first sentences (py3langid, model inside the package), None without content."""
    sample = " ".join(s.text for s in sentences[:40])[:LANGUAGE_SAMPLE_CHARS]
    return py3langid.classify(sample)[0] if sample else None


def _lines(text: str) -> list[tuple[int, str]]:
    """Non-blank lines with their start offsets, surrounding whitespace trimmed."""
    result = []
    for match in _LINE.finditer(text):
        raw = match.group()
        stripped = raw.strip()
        if stripped:
            result.append((match.start() + raw.index(stripped), stripped))
    return result


def _content_runs(
    line: str, line_start: int, headline: str | None, seen_content: bool, dropped: list[str]
) -> tuple[list[tuple[int, str]], bool]:
    """The line without its debris blocks, as runs of consecutive content blocks (their spaces kept).

    A line of one block is judged whole (section labels included); the blocks of a line
    with 2+-space breaks only by the debris and stamp patterns. Also returns whether
    article prose has been seen by the end of the line.
    """
    blocks = [(match.start(), match.group()) for match in _BLOCK.finditer(line)]
    spans: list[tuple[int, int]] = []
    joined = False  # the previous block of the line was kept
    for start, block in blocks:
        if _is_debris(block, headline, seen_content, whole_line=len(blocks) == 1):
            dropped.append(block)
            joined = False
            continue
        if joined:
            spans[-1] = (spans[-1][0], start + len(block))
        else:
            spans.append((start, start + len(block)))
        joined = True
        seen_content = seen_content or _looks_like_prose(block)
    return [(line_start + start, line[start:end]) for start, end in spans], seen_content


def _cut_leading_tags(runs: list[tuple[int, str]], dropped: list[str]) -> list[tuple[int, str]]:
    """Source tags and stamps at the start of the runs before the first prose run."""
    cut_runs = []
    for index, (start, run) in enumerate(runs):
        cut = _leading_tag_length(run)
        if cut:
            dropped.append(run[:cut].strip())
            start, run = start + cut, run[cut:]
        cut_runs.append((start, run))
        if _looks_like_prose(run):
            return cut_runs + runs[index + 1 :]
    return cut_runs


def _repeated_headline(lines: list[tuple[int, str]]) -> str | None:
    """A short line at the top that is printed twice is the headline."""
    head = [normalize_space(line).casefold() for _, line in lines[:8]]
    for i, line in enumerate(head):
        if not is_complete(line) and count_words(line) <= 25 and line in head[i + 1 :]:
            return normalize_space(lines[i][1])
    return None


def _is_debris(block: str, headline: str | None, seen_content: bool, whole_line: bool = True) -> bool:
    flat = normalize_space(block)
    if headline and flat.casefold().rstrip(".") == headline.casefold().rstrip("."):
        return True
    words = count_words(flat)
    if words > MAX_DEBRIS_WORDS:
        return False
    if _DEBRIS.fullmatch(flat):
        return True
    if not seen_content:
        if _STAMP.fullmatch(flat) and not _tag_then_prose(flat):
            return True
        # A section label such as "Money" or "World News" above the story.
        if whole_line and words <= 3 and not is_complete(flat):
            return True
    return False


def _looks_like_prose(block: str) -> bool:
    return count_words(block) >= 8 and is_complete(block)


def _tag_then_prose(block: str) -> bool:
    """A stamp glued to the first sentence ("Updated 3:15 p.m. The council..."): only the tag is cut, later."""
    cut = _leading_tag_length(block)
    return bool(cut) and block[cut : cut + 1].isupper() and _looks_like_prose(block[cut:])


def _leading_tag_length(block: str) -> int:
    match = _LEADING_TAG.match(block)
    return match.end() if match and match.end() < len(block) else 0


def _drop_trailing_debris(kept: list[tuple[int, str]], dropped: list[str]) -> list[tuple[int, str]]:
    """Short unpunctuated lines after the last prose line (tags, share widgets) go."""
    while kept and not is_complete(kept[-1][1]) and count_words(kept[-1][1]) <= 6:
        dropped.append(kept.pop()[1])
    return kept
