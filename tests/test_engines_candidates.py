"""Candidate sentences for the embedded engine: repairs, furniture and marks (service/engines/candidates.py)."""

import pytest
from timing import fastest_seconds

from service.domain import Document, Sentence
from service.engines.candidates import (
    MAX_REPAIRED_WORDS,
    candidates,
    has_defect,
    is_furniture,
    is_tokenized,
    join_abbreviation_splits,
    join_split_quotations,
    marks,
    quotes_balanced,
)
from service.text import prepare

NEWS = (
    "The new bridge over the river opened to traffic on Monday after three years of work. "
    "Officials said the crossing would cut commuting times for thousands of drivers."
)


def texts(document: Document) -> list[str]:
    chosen = candidates(document, 60)
    assert all(document.text[s.start : s.end] == s.text for s in chosen)  # spans stay valid after repairs
    return [s.text for s in chosen]


def test_captions_list_headers_and_link_titles_are_dropped():
    furniture = [
        "Pictured: the mayor cuts the ribbon at the new bridge on Monday.",
        "Scroll down for video of the opening ceremony at the bridge.",
        "1. Watch the volume of your music when you run in traffic.",
        "Why migrants are dying to get to Italy .",
    ]
    document = prepare("\n".join([*furniture, NEWS]))
    assert [text.split()[:2] for text in texts(document)] == [["The", "new"], ["Officials", "said"]]


def test_a_scroll_prompt_glued_to_a_sentence_is_cut_off():
    document = prepare('Scroll down for video "We won," Gordon Brown told the crowd in Glasgow on Monday.\n' + NEWS)
    assert texts(document)[0] == '"We won," Gordon Brown told the crowd in Glasgow on Monday.'


def test_furniture_is_kept_when_nothing_else_is_left():
    document = prepare("Pictured: the mayor cuts the ribbon at the new bridge on Monday.")
    assert texts(document) == ["Pictured: the mayor cuts the ribbon at the new bridge on Monday."]


def test_a_spaced_stop_is_no_link_title_in_tokenized_text():
    tokenized = "The bridge opened to traffic on Monday .\nOfficials said it cuts commuting times .\nIt cost $ 3m ."
    assert len(texts(prepare(tokenized))) == 3
    assert is_furniture("Why migrants are dying to get to Italy .") and not is_furniture(
        "Why migrants are dying to get to Italy .", tokenized=True
    )


def test_a_sentence_cut_after_a_title_abbreviation_is_joined_again():
    document = prepare("The law, signed by GOP Gov. Scott Walker on Tuesday, bans the procedure. " + NEWS)
    assert [s.text for s in document.sentences][:2] == [
        "The law, signed by GOP Gov.",
        "Scott Walker on Tuesday, bans the procedure.",
    ]
    assert texts(document)[0] == "The law, signed by GOP Gov. Scott Walker on Tuesday, bans the procedure."


def test_a_quotation_cut_by_the_splitter_is_joined_again():
    document = prepare('"We know where to look. We know how to look," the chief investigator said on Monday. ' + NEWS)
    assert texts(document)[0] == '"We know where to look. We know how to look," the chief investigator said on Monday.'
    curly = prepare("‘I had a taste of it at Hearts and enjoyed it. I am fortunate to be here,’ said Locke. " + NEWS)
    assert texts(curly)[0] == "‘I had a taste of it at Hearts and enjoyed it. I am fortunate to be here,’ said Locke."


def test_a_quotation_too_long_to_join_stays_a_marked_fragment():
    opening = '"' + "We will rebuild the bridge " * 9 + "this year."
    document = prepare(f"{opening} And we will rebuild the road " + "as well " * 30 + 'next year," she said. ' + NEWS)
    chosen = texts(document)
    assert opening in chosen and [flag.defect for flag in marks(candidates(document, 60))][:2] == [True, True]


@pytest.mark.parametrize(
    "text",
    [
        'Makes my skin crawl even being here."',
        "‘But I have said all along, it is not about me.",
        "The singer (above) has been living in New York for a year now.",
        "Bling: Becky Schoenig was shocked to find the ring in her garden.",
        "The mayor, pictured, opened the bridge on Monday.",
    ],
)
def test_fragments_photo_references_and_caption_labels_are_defects(text):
    assert has_defect(text)


@pytest.mark.parametrize(
    "text",
    [
        '"We know where to look," she said.',
        "He said: the bridge will open on Monday.",
        "The players’ union said it’s a ‘fair deal’ for everyone.",
        "Rock ’n’ roll never dies, the singer said.",
    ],
)
def test_balanced_quotes_apostrophes_and_speech_are_no_defects(text):
    assert not has_defect(text) and quotes_balanced(text)


def _mark_all(text: str):
    """What the engine runs on a text as its only sentence: repairs, furniture test, marks."""
    document = Document(text, [Sentence(text, 0, len(text), 1, True)])
    return lambda: (is_furniture(text), marks(candidates(document, 60)))


# Runs that a pattern of the module could try to split in several ways; each is pumped to a megabyte.
PUMPS = [
    "A",
    "Aa ",
    " a",
    "(pictured",
    ", ",
    "_",
    "‘a",
    "a’",
    "1",
    "scroll ",
    "pictured ",
    '"',
    "Gov. ",
    " .",
    "Bling ",
]


