"""The evaluation report (eval/report.py): its tables, marks and notes, from a known `metrics.json` content."""

import copy
from pathlib import Path

from eval.report import formatted, render

METRICS = {
    "config": {
        "data": {"source": "sample.jsonl", "records": 3, "sha256": "0123456789abcdef", "references": 1, "skipped": [4]},
        "started": "2026-01-02T03:04:05",
        "code": {"commit": "abcdef0123456789", "dirty": True},
        "engines": {"embedded": {"model": "MiniLM", "device": "cpu"}},
        "left_out": ["lead-3-raw: no articles"],
        "concurrency": 4,
        "scoring": {"embedder": "all-MiniLM-L6-v2", "support_threshold": 0.5, "resamples": 200, "seed": 7},
    },
    "systems": {
        "embedded": {
            "kind": "engine",
            "n": 3,
            "rouge1": 40.123,
            "rouge2": 18.0,
            "supported": 95.04,
            "coverage": 0.9512,
            "words": 60.04,
            "ci95": {"rouge1": [38.0, 42.5], "supported": [90.0, 99.0]},
            "latency_p50_ms": 120.04,
            "latency_p95_ms": 300.0,
            "latency_p99_ms": 410.55,
            "throughput_rps": 8.25,
        },
        "lead-3": {
            "kind": "baseline",
            "n": 3,
            "rouge1": 40.118,
            "rouge2": 17.5,
            "supported": 100.0,
            "coverage": 1.0,
            "words": 80.0,
            "ci95": {"rouge1": [37.0, 43.0]},
        },
        "BRIO": {"kind": "stored", "n": 3, "rouge1": 38.0, "ci95": {}},
    },
    "paired": [
        {
            "a": "embedded",
            "b": "lead-3",
            "metric": "rouge1",
            "diff": 0.005,
            "ci95": [-1.2, 1.3],
            "p": 0.9512,
            "significant": False,
        },
        {
            "a": "embedded",
            "b": "lead-3",
            "metric": "supported",
            "diff": -4.96,
            "ci95": [-8.0, -2.0],
            "p": 0.0004,
            "significant": True,
        },
        {
            "a": "embedded",
            "b": "BRIO",
            "metric": "rouge1",
            "diff": 2.1234,
            "ci95": [0.5, 3.5],
            "p": 0.01,
            "significant": True,
        },
    ],
}

PLOTS = [("Score distributions", "distributions.png")]

EXPECTED = Path(__file__).parent / "samples" / "eval_report_expected.md"  # read and checked by hand


def test_the_report_of_a_known_run_is_exactly_this():
    assert render(METRICS, PLOTS) == EXPECTED.read_text()


def section(report: str, title: str) -> str:
    return report.split(f"## {title}\n\n")[1].split("\n## ")[0]


def test_the_best_system_is_bold_not_the_worst():
    metrics = copy.deepcopy(METRICS)
    metrics["systems"]["lead-3"]["rouge1"] = 20.0
    quality = section(render(metrics), "Quality")
    assert "| `embedded` | engine | 3 | **40.12** |" in quality
    assert "| `lead-3` | baseline | 3 | 20.00 |" in quality and "| `BRIO` | stored | 3 | 38.00 |" in quality


def test_values_equal_as_printed_are_all_bold():
    quality = section(render(METRICS), "Quality")
    assert quality.count("**40.12**") == 2  # 40.123 and 40.118 both print as 40.12


def test_descriptive_columns_are_never_bold():
    assert "**" not in section(render(METRICS), "Extractiveness and length")


def test_sections_without_data_are_left_out():
    metrics = copy.deepcopy(METRICS)
    del metrics["paired"]
    for system in metrics["systems"].values():
        for key in ("latency_p50_ms", "coverage", "words"):
            system.pop(key, None)
    report = render(metrics)
    for title in ("Latency and throughput", "Paired bootstrap tests", "Extractiveness and length", "Plots"):
        assert f"## {title}" not in report
    assert "| Coverage |" not in report and "## Quality" in report


def test_the_header_without_optional_facts():
    metrics = copy.deepcopy(METRICS)
    metrics["config"]["data"]["skipped"] = []
    del metrics["config"]["code"]
    for key in ("engines", "left_out"):
        del metrics["config"][key]
    assert render(metrics).split("\n\n")[:2] == [
        "# Evaluation report",
        "- Data: `sample.jsonl`, 3 articles (sha256 `0123456789ab`), 1 reference(s) per article\n"
        "- Systems: 3; run 2026-01-02T03:04:05, commit `unknown`",
    ]


def test_p_values_below_a_thousandth_are_bounded():
    metrics = copy.deepcopy(METRICS)
    metrics["paired"] = [{**METRICS["paired"][0], "p": 0.001}, {**METRICS["paired"][1], "p": 0.0009}]
    paired = section(render(metrics), "Paired bootstrap tests")
    assert "p=0.001 |" in paired and "p<0.001 |" in paired


def test_a_value_is_printed_with_its_metrics_decimals():
    system = METRICS["systems"]["embedded"]
    assert [formatted(system, key) for key in ("rouge1", "supported", "coverage", "words")] == [
        "40.12",
        "95.0",
        "0.951",
        "60.0",
    ]
    assert formatted(system, "rouge1", bold=True) == "**40.12**" and formatted(system, "density") == ""
