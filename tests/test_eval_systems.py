"""Stored systems, the Lead-K baselines and how every output is split into sentences."""

from __future__ import annotations

import pytest

from eval.records import Record
from eval.systems import BASELINE, STORED, from_bullets, from_text, is_lead, lead_run, stored_runs, styles

ARTICLE = (
    "By Jane Doe\n"
    "(CNN) -- The city council approved a new budget on Tuesday after a long debate. "
    "It adds two bus lines and a night service. Critics said taxes would rise. "
    "The mayor will sign it next week."
)


def records() -> list[Record]:
    return [
        Record("1", ARTICLE, ["Budget approved ."], {"A": "Council approves budget . Buses added .", "B": "Budget."}),
        Record("2", "Rain fell all day in the north. Rivers rose fast.", ["Rain ."], {"A": "Rain fell."}),
    ]


def test_stored_systems_present_everywhere_are_scored_and_the_others_reported():
    runs, left_out = stored_runs(records())
    assert [r.name for r in runs] == ["A"]
    assert runs[0].kind == STORED
    assert runs[0].outputs[0].sentences == ["Council approves budget.", "Buses added."]
    assert left_out == ["B: missing on 1 of 2 records"]
    assert stored_runs(records(), [])[0] == []


def test_lead_k_on_cleaned_sentences_drops_byline_and_source_tag():
    run = lead_run("lead-2", records())
    assert run.kind == BASELINE
    assert run.outputs[0].sentences == [
        "The city council approved a new budget on Tuesday after a long debate.",
        "It adds two bus lines and a night service.",
    ]
    assert run.outputs[1].sentences == ["Rain fell all day in the north.", "Rivers rose fast."]


def test_lead_k_raw_takes_the_untouched_article_sentences():
    run = lead_run("lead-2-raw", records())
    assert run.outputs[0].sentences == [
        "By Jane Doe",
        "(CNN) -- The city council approved a new budget on Tuesday after a long debate.",
    ]


def test_lead_names():
    assert is_lead("lead-3") and is_lead("lead-10-raw")
    assert not is_lead("lead") and not is_lead("embedded")
    with pytest.raises(ValueError):
        lead_run("lead-x", records())


def test_bullets_count_once_but_each_sentence_is_a_line():
    output = from_bullets(["Budget approved. Taxes rise.", "Two bus lines added."])
    assert output.bullets == 2
    assert output.sentences == ["Budget approved.", "Taxes rise.", "Two bus lines added."]
    assert output.text == "Budget approved. Taxes rise.\nTwo bus lines added."


def test_text_is_split_the_same_way_as_references():
    assert from_text("Budget approved . Buses added .").sentences == ["Budget approved.", "Buses added."]
    assert from_text("").sentences == []


def test_both_styles_are_scored_separately():
    assert styles("both") == ["bullets", "short"]
    assert styles("short") == ["short"]


def test_a_record_with_nothing_to_summarize_is_reported_and_scored_empty(capsys):
    from eval.systems import engine_runs
    from service.domain import Options
    from service.engines.embedded import EmbeddedEngine

    records = [
        Record("good", "The dam burst on Monday and flooded the valley. Hundreds fled.", ["Dam burst."]),
        Record("debris", "... !!! ---", ["Nothing."]),
    ]
    (run,) = engine_runs(EmbeddedEngine.load(), "embedded", records, Options(style="bullets"))
    assert [output.text for output in run.outputs][1] == "" and run.outputs[0].text
    assert run.info["empty_summaries"] == ["debris"] and "record debris" in capsys.readouterr().err
