"""Loaders for JSONL, CSV and Hugging Face datasets, including malformed lines."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from eval.records import BUNDLED_SAMPLE, DataError, Fields, Record, load, select

ARTICLE = "The council approved the budget on Tuesday. It adds two bus lines."


def write_jsonl(path: Path, lines: list[str | bytes]) -> Path:
    path.write_bytes(b"\n".join(line if isinstance(line, bytes) else line.encode() for line in lines) + b"\n")
    return path


def row(**fields) -> str:
    return json.dumps({"id": "a", "article": ARTICLE, "references": ["Budget approved ."], **fields})


def test_bundled_sample_loads_in_the_shared_format():
    data = load(BUNDLED_SAMPLE)
    assert len(data.records) == 25 and not data.skipped
    first = data.records[0]
    assert first.id == "goyal2022-cnn-0"
    assert len(first.references) == 1
    assert set(first.systems) == {"BRIO", "PEGASUS", "T0", "GPT3-text-davinci-002"}
    assert len(data.sha256) == 64


def test_malformed_jsonl_lines_are_reported_with_line_numbers_and_the_rest_kept(tmp_path):
    path = write_jsonl(
        tmp_path / "d.jsonl",
        [
            row(id="1"),
            '{"id": "2", "article": ',  # 2: truncated JSON
            row(id="3"),
            json.dumps({"id": "4", "references": ["x"]}),  # 4: no article
            b'{"id": "5", "article": "caf\xe9"}',  # 5: not UTF-8
            "",  # 6: blank, ignored
            row(id="1"),  # 7: repeated id
            row(id="8", references=[1, 2]),  # 8: wrong type
            '["not", "an", "object"]',  # 9
            row(id="10", systems={"X": "Budget."}),
        ],
    )
    data = load(path)
    assert [r.id for r in data.records] == ["1", "3", "10"]
    assert data.records[2].systems == {"X": "Budget."}
    lines = [message.split(":")[1] for message in data.skipped]
    assert lines == ["2", "4", "5", "7", "8", "9"]
    assert "not valid JSON" in data.skipped[0]
    assert "'article'" in data.skipped[1]
    assert "not UTF-8" in data.skipped[2]
    assert "repeats" in data.skipped[3]


def test_strict_mode_raises_on_the_first_malformed_line(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [row(id="1"), "{oops", row(id="3")])
    with pytest.raises(DataError, match=r"d\.jsonl:2: not valid JSON"):
        load(path, strict=True)


def test_configurable_field_names_and_several_reference_fields(tmp_path):
    line = json.dumps(
        {
            "uid": 7,
            "story": ARTICLE,
            "highlights": "Budget approved .",
            "alt": ["Two bus lines ."],
            "headline": "Budget",
        }
    )
    path = write_jsonl(tmp_path / "d.jsonl", [line])
    fields = Fields.parse(["id=uid", "article=story", "references=highlights,alt", "title=headline"])
    (record,) = load(path, fields).records
    assert record == Record("7", ARTICLE, ["Budget approved .", "Two bus lines ."], {}, "Budget")


def test_bad_field_spec_is_a_clear_error():
    with pytest.raises(DataError, match="KEY=NAME"):
        Fields.parse(["story"])
    with pytest.raises(DataError, match="KEY one of"):
        Fields.parse(["body=story"])


def test_csv_with_systems_columns_and_a_json_list_of_references(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text(
        "id,text,refs,systems.lead,systems.abs\n"
        f'1,"{ARTICLE}","[""Budget approved ."", ""Buses added .""]",The council approved.,Budget passes.\n'
        '2,"An article, with a comma.",One reference .,x\n'  # line 3: 4 cells, header has 5
        '3,"Another article here.",Single reference .,a,b\n'
    )
    data = load(path, Fields.parse(["article=text", "references=refs"]))
    assert [r.id for r in data.records] == ["1", "3"]
    first = data.records[0]
    assert first.references == ["Budget approved .", "Buses added ."]
    assert first.systems == {"lead": "The council approved.", "abs": "Budget passes."}
    assert data.records[1].references == ["Single reference ."]
    assert data.skipped == [f"{path}:3: 4 cells, the header has 5"]


def test_csv_with_a_multiline_cell_reports_physical_line_numbers(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(
        b"id,article,references\n"
        b'1,"First line.\nSecond line.",Ref .\n'
        b'2,"caf\xe9 article.",Ref .\n'
        b"3,Fine article.,Ref .\n"
    )
    data = load(path)
    assert [r.id for r in data.records] == ["1", "3"]
    assert data.records[0].article == "First line.\nSecond line."
    assert data.skipped == [f"{path}:4: not UTF-8"]


def test_missing_file_and_empty_file(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load(tmp_path / "absent.jsonl")
    empty = write_jsonl(tmp_path / "e.jsonl", ["{oops"])
    with pytest.raises(DataError, match="no usable records"):
        load(empty)


@pytest.mark.skipif(importlib.util.find_spec("datasets") is not None, reason="datasets is installed")
def test_hugging_face_name_without_the_library_is_a_clear_error():
    with pytest.raises(DataError, match="pip install datasets"):
        load("hf:abisee/cnn_dailymail:3.0.0@test")


def test_limit_takes_a_seeded_sample_in_file_order():
    records = load(BUNDLED_SAMPLE).records
    picked = select(records, 5, seed=1)
    assert picked == select(records, 5, seed=1)
    assert picked != select(records, 5, seed=2)
    positions = [records.index(r) for r in picked]
    assert positions == sorted(positions) and len(picked) == 5
    assert select(records, None, 0) == records
