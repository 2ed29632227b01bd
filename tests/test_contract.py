"""Contract tests: schemathesis against the live gunicorn server, every check, valid and invalid data."""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]


def test_the_server_keeps_its_openapi_contract(live_server):
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", f"{live_server}/openapi.json",
        "--checks", "all", "--mode", "all", "--max-examples", "60", "--workers", "2",
        "--generation-deterministic", "--no-color",
    ]  # fmt: skip
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=900)
    summary = result.stdout[-3000:]
    assert result.returncode == 0, summary
    assert "No issues found" in result.stdout or " passed" in summary, summary
