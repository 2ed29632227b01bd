"""Every command the README documents is exercised: curl examples, make serve, benchmarks."""

import json
import re
import subprocess
import sys

import pytest

from eval.records import BUNDLED_SAMPLE
from service.launcher import REPO, Server

pytestmark = pytest.mark.slow

README = (REPO / "README.md").read_text()


def readme_curl_commands() -> list[str]:
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", README, re.S):
        for command in re.split(r"(?<!\\)\n", block):
            if command.strip().startswith("curl"):
                commands.append(command.split("#")[0].strip())
    return commands


def test_readme_has_curl_examples():
    assert len(readme_curl_commands()) >= 5


@pytest.mark.parametrize("command", readme_curl_commands())
def test_readme_curl_example_works(live_server, command):
    command = command.replace("localhost:8000", live_server.removeprefix("http://"))
    result = subprocess.run(["bash", "-c", command], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    body = result.stdout
    if "/metrics" in command:
        assert "summarizer_requests_total" in body
    else:
        assert "error" not in json.loads(body), body


def test_make_serve_starts_gunicorn():
    server = Server.launch(["make", "serve"])  # PORT comes from the environment
    try:
        server.wait_ready()
    finally:
        server.stop()
    assert "gunicorn" in server.output().lower()


@pytest.mark.parametrize(
    "args",
    [
        ["benchmarks.latency", "--data", str(BUNDLED_SAMPLE), "--limit", "6"],
        ["benchmarks.load", "--data", str(BUNDLED_SAMPLE), "--articles", "4", "--clients", "2", "--requests", "6"],
        ["benchmarks.gpu_abstractive", "--tiny", "--batches", "1,2"],
        ["benchmarks.gpu_server", "--tiny", "--clients", "2", "--requests", "4"],
    ],
)
def test_benchmarks_run(args):
    result = subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "p50" in result.stdout or "art/s" in result.stdout
