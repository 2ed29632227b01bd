"""The files of a run directory: `predictions.jsonl` and `metrics.json`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from eval.records import Record
from eval.scoring import Example
from eval.systems import SystemRun

PREDICTIONS = "predictions.jsonl"
METRICS_FILE = "metrics.json"


def write_predictions(
    out: Path, records: Sequence[Record], runs: Sequence[SystemRun], scored: dict[str, list[Example]]
) -> Path:
    """One line per (system, article): the summary as scored, its scores and sentence support."""
    path = out / PREDICTIONS
    with path.open("w", encoding="utf-8") as handle:
        for run in runs:
            for record, output, example in zip(records, run.outputs, scored[run.name]):
                line = {
                    "id": record.id,
                    "system": run.name,
                    "kind": run.kind,
                    "summary": output.text,
                    "sentences": output.sentences,
                    "scores": example.scores,
                    "best_reference": example.best_reference,
                    "support": [round(s, 4) for s in example.support],
                }
                if output.latency_ms is not None:
                    line["latency_ms"] = output.latency_ms
                handle.write(json.dumps(line, ensure_ascii=False) + "\n")
    return path


def write_metrics(out: Path, metrics: dict) -> Path:
    path = out / METRICS_FILE
    path.write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def read_metrics(run_dir: Path) -> dict:
    return json.loads((Path(run_dir) / METRICS_FILE).read_text(encoding="utf-8"))


def read_scores(run_dir: Path) -> dict[str, dict[str, Example]]:
    """`{system: {article id: Example}}` from a run's predictions."""
    systems: dict[str, dict[str, Example]] = {}
    with (Path(run_dir) / PREDICTIONS).open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            systems.setdefault(row["system"], {})[row["id"]] = Example(
                row["scores"], row["best_reference"], row["support"]
            )
    return systems
