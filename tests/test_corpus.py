"""`python -m corpus run`: the local runner on the bundled sample, refusals, resuming after a crash, CSV input,
and the Ray runner (a local Ray instance, 2 CPUs, token authentication off) giving the local runner's results.

The Ray test skips when Ray is not installed (the `ray` extra), unless REQUIRE_RAY=1 (.ci/run), where it fails.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from corpus.cli import main
from eval.records import BUNDLED_SAMPLE, load
from service.protocol import SummarizeResponse

CHINESE = "北京市政府周一宣布了新的交通计划。该计划将增加三条地铁线路。官员说工程明年开始。"
SAMPLE_IDS = [record.id for record in load(BUNDLED_SAMPLE).records]
ARTICLE = (
    "The river council of Eastport approved a new flood wall on Monday after three years of debate. "
    "The wall will run for four miles along the north bank of the river. "
    "Engineers said the project will protect about twelve thousand homes from spring floods."
)


def run(*args: str | Path) -> int:
    return main(["run", *map(str, args)])


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def comparable(line: dict) -> dict:
    """A result line without its timing, the one field that differs from run to run."""
    if "stats" in line:
        line = {**line, "stats": {k: v for k, v in line["stats"].items() if k != "latency_ms"}}
    return line


def by_id(path: Path) -> dict[str, dict]:
    return {line["id"]: comparable(line) for line in lines(path)}


def write_jsonl(path: Path, rows: list[dict | str]) -> Path:
    text = "".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def local_output(tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("corpus") / "local.jsonl"
    assert run(BUNDLED_SAMPLE, output, "--batch-size", "8") == 0
    return output


def test_local_runner_writes_the_api_answer_for_every_record_in_input_order(local_output):
    results = lines(local_output)
    assert [line["id"] for line in results] == SAMPLE_IDS
    for line in results:
        answer = SummarizeResponse.model_validate({k: v for k, v in line.items() if k != "id"})
        assert answer.short and 1 <= len(answer.bullets) <= 5 and answer.engine.name == "embedded"
        assert len(answer.grounding.bullets) == len(answer.bullets) and answer.stats.sentences > 0


def test_results_equal_the_http_api_answers(local_output, client):
    records = {record.id: record for record in load(BUNDLED_SAMPLE).records}
    for line in lines(local_output)[:3]:
        record = records[line["id"]]
        answer = client.post("/v1/summarize", json={"text": record.article, "title": record.title}).get_json()
        assert comparable(answer) == comparable({k: v for k, v in line.items() if k != "id"})


def test_records_the_api_would_refuse_get_error_lines_and_bad_lines_are_reported(tmp_path, capsys):
    corpus = write_jsonl(
        tmp_path / "in.jsonl",
        [
            {"id": "good", "article": ARTICLE, "title": "Flood wall approved"},
            {"id": "debris", "article": "... !!! ---"},
            {"id": "huge", "article": "word " * 20_001},
            {"id": "long-title", "article": ARTICLE, "title": "t" * 1_001},
            {
                "id": "chinese",
                "article": "北京市政府周一宣布了新的交通计划。该计划将增加三条地铁线路。官员说工程明年开始。",
            },
            {"id": "\ud800", "article": ARTICLE},  # a lone surrogate in an id must still make a valid line
            '{"id": "cut", "article": ',
            {"id": "empty", "article": "   "},
        ],
    )
    output = tmp_path / "out.jsonl"
    assert run(corpus, output) == 1
    results = {line["id"]: line for line in lines(output)}
    assert list(results) == ["good", "debris", "huge", "long-title", "chinese", "\ud800"]
    assert results["good"]["short"].startswith("The river council")
    assert results["debris"]["error"]["code"] == "no_sentences"
    assert results["huge"]["error"] == {
        "code": "text_too_long",
        "message": "`text` has 20001 words; the limit is 20000.",
    }
    assert results["long-title"]["error"]["code"] == "title_too_long"
    assert results["chinese"]["bullets"] and any("'zh'" in warning for warning in results["chinese"]["warnings"])
    assert "short" in results["\ud800"]
    stderr = capsys.readouterr().err
    assert "in.jsonl:7: not valid JSON" in stderr and "in.jsonl:8: field 'article'" in stderr
    assert "3 summarized, 3 refused (no_sentences: 1, text_too_long: 1, title_too_long: 1)" in stderr
    assert "2 input lines skipped" in stderr


def test_a_rerun_after_a_crash_redoes_only_the_cut_line_and_what_was_not_written(tmp_path, local_output, capsys):
    output = tmp_path / "out.jsonl"
    assert run(BUNDLED_SAMPLE, output, "--limit", "6", "--batch-size", "2") == 0
    written = output.read_bytes()
    cut = [offset for offset, byte in enumerate(written) if byte == ord("\n")][3] + 1
    output.write_bytes(written[: cut + 40])  # 4 whole lines, then a crash 40 bytes into the 5th
    capsys.readouterr()
    assert run(BUNDLED_SAMPLE, output, "--limit", "9", "--batch-size", "2") == 0
    stderr = capsys.readouterr().err
    assert "removed a cut-off last line (40 bytes)" in stderr and "5 summarized, 0 refused, 4 already in" in stderr
    assert [line["id"] for line in lines(output)] == SAMPLE_IDS[:9]
    assert output.read_bytes().startswith(written[:cut])
    assert by_id(output) == {id_: line for id_, line in by_id(local_output).items() if id_ in SAMPLE_IDS[:9]}
    assert run(BUNDLED_SAMPLE, output, "--limit", "9") == 0  # nothing left to do: the file is unchanged
    assert "0 summarized, 0 refused, 9 already in" in capsys.readouterr().err
    assert len(lines(output)) == 9


@pytest.mark.slow
def test_a_killed_run_loses_at_most_the_batch_in_flight_and_a_rerun_completes_it(tmp_path, local_output):
    output = tmp_path / "out.jsonl"
    command = [sys.executable, "-m", "corpus", "run", str(BUNDLED_SAMPLE), str(output), "--batch-size", "2"]
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while (not output.exists() or output.read_bytes().count(b"\n") < 4) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    written = [line for line in output.read_bytes().split(b"\n") if line]
    assert 4 <= len(written) < len(SAMPLE_IDS)  # killed mid-run, with whole batches on disk
    assert run(BUNDLED_SAMPLE, output) == 0
    assert sorted(line["id"] for line in lines(output)) == sorted(SAMPLE_IDS)
    assert by_id(output) == by_id(local_output)


def test_an_output_that_is_not_a_result_file_is_left_alone(tmp_path, capsys):
    output = write_jsonl(tmp_path / "notes.jsonl", [{"id": "a", "short": "x"}, "not json", {"id": "b"}])
    before = output.read_bytes()
    assert run(BUNDLED_SAMPLE, output, "--limit", "1") == 2
    assert output.read_bytes() == before and "notes.jsonl:2: not a result line" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-bullets", "0"], "out_of_range"),
        (["--short-max-words", "1000"], "out_of_range"),
        (["--engine", "embedded", "--model", "x"], "--model names an abstractive model"),
        (["--field", "nope=x"], "--field wants KEY=NAME"),
    ],
)
def test_bad_options_stop_before_anything_is_loaded_or_written(tmp_path, capsys, args, message):
    output = tmp_path / "out.jsonl"
    assert run(BUNDLED_SAMPLE, output, *args) == 2
    assert message in capsys.readouterr().err and not output.exists()


def test_input_and_output_must_differ_and_the_input_exist(tmp_path, capsys):
    corpus = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "article": ARTICLE}])
    assert run(corpus, corpus) == 2 and "OUTPUT is INPUT" in capsys.readouterr().err
    assert run(tmp_path / "missing.jsonl", tmp_path / "out.jsonl") == 2
    assert "no such file" in capsys.readouterr().err


def test_csv_input_with_renamed_fields_gives_the_same_results(tmp_path, local_output):
    records = load(BUNDLED_SAMPLE).records[:4]
    corpus = tmp_path / "in.csv"
    with corpus.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["key", "headline", "body"])
        writer.writerows([record.id, record.title or "", record.article] for record in records)
    output = tmp_path / "out.jsonl"
    assert run(corpus, output, "--field", "id=key", "--field", "article=body", "--field", "title=headline") == 0
    expected = by_id(local_output)
    assert by_id(output) == {record.id: expected[record.id] for record in records}


@pytest.mark.slow
def test_importing_the_package_does_not_import_ray_and_a_missing_ray_is_a_clear_error(tmp_path):
    code = (
        "import sys; import corpus.cli, corpus.local, corpus.results, corpus.summarizer; "
        "assert 'ray' not in sys.modules, 'ray imported'; "
        "sys.modules['ray'] = None; "  # `import ray` now fails as if it were not installed
        f"sys.exit(corpus.cli.main(['run', {str(BUNDLED_SAMPLE)!r}, {str(tmp_path / 'o.jsonl')!r}, '--runner', 'ray']))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 3, result.stderr
    assert "pip install 'article-summarizer[ray]'" in result.stderr and not (tmp_path / "o.jsonl").exists()


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray instance of 2 CPUs, offline: no dashboard, no usage statistics, no token authentication."""
    try:
        import ray
    except ImportError as error:
        reason = f"the Ray runner test needs Ray ({error}): pip install 'article-summarizer[ray]'"
        if os.environ.get("REQUIRE_RAY") == "1":
            pytest.fail(f"REQUIRE_RAY=1 but {reason}")
        pytest.skip(reason)
    environment = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    ray.init(num_cpus=2, include_dashboard=False)
    try:
        yield ray
    finally:
        ray.shutdown()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.mark.slow
def test_ray_runner_gives_the_local_runners_results(local_ray, local_output, tmp_path):
    output = tmp_path / "ray.jsonl"
    assert run(BUNDLED_SAMPLE, output, "--runner", "ray", "--actors", "2", "--batch-size", "4") == 0
    assert local_ray.is_initialized()  # the runner used the instance it found, and left it running
    results = lines(output)
    assert sorted(line["id"] for line in results) == sorted(SAMPLE_IDS)  # each once; order may differ
    assert by_id(output) == by_id(local_output)