@pytest.mark.parametrize("pump", PUMPS)
def test_a_megabyte_of_adversarial_text_is_marked_well_under_a_second(pump):
    assert fastest_seconds(_mark_all(pump * (1_000_000 // len(pump)))) < 1.0  # 0.01-0.2 s on an idle core


def test_a_megabyte_of_cut_quotations_is_repaired_well_under_a_second():
    text = '"Open quote. ' * (1_000_000 // 13)
    sentences = [Sentence('"Open quote.', start, start + 12, 2, True) for start in range(0, len(text), 13)]
    document = Document(text, sentences)
    assert fastest_seconds(lambda: marks(candidates(document, 60))) < 1.0
    assert [s.text for s in candidates(document, 60)] == ['"Open quote. "Open quote.', '"Open quote.']  # each text once


def sentences_in(text: str, *cuts: int) -> list[Sentence]:
    """`text` cut into sentences at the given offsets (spaces and line breaks between them left out)."""
    bounds = [0, *cuts, len(text)]
    pieces = []
    for start, end in zip(bounds, bounds[1:]):
        chunk = text[start:end]
        first = start + len(chunk) - len(chunk.lstrip())
        last = start + len(chunk.rstrip())
        pieces.append(Sentence(text[first:last], first, last, len(text[first:last].split()), True))
    return pieces


@pytest.mark.parametrize("gap", [" ", "\n", "\r", "\r\n"])
def test_a_title_abbreviation_is_joined_only_across_spaces_on_one_line(gap):
    text = f"The bill was signed by Kansas Gov.{gap}Sam Brownback on Tuesday. It takes effect in May."
    cut = text.index("Sam")
    sentences = sentences_in(text, cut, text.index("It "))
    joined = join_abbreviation_splits(sentences, text)
    assert [s.text for s in joined][-1] == "It takes effect in May."  # the sentences after a repair are kept
    assert len(joined) == (2 if gap == " " else 3)
    assert all(text[s.start : s.end] == s.text for s in joined)


def test_a_repair_may_reach_exactly_the_word_limit_but_not_beyond():
    for total, expected in ((MAX_REPAIRED_WORDS, 1), (MAX_REPAIRED_WORDS + 1, 2)):
        first = " ".join(["word"] * (total // 2 - 1) + ["Gov."])
        second = " ".join(["Smith"] + ["word"] * (total - total // 2 - 2) + ["end."])
        text = f"{first} {second}"
        assert len(join_abbreviation_splits(sentences_in(text, len(first) + 1), text)) == expected


def test_sentences_with_nothing_between_them_are_counted_again_when_joined():
    text = "He said “we will win.”"
    first, second = Sentence(text[:-1], 0, len(text) - 1, 5, False), Sentence("”", len(text) - 1, len(text), 1, True)
    merged = join_split_quotations([first, second], text)
    assert [(s.text, s.words) for s in merged] == [(text, 5)]  # "win." and "”" were never two words


def test_a_quotation_in_the_middle_is_joined_and_the_sentences_around_it_are_kept():
    text = 'The mayor spoke first. "We know where to look. We know how to look," she said. The vote came next.'
    sentences = sentences_in(text, text.index('"We'), text.index("We know how"), text.index("The vote"))
    assert [s.text for s in join_split_quotations(sentences, text)] == [
        "The mayor spoke first.",
        '"We know where to look. We know how to look," she said.',
        "The vote came next.",
    ]


@pytest.mark.parametrize(("text", "balanced"), [("“Yes,” he said.", True), ("He said “no way.", False)])
def test_curly_quotes_open_and_close_in_pairs(text, balanced):
    assert quotes_balanced(text) is balanced
    assert quotes_balanced("He said no way,” she added.") is False


def test_a_link_title_may_end_in_a_quote_after_its_spaced_stop():
    assert is_furniture('Why migrants are dying to get to "Italy ."')
    assert not is_furniture('Why migrants are dying to get to "Italy ."', tokenized=True)


@pytest.mark.parametrize(("spaced", "total", "tokenized"), [(1, 2, False), (2, 3, True), (2, 4, False)])
def test_text_is_tokenized_when_most_sentences_end_in_a_spaced_stop(spaced, total, tokenized):
    sentences = sentences_of_ends([" ."] * spaced + ["."] * (total - spaced))
    assert is_tokenized(sentences) is tokenized


def sentences_of_ends(ends: list[str]) -> list[Sentence]:
    return [Sentence(f"Sentence number {n} is here{end}", 0, 1, 4, True) for n, end in enumerate(ends)]


def test_in_tokenized_text_captions_are_still_left_out():
    text = "\n".join(
        [
            "Pictured : the mayor cuts the ribbon at the new bridge .",
            "The new bridge over the river opened to traffic on Monday .",
            "Officials said the crossing would cut commuting times .",
        ]
    )
    chosen = texts(prepare(text))
    assert len(chosen) == 2 and not any("Pictured" in t for t in chosen)


def test_a_sentence_of_81_words_is_no_candidate():
    long = " ".join(["Councillors"] + ["debated"] * 79 + ["today."])
    assert len(long.split()) == 81
    assert long not in texts(prepare(f"{NEWS} {long}"))
