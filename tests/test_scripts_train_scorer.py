"""scripts/train_scorer.py runs end to end and writes a scorer the engine can load."""

import json
import os
import subprocess
import sys

import pytest

from eval.records import BUNDLED_SAMPLE
from service.engines.embedded import FEATURES, Scorer
from service.launcher import REPO

pytestmark = pytest.mark.slow


def test_training_writes_a_loadable_scorer_and_keeps_the_test_file_out(tmp_path):
    records = BUNDLED_SAMPLE.read_text().splitlines()
    for index, name in enumerate(("frank_cnndm.jsonl", "summeval_cnndm.jsonl", "realsumm_cnndm.jsonl")):
        (tmp_path / name).write_text("\n".join(records[index * 6 : index * 6 + 6]) + "\n")
    # The held-out file shares the first 6 records with the training files: they must be skipped.
    (tmp_path / "goyal2022_cnn_test500.jsonl").write_text("\n".join(records[:6]) + "\n")
    out = tmp_path / "scorer.json"
    result = subprocess.run(
        [sys.executable, "scripts/train_scorer.py", "--data-dir", str(tmp_path), "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        env={k: v for k, v in os.environ.items() if k != "SUMMARIZER_EMBEDDING_LAYERS"},  # the default features
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("12 training articles")
    scorer = Scorer.load(out)
    assert set(scorer.weights) == set(FEATURES)
    assert json.loads(out.read_text())["redundancy"] in (0.0, 0.3, 0.6, 1.0)
    assert scorer.embedding_layers == Scorer.load().embedding_layers == 1  # the engine's default features
