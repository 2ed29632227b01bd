"""Output cleaning of generated text (service/engines/abstractive/outputs.py)."""

from service.engines.abstractive.generation import Generated
from service.engines.abstractive.outputs import bullet_texts, complete_sentences, parse_list, short_text


def test_cut_off_last_sentence_is_dropped():
    text = "The wall will be built. Work starts in June. The council also said that the"
    assert complete_sentences(Generated(text, finished=False)) == ["The wall will be built.", "Work starts in June."]
    assert complete_sentences(Generated("Only a fragment without end", finished=False)) == []


def test_a_finished_output_keeps_its_last_sentence_without_a_period():
    assert (
        complete_sentences(Generated("The wall will be built. Work starts in June", finished=True))[-1]
        == "Work starts in June"
    )


def test_short_takes_at_most_two_leading_sentences_within_the_word_limit():
    output = Generated("The wall will be built. Work starts in June. It costs ninety million dollars.", finished=True)
    assert short_text(output, 60, is_chat=False) == "The wall will be built. Work starts in June."
    assert short_text(output, 6, is_chat=False) == "The wall will be built."
    assert short_text(output, 4, is_chat=False) is None
    assert (
        short_text(Generated("Summary: - The wall will be built.", True), 60, is_chat=True) == "The wall will be built."
    )


def test_chat_lists_are_parsed_whatever_the_markers():
    text = (
        "Here are the key points:\n"
        "1. The council approved the wall.\n"
        "2) **Cost:** ninety million dollars.\n"
        "• Work starts in June.\n"
        "* The council approved the wall.\n"
        "- Two members voted against the"
    )
    items = parse_list(Generated(text, finished=False))
    assert items == [
        "The council approved the wall.",
        "Cost: ninety million dollars.",
        "Work starts in June.",
        "The council approved the wall.",
    ]
    assert bullet_texts(Generated(text, finished=False), 5, is_chat=True) == items[:3]
    assert bullet_texts(Generated(text, finished=False), 2, is_chat=True) == items[:2]


def test_a_finished_list_keeps_its_last_item_and_prose_falls_back_to_sentences():
    assert parse_list(Generated("- Work starts in June\n- Costs rise", finished=True)) == [
        "Work starts in June",
        "Costs rise",
    ]
    prose = Generated("The wall will be built. Work starts in June.", finished=True)
    assert bullet_texts(prose, 5, is_chat=True) == ["The wall will be built.", "Work starts in June."]


# -- habits seen in real chat models (Qwen2.5-Coder-1.5B-Instruct, SmolLM2-135M-Instruct) --------------


def test_short_drops_preamble_and_heading_lines():
    output = Generated(
        "Here is a summary of the article:\n\n# Summary\nThe wall will be built. Work starts in June.", finished=True
    )
    assert short_text(output, 60, is_chat=True) == "The wall will be built. Work starts in June."


def test_a_list_item_that_introduces_the_list_is_not_a_bullet():
    output = Generated(
        "- Here's a revised version of the original text:\n- The wall will be built.\n- Work starts in June.",
        finished=True,
    )
    assert parse_list(output) == ["The wall will be built.", "Work starts in June."]
    # SmolLM2-135M on frank_cnndm dm-test-008b...: no list at all, so the bullets are the prose's lines and sentences
    prose = Generated(
        "Here's a revised version of the original text with improved grammar:\n\n"
        "The wall will be built.\n\n#1 Work starts in June.",
        True,
    )
    assert bullet_texts(prose, 5, is_chat=True) == ["The wall will be built.", "#1 Work starts in June."]


def test_a_restated_point_is_dropped_and_distinct_points_sharing_words_are_kept():
    # Qwen2.5-Coder-1.5B on a CNN/DM article (frank_cnndm dm-test-068f...): the third item restates the first.
    output = Generated(
        "- People who have never been divorced can expect a retirement income 13% higher than a colleague.\n"
        "- Divorce can wreck retirement many years after the break-up of a marriage, according to research.\n"
        "- People who have never been divorced can expect a retirement income 13 per cent higher than a colleague "
        "who has been through a divorce.\n"
        "- The team had to fly only half of the kite.\n"
        "- The kite was too big to fly safely due to its weight and size.",
        finished=True,
    )
    bullets = bullet_texts(output, 5, is_chat=True)
    assert len(bullets) == 4
    assert not any("13 per cent" in bullet for bullet in bullets)
    assert bullets[-2:] == [
        "The team had to fly only half of the kite.",
        "The kite was too big to fly safely due to its weight and size.",
    ]
