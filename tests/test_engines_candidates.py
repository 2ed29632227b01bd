"""Candidate sentences for the embedded engine: repairs, furniture and marks (service/engines/candidates.py)."""

import time

import pytest

from service.domain import Document, Sentence
from service.engines.candidates import candidates, has_defect, is_furniture, marks, quotes_balanced
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


def _seconds(function, *args) -> float:
    """The fastest of three runs: a noisy neighbour slows runs down, never speeds them up."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - started)
    return min(times)


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
    assert _seconds(_mark_all(pump * (1_000_000 // len(pump)))) < 1.0  # 0.01-0.2 s on an idle core


def test_a_megabyte_of_cut_quotations_is_repaired_well_under_a_second():
    text = '"Open quote. ' * (1_000_000 // 13)
    sentences = [Sentence('"Open quote.', start, start + 12, 2, True) for start in range(0, len(text), 13)]
    document = Document(text, sentences)
    assert _seconds(lambda: marks(candidates(document, 60))) < 1.0
    assert [s.text for s in candidates(document, 60)] == ['"Open quote. "Open quote.', '"Open quote.']  # each text once
