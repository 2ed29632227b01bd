"""The article set the benchmarks run on."""

from __future__ import annotations

import json
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "goyal2022_cnn_test500.jsonl"


def load_articles(path: Path, limit: int) -> list[str]:
    with path.open() as lines:
        return [json.loads(line)["article"] for _, line in zip(range(limit), lines)]
