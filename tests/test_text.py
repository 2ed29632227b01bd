"""Text cleaning and sentence segmentation (service/text.py)."""

from service.text import prepare, split_reference, split_sentences


def texts(document):
    return [s.text for s in document.sentences]


def test_spans_point_at_the_original_text(huawei_text):
    document = prepare(huawei_text)
    assert document.sentences
    for sentence in document.sentences:
        assert huawei_text[sentence.start : sentence.end] == sentence.text


def test_scraped_page_debris_is_removed(huawei_text):
    document = prepare(huawei_text)
    joined = " ".join(texts(document))
    assert "Published:" not in joined
    assert "Bruce West" not in joined
    assert "Like this" not in joined
    assert "USA urges allies to shun Huawei Technologies" not in joined
    assert document.title == "USA urges allies to shun Huawei Technologies"
    assert texts(document)[0].startswith("According to the Wall Street Journal, US officials")
    assert texts(document)[-1].endswith('should not be encouraged".')


def test_abbreviations_decimals_and_quotes_do_not_split():
    text = (
        "The U.S. Dept. of State said Mr. Smith arrived at 9 a.m. on Monday. He paid $3.50 for coffee. "
        '"Is it true?" she asked. Dr. Jones agreed.'
    )
    assert [s.text for s in split_sentences(text)] == [
        "The U.S. Dept. of State said Mr. Smith arrived at 9 a.m. on Monday.",
        "He paid $3.50 for coffee.",
        '"Is it true?" she asked.',
        "Dr. Jones agreed.",
    ]


def test_a_headline_without_period_stays_its_own_sentence():
    sentences = split_sentences("Storm Hits Coast\nThousands lost power on Sunday.")
    assert [s.text for s in sentences] == ["Storm Hits Coast", "Thousands lost power on Sunday."]


def test_source_tags_and_datelines_are_stripped():
    cases = {
        "(CNN) -- The president spoke to reporters in the capital on Monday.": "The president",
        "Seoul (CNN) South Korea's Prime Minister offered to resign on Monday amid a scandal.": "South Korea's",
        "LONDON, England (Reuters) -- Prices rose again today as expected by analysts.": "Prices rose",
        "By . Daily Mail Reporter . PUBLISHED: . 12:01 EST, 4 May 2013 . | . UPDATED: . 12:23 EST, 4 May 2013 . "
        "A man was jailed today for stealing a bus.": "A man was jailed",
    }
    for raw, start in cases.items():
        first = prepare(raw).sentences[0].text
        assert first.startswith(start), (raw, first)


def test_trailing_share_widgets_and_ads_are_dropped():
    text = (
        "Officials confirmed the bridge will reopen next week after repairs.\n"
        "Advertisement\nShare this:\nRead more: other story\nLike this:"
    )
    assert texts(prepare(text)) == ["Officials confirmed the bridge will reopen next week after repairs."]


def test_real_content_is_kept():
    text = (
        "By the end of the year, the company expects to hire 500 people.\nPublished reports say more cuts are coming."
    )
    assert len(prepare(text).sentences) == 2
    assert len(prepare("By noon the crowd had left the square.").sentences) == 1


def test_bylines_with_names_are_dropped():
    for byline in ("By Bruce West", "By Jane Doe and John Smith", "Money | By Bruce West", "By SARAH LEE, CNN"):
        assert (
            prepare(f"{byline}\nThe council voted to close the library on Friday.")
            .sentences[0]
            .text.startswith("The council")
        )


def test_text_without_words_has_no_sentences():
    assert prepare("... !!! ---").sentences == []


def test_reference_joins_are_split_the_same_way():
    assert split_reference("First point here . Second point , too . Third one .") == [
        "First point here.",
        "Second point , too.",
        "Third one.",
    ]
    assert split_reference("One.<q>Two.") == ["One.", "Two."]
