"""Which sentences may become a bullet or the short summary, and what makes the rest read badly.

The splitter (`service.text`) leaves some defects that show in an extractive summary:
sentences cut after a title abbreviation ("... signed by GOP Gov." + "Scott Walker ..."),
quotations cut into several sentences, and page furniture inside the content (photo
captions, "Scroll down for video", numbered list headers, link titles ending " .").
This module repairs the cuts (a repaired sentence spans the original text from the
first piece's start to the last piece's end), cuts a "Scroll down for video" prompt
off the sentence it is glued to, and marks every sentence:

- *furniture* (`is_furniture`): never a candidate unless nothing else is left;
- *defects* (`Marks.defect`): photo references "(above)", caption labels "Bling: ...",
  quotation fragments with unbalanced quotes: demoted;
- *context openers* (`Marks.opener`: "But ...", "He ...", "It ..."): demoted unless the
  sentence before them is picked too.

Every pattern runs on request input and matches in linear time: possessive quantifiers,
alternations of literal words only, and no quantified group whose pieces can overlap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from service.domain import Document, Sentence
from service.text import count_words, normalize_space

MAX_REPAIRED_WORDS = 80  # a repair that would make a longer sentence is not made
MAX_QUOTE_PIECES = 3  # a quotation is joined from at most this many sentences

_CAPTION_LABEL = re.compile(
    r"^\W{0,3}(?:pictured|picture|photo|photograph|image|video|watch|credit|caption)\s?:", re.IGNORECASE
)
_CAPTION_PHRASES = ("scroll down", "click here", "getty images", "pictured:", "pictured :")
# "Scroll down for video Gordon Brown has warned ...": the prompt is cut off, the sentence kept.
_SCROLL_PROMPT = re.compile(r"scroll down for (?:video|more)[^\w\"“‘']*+(?=(?-i:[A-Z\"“‘']))", re.IGNORECASE)
_LIST_HEADER = re.compile(r"^\s*+(?:\d{1,2}[.)]|[-•●▪■*])\s")  # "1. Watch the volume ...", "• ..."
_PHOTO_REFERENCE = re.compile(
    r",\s?pictured\b|\(\s*+(?:pictured|above|below|left|right|centre|center|top|bottom|inset|middle|file photo"
    r"|second left|second right|far left|far right)\b[^)]{0,40}\)",
    re.IGNORECASE,
)
# "Bling: Becky Schoenig was shocked ..." (a caption's label); not "He said: ...".
_LABEL = re.compile(r"^[\W_]*+([A-Z][\w'’-]*+(?:\s[\w'’-]++){0,3})\s?:\s")
_SPEECH = re.compile(r"\b(?:said|says|say|told|tells|added|adds|wrote|writes|explained|asked|tweeted|stated)\b", re.I)
_OPENER = re.compile(
    r"^[\W_]*+(?:but|and|or|so|yet|however|also|meanwhile|still|instead|nevertheless|moreover|"
    r"he|she|it|they|his|her|its|their|him|them|this|these|those|such)\b",
    re.IGNORECASE,
)
_TITLE = re.compile(
    r"\b(?:Gov|Govs|Sen|Sens|Rep|Reps|Gen|Lt|Col|Sgt|Dr|Mr|Mrs|Ms|Rev|Prof|Capt|Maj|Cpl|Pvt|Adm|Det|Atty|Pres|Mt|Ft)\.$"
)
_OPENING_SINGLE = re.compile(r"(?:^|(?<=[\s(\[]))‘(?=\w)")
_CLOSING_SINGLE = re.compile(r"(?<=[\w.,!?])’(?=[\s.,;:!?)\]]|$)")
_SPACED_ENDS = (" .", " !", " ?")


@dataclass(frozen=True)
class Marks:
    """What makes a candidate read badly on its own."""

    defect: bool  # a photo reference, a caption label or a quotation fragment
    opener: bool  # opens like it continues the sentence before


def candidates(document: Document, limit: int) -> list[Sentence]:
    """Repaired complete sentences of 5 to 80 words without furniture (else all complete, else all), each once."""
    repaired = join_split_quotations(join_abbreviation_splits(document.sentences, document.text), document.text)
    sentences = [without_scroll_prompt(s) for s in repaired]
    tokenized = is_tokenized(sentences)
    complete = [s for s in sentences if s.complete and 5 <= s.words <= 80]
    good = [s for s in complete if not is_furniture(s.text, tokenized)]
    distinct = {normalize_space(s.text).casefold(): s for s in reversed(good or complete or sentences)}
    return sorted(distinct.values(), key=lambda s: s.start)[:limit]


def without_scroll_prompt(sentence: Sentence) -> Sentence:
    """The sentence without a "Scroll down for video" prompt glued to its start."""
    prompt = _SCROLL_PROMPT.match(sentence.text)
    if not prompt or prompt.end() == len(sentence.text):
        return sentence
    text = sentence.text[prompt.end() :]
    return Sentence(text, sentence.start + prompt.end(), sentence.end, count_words(text), sentence.complete)


def marks(sentences: list[Sentence]) -> list[Marks]:
    """The marks of each sentence."""
    return [Marks(has_defect(s.text), bool(_OPENER.match(s.text))) for s in sentences]


def is_tokenized(sentences: list[Sentence]) -> bool:
    """Most sentences end with a spaced full stop ("word ."): the text was tokenized, " ." means nothing."""
    return sum(_ends_spaced(s.text) for s in sentences) * 2 > len(sentences)


def is_furniture(text: str, tokenized: bool = False) -> bool:
    """A caption or credit, a list header, or (in untokenized text) a link title ending " ."."""
    lowered = text.lower()
    caption = _CAPTION_LABEL.match(text) or any(phrase in lowered for phrase in _CAPTION_PHRASES)
    return bool(caption or _LIST_HEADER.match(text)) or (not tokenized and _ends_spaced(text))


def has_defect(text: str) -> bool:
    """A photo reference, a caption label, or a quotation that opens or closes outside the sentence."""
    label = _LABEL.match(text)
    return bool(_PHOTO_REFERENCE.search(text) or (label and not _SPEECH.search(label.group(1)))) or not (
        quotes_balanced(text)
    )


def quotes_balanced(text: str) -> bool:
    """Straight and curly quotations open and close within the sentence.

    A curly single quote opens before a word and closes after a word or punctuation;
    apostrophes inside words are neither. A plural possessive ("the players’ union") looks
    like a closing quote, so only an opening quote left open counts against a sentence.
    """
    if text.count('"') % 2 or text.count("“") != text.count("”"):
        return False
    return "‘" not in text or len(_OPENING_SINGLE.findall(text)) <= len(_CLOSING_SINGLE.findall(text))


def join_abbreviation_splits(sentences: list[Sentence], text: str) -> list[Sentence]:
    """Sentences cut after a title ("GOP Gov." + "Scott Walker signed ...") joined again."""
    joined: list[Sentence] = []
    for sentence in sentences:
        previous = joined[-1] if joined else None
        if previous and _TITLE.search(previous.text[-6:]) and sentence.text[:1].isupper():
            merged = _join(previous, sentence, text)
            if merged:
                joined[-1] = merged
                continue
        joined.append(sentence)
    return joined


def join_split_quotations(sentences: list[Sentence], text: str) -> list[Sentence]:
    """A quotation cut into sentences ('"We know where to look.' + 'We know how to look," she said.') joined.

    A sentence with an open quotation is joined with the next ones until it closes, unless
    that takes more than `MAX_QUOTE_PIECES` sentences or `MAX_REPAIRED_WORDS` words.
    """
    joined: list[Sentence] = []
    i = 0
    while i < len(sentences):
        current, following = sentences[i], i + 1
        if not quotes_balanced(current.text):
            merged = current
            for j in range(i + 1, min(i + MAX_QUOTE_PIECES, len(sentences))):
                merged = _join(merged, sentences[j], text)
                if merged is None:
                    break
                if quotes_balanced(merged.text):
                    current, following = merged, j + 1
                    break
        joined.append(current)
        i = following
    return joined


def _join(first: Sentence, second: Sentence, text: str) -> Sentence | None:
    """One sentence spanning both, when only spaces on one line part them and it is not too long."""
    gap = text[first.end : second.start]
    if (gap and not gap.isspace()) or "\n" in gap or "\r" in gap or first.words + second.words > MAX_REPAIRED_WORDS:
        return None
    span = text[first.start : second.end]
    words = first.words + second.words if gap else count_words(span)  # a space between them parts two words
    return Sentence(span, first.start, second.end, words, second.complete)


def _ends_spaced(text: str) -> bool:
    return text.rstrip("\"'”’").endswith(_SPACED_ENDS)
