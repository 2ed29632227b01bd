"""`python -m eval` end to end: the bundled sample, an engine, a live service, the gate and compare."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from rouge_score import rouge_scorer

from client import ServiceError
from eval.cli import main
from eval.records import BUNDLED_SAMPLE, Record
from eval.service import service_runs
from service.domain import Options
from service.text import split_reference

COMMON = ["--limit", "3", "--resamples", "200"]


def predictions(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "predictions.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def engine_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("eval") / "engine"
    assert (
        main(["run", *COMMON, "--engine", "embedded", "--engine", "lead-3-raw", "--style", "both", "--out", str(out)])
        == 0
    )
    return out


@pytest.fixture(scope="module")
def service_run(tmp_path_factory, live_server) -> Path:
    out = tmp_path_factory.mktemp("eval") / "service"
    argv = [
        "run",
        *COMMON,
        "--url",
        live_server,
        "--concurrency",
        "3",
        "--style",
        "both",
        "--stored",
        "none",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    return out


def test_run_writes_every_output(engine_run):
    for name in (
        "predictions.jsonl",
        "metrics.json",
        "report.md",
        "distributions.png",
        "score_vs_length.png",
        "metric_bars.png",
    ):
        assert (engine_run / name).stat().st_size > 0
    metrics = json.loads((engine_run / "metrics.json").read_text())
    expected = [
        "embedded:bullets",
        "embedded:short",
        "lead-3-raw",
        "lead-3",
        "BRIO",
        "PEGASUS",
        "T0",
        "GPT3-text-davinci-002",
    ]
    assert list(metrics["systems"]) == expected
    assert len(predictions(engine_run)) == 3 * len(expected)
    config = metrics["config"]
    assert config["data"]["records"] == 3 and len(config["data"]["sha256"]) == 64
    assert config["code"]["commit"] and config["engines"]["embedded"]["model"]
    bullets = metrics["systems"]["embedded:bullets"]
    assert bullets["kind"] == "engine" and bullets["n"] == 3
    assert 1 <= bullets["bullets"] <= 5
    low, high = bullets["ci95"]["rouge1"]
    assert low <= bullets["rouge1"] <= high
    assert "bullets" not in metrics["systems"]["embedded:short"]
    assert any(row["a"] == "embedded:bullets" and row["b"] == "BRIO" for row in metrics["paired"])


def test_stored_rouge_matches_rouge_score_computed_independently(engine_run):
    metrics = json.loads((engine_run / "metrics.json").read_text())
    ids = {row["id"] for row in predictions(engine_run)}
    raw = [json.loads(line) for line in BUNDLED_SAMPLE.read_text().splitlines()]
    rows = [row for row in raw if row["id"] in ids]
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeLsum"], use_stemmer=True)
    for system in ("BRIO", "PEGASUS", "T0", "GPT3-text-davinci-002"):
        for name in ("rouge1", "rouge2", "rougeLsum"):
            direct = (
                sum(
                    scorer.score(
                        "\n".join(split_reference(r["references"][0])), "\n".join(split_reference(r["systems"][system]))
                    )[name].fmeasure
                    for r in rows
                )
                * 100
                / len(rows)
            )
            assert metrics["systems"][system][name] == pytest.approx(direct, abs=0.05)


def test_report_tables_mark_the_best_and_embed_the_plots(engine_run):
    report = (engine_run / "report.md").read_text()
    for heading in (
        "## Quality",
        "## 95% bootstrap confidence intervals",
        "## Extractiveness and length",
        "## Paired bootstrap tests",
    ):
        assert heading in report
    quality = report.split("## Quality")[1].split("##")[0]
    assert quality.count("**") >= 2 * 6  # a best value in each quality column
    assert "![Score distributions per system](distributions.png)" in report
    assert "best reference is the one with the highest ROUGE-1" in report
    image = plt.imread(engine_run / "metric_bars.png")
    assert image.shape[0] > 200 and image.shape[1] > 600


def test_service_over_http_matches_the_engine_and_reports_latency(engine_run, service_run):
    metrics = json.loads((service_run / "metrics.json").read_text())
    served = metrics["systems"]["service:bullets"]
    assert served["kind"] == "service"
    assert 0 < served["latency_p50_ms"] <= served["latency_p95_ms"] <= served["latency_p99_ms"]
    assert served["throughput_rps"] > 0
    assert "## Latency and throughput" in (service_run / "report.md").read_text()
    engine = {
        (r["system"].split(":")[1], r["id"]): r["summary"]
        for r in predictions(engine_run)
        if r["system"].startswith("embedded:")
    }
    over_http = {
        (r["system"].split(":")[1], r["id"]): r["summary"]
        for r in predictions(service_run)
        if r["system"].startswith("service:")
    }
    assert over_http == engine
    assert all("latency_ms" in r for r in predictions(service_run) if r["system"].startswith("service:"))


def test_service_errors_are_reported_with_the_record_and_code(live_server):
    record = Record("only-debris", "Advertisement", [])
    with pytest.raises(ServiceError, match=r"only-debris: HTTP 422 no_sentences"):
        service_runs(live_server, [record], Options(style="bullets"))


def test_compare_pairs_same_named_systems_or_named_pairs(engine_run, service_run, capsys):
    assert main(["compare", str(engine_run), str(service_run)]) == 0
    same = capsys.readouterr().out
    assert "3 articles scored by both runs" in same
    assert "| `lead-3` | +0.00 [+0.00, +0.00] p=1.000 |" in same
    out = engine_run.parent / "compare.md"
    argv = ["compare", str(engine_run), str(engine_run), "--pair", "embedded:bullets", "lead-3", "--out", str(out)]
    assert main(argv) == 0
    table = out.read_text()
    assert "| `embedded:bullets` − `lead-3` |" in table
    assert main(["compare", str(engine_run), str(service_run), "--pair", "nope", "lead-3"]) == 2
    assert "cannot pair 'nope'" in capsys.readouterr().err


def test_fail_under_gates_the_evaluated_systems(tmp_path, capsys):
    argv = [
        "run",
        "--limit",
        "2",
        "--resamples",
        "50",
        "--engine",
        "lead-3",
        "--lead",
        "0",
        "--stored",
        "none",
        "--out",
        str(tmp_path / "a"),
    ]
    assert main([*argv, "--fail-under", "rouge1=1", "--fail-under", "rouge2=99"]) == 1
    errors = capsys.readouterr().err
    assert "fail-under: lead-3: rouge2" in errors and "rouge1" not in errors
    assert main([*argv, "--fail-under", "bleu=3"]) == 2
    assert "unknown metric 'bleu'" in capsys.readouterr().err


def test_bad_data_is_a_clear_error_not_a_traceback(tmp_path, capsys):
    assert main(["run", "--data", str(tmp_path / "absent.jsonl"), "--out", str(tmp_path / "x")]) == 2
    assert "absent.jsonl: no such file" in capsys.readouterr().err
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text(
        json.dumps({"id": "a", "article": "One sentence here.", "references": ["One."]})
        + "\n"
        + json.dumps({"id": "b", "article": "Another sentence here.", "references": []})
        + "\n"
    )
    assert main(["run", "--data", str(mixed), "--out", str(tmp_path / "y")]) == 2
    assert "1 of 2 records have no references (first: b)" in capsys.readouterr().err


def test_unknown_engine_is_a_clear_error(tmp_path, capsys):
    assert (
        main(
            [
                "run",
                "--data",
                str(BUNDLED_SAMPLE),
                "--engine",
                "lead-1",
                "--engine",
                "embeded",
                "--out",
                str(tmp_path / "x"),
            ]
        )
        == 2
    )
    assert "--engine embeded: unknown system" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_module_entry_point_prints_usage(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["python -m eval", "run", "--help"])
    with pytest.raises(SystemExit) as exited:
        runpy.run_module("eval", run_name="__main__")
    assert exited.value.code == 0
    usage = capsys.readouterr().out
    assert "--fail-under" in usage and "--concurrency" in usage
