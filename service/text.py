"""Text preparation shared by the service and the evaluation harness.

`prepare()` turns raw (often scraped) article text into a `Document`: the content
sentences with their character spans in the *original* text, so every summary
sentence can point back at where it came from. Scraper debris (datelines, bylines,
a repeated headline, section labels, "Like this:", "Advertisement", source tags
such as "(CNN) --") is dropped here, once, for every engine.

Sentence segmentation uses syntok (abbreviations, decimals, quotes); line breaks
are always sentence boundaries, so headlines without a final period stay apart.
"""

from __future__ import annotations

import re

from syntok import segmenter

from service.domain import Document, Sentence

_WORD = re.compile(r"\S+")
_HAS_WORD = re.compile(r"\w")

# A whole line that is navigation, sharing or layout debris.
_DEBRIS_LINE = re.compile(
    r"""^(
        (like|share|follow|tweet|email|print)\s+this:? |
        like\s+this:?.* |
        share\s+(this|on\s+\w+|via\s+\w+).* |
        advertisement | sponsored( content)? | loading\.*  |
        (read|see)\s+(more|also)\b.* | related( articles| stories| content)?:?.* |
        click\s+here\b.* | sign\s+up\b.* | subscribe\b.* | continue\s+reading\b.* |
        (image|photo|video)\s*(credit|caption)?:.* | copyright\b.* | ©.* | all\s+rights\s+reserved.*
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
# Dates, bylines and "PUBLISHED: … | UPDATED: …" stamps, alone or with a section label.
_STAMP_LINE = re.compile(
    r"""^(
        ([\w &-]{1,30}\s*\|\s*)?by\s+(?-i:[A-Z][\w.'’-]*\s*){1,4}((and|&)\s+(?-i:[A-Z][\w.'’-]*\s*){1,4})?(\s*[|,].*)? |
        (published|updated|posted|last\s+updated|last\s+modified|created)\b\s*:?.* |
        \W*published\s*:.*updated\s*:.* |
        (mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s+\w+\s+\d{1,2},?\s+\d{4}.* |
        \d{1,2}\s+\w+\s+\d{4}(\s+\d{1,2}:\d{2}.*)? |
        \w+\s+\d{1,2},\s+\d{4}(\s+\d{1,2}:\d{2}.*)?
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
# Leading source tags and datelines inside the first content line:
# "(CNN) -- ", "Seoul (CNN) ", "LONDON (Reuters) - ", "WASHINGTON — ",
# "By . Daily Mail Reporter . PUBLISHED: . 12:00 EST, 1 May 2014 . | . UPDATED: . … . ".
_LEADING_TAG = re.compile(
    r"""^(
        (by\s*\.\s*[^.|]{1,80}\.\s*)?(\W*published\s*:[^|]*\|\s*\.?\s*updated\s*:\s*\.?\s*[^.]*\d{4}\s*\.\s*)+ |
        (by\s*\.\s*[^.]{1,60}\s*\.\s*(and\s+[^.]{1,60}\s*\.\s*)?)(?=[A-Z"‘“']) |
        ([A-Z][\w.,' -]{0,40}\s)?
            \((cnn|reuters|ap|afp|ew\.com|cnn\s+student\s+news|mashable|time\.com)\)\s*(--|—|–|-)?\s* |
        [A-Z][A-Z .,'-]{2,40}\s(--|—|–)\s
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_TERMINAL = re.compile(r"""[.!?…]["'”’)\]]*$""")


def count_words(text: str) -> int:
    return len(_WORD.findall(text))


def has_word(text: str) -> bool:
    return bool(_HAS_WORD.search(text))


def is_complete(text: str) -> bool:
    """Ends like a sentence (., !, ?, possibly inside closing quotes)."""
    return bool(_TERMINAL.search(text))


def normalize_space(text: str) -> str:
    return " ".join(text.split())


def split_sentences(text: str, offset: int = 0) -> list[Sentence]:
    """Split text into sentences with spans; line breaks always end a sentence."""
    return [sentence for start, line in _lines(text) for sentence in _split_line(line, offset + start)]


def _split_line(line: str, offset: int) -> list[Sentence]:
    """The sentences of one line (no line breaks), spans shifted by `offset`."""
    sentences: list[Sentence] = []
    for paragraph in segmenter.analyze(line):
        for tokens in paragraph:
            start, end = tokens[0].offset, tokens[-1].offset + len(tokens[-1].value)
            text = line[start:end]
            sentences.append(Sentence(text, offset + start, offset + end, count_words(text), is_complete(text)))
    return sentences


def split_reference(text: str) -> list[str]:
    """Split a reference summary into sentences, undoing CNN/DM " . " joins and `<q>`."""
    text = text.replace("<q>", "\n").replace("<n>", "\n")
    text = re.sub(r"\s+\.(\s+(?=[^\s,;:)\]])|\s*$)", ".\n", text)
    return [normalize_space(s.text) for s in split_sentences(text)]


def prepare(text: str, title: str | None = None) -> Document:
    """Clean raw article text and split it into content sentences with spans."""
    lines = _lines(text)
    title = normalize_space(title) if title else None
    dropped: list[str] = []
    kept: list[tuple[int, str]] = []
    headline = title or _repeated_headline(lines)
    seen_content = False
    for start, line in lines:
        if _is_debris(line, headline, seen_content):
            dropped.append(line)
            continue
        if not seen_content:
            cut = _leading_tag_length(line)
            if cut:
                dropped.append(line[:cut].strip())
                start, line = start + cut, line[cut:]
        kept.append((start, line))
        seen_content = seen_content or _looks_like_prose(line)
    kept = _drop_trailing_debris(kept, dropped)
    sentences = [
        s
        for start, line in kept
        for s in _split_line(line, start)
        if has_word(s.text) and not _is_debris(s.text, headline, True)
    ]
    return Document(text=text, sentences=sentences, title=headline, dropped=dropped)


def _lines(text: str) -> list[tuple[int, str]]:
    """Non-blank lines with their start offsets, surrounding whitespace trimmed."""
    result = []
    for match in re.finditer(r"[^\r\n]+", text):
        raw = match.group()
        stripped = raw.strip()
        if stripped:
            result.append((match.start() + raw.index(stripped), stripped))
    return result


def _repeated_headline(lines: list[tuple[int, str]]) -> str | None:
    """A short line at the top that is printed twice is the headline."""
    head = [normalize_space(line).casefold() for _, line in lines[:8]]
    for i, line in enumerate(head):
        if not is_complete(line) and count_words(line) <= 25 and line in head[i + 1 :]:
            return normalize_space(lines[i][1])
    return None


def _is_debris(line: str, headline: str | None, seen_content: bool) -> bool:
    flat = normalize_space(line)
    if _DEBRIS_LINE.match(flat):
        return True
    if headline and flat.casefold().rstrip(".") == headline.casefold().rstrip("."):
        return True
    if not seen_content:
        if _STAMP_LINE.match(flat):
            return True
        # A section label such as "Money" or "World News" above the story.
        if count_words(flat) <= 3 and not is_complete(flat):
            return True
    return False


def _looks_like_prose(line: str) -> bool:
    return count_words(line) >= 8 and is_complete(line)


def _leading_tag_length(line: str) -> int:
    match = _LEADING_TAG.match(line)
    return match.end() if match and match.end() < len(line) else 0


def _drop_trailing_debris(kept: list[tuple[int, str]], dropped: list[str]) -> list[tuple[int, str]]:
    """Short unpunctuated lines after the last prose line (tags, share widgets) go."""
    while kept and not is_complete(kept[-1][1]) and count_words(kept[-1][1]) <= 6:
        dropped.append(kept.pop()[1])
    return kept
