"""The real gunicorn server over HTTP: summaries, concurrency, and fail-fast startup."""

import os
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from service.launcher import GUNICORN, REPO, start_server

pytestmark = pytest.mark.slow

ARTICLES = [
    "The museum reopened on Saturday after a two-year renovation. Visitors lined up for hours to see the new wing. "
    "The director said attendance beat every forecast. Tickets for the next month are already sold out.",
    "Heavy rain flooded dozens of homes in the valley overnight. Rescue teams evacuated more than 200 residents. "
    "Forecasters expect the river to peak on Thursday. Schools in the area will stay closed until Monday.",
    "The company reported record profits for the third quarter. Sales of its new phone rose by 40 percent. "
    "Its shares climbed 6 percent in early trading. Analysts warned that chip shortages could slow growth next year.",
]


def summarize(url: str, text: str) -> dict:
    response = requests.post(f"{url}/v1/summarize", json={"text": text}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def test_gunicorn_serves_summaries_and_errors(live_server, huawei_text):
    body = summarize(live_server, huawei_text)
    assert "Huawei" in body["short"] and 3 <= len(body["bullets"]) <= 5
    bad = requests.post(
        f"{live_server}/v1/summarize", data="{", headers={"Content-Type": "application/json"}, timeout=10
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_json"
    missing = requests.get(f"{live_server}/missing", timeout=10)
    assert missing.status_code == 404 and missing.headers["Content-Type"] == "application/json"


def test_concurrent_requests_get_their_own_results(live_server):
    expected = {text: summarize(live_server, text) for text in ARTICLES}
    jobs = ARTICLES * 6
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda text: summarize(live_server, text), jobs))
    for text, body in zip(jobs, results):
        assert body["short"] == expected[text]["short"]
        assert body["bullets"] == expected[text]["bullets"]
        assert all(bullet in text for bullet in body["bullets"])


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        pytest.param(
            {"HF_HUB_OFFLINE": "1", "SUMMARIZER_MODEL": "{missing}"},
            ["{missing}", "SUMMARIZER_MODEL"],
            id="missing-model",
        ),
        pytest.param({"SUMMARIZER_MAX_BULLETS": "lots"}, ["SUMMARIZER_MAX_BULLETS"], id="bad-configuration"),
    ],
)
def test_startup_problems_fail_fast_with_a_clear_message(tmp_path, env, expected):
    """A missing model directory or a bad setting: gunicorn exits non-zero, naming the culprit."""
    missing = str(tmp_path / "no-such-model")
    env = {name: value.format(missing=missing) for name, value in env.items()}
    process = subprocess.run(
        GUNICORN,
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "PORT": "0", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert process.returncode != 0
    for text in expected:
        assert text.format(missing=missing) in process.stderr


def test_one_scrape_counts_the_requests_of_every_worker():
    """WEB_CONCURRENCY=2: the counts are the server's totals, even those of a worker that has died since."""
    server = start_server({"WEB_CONCURRENCY": "2", "SUMMARIZER_TORCH_THREADS": "1"})
    try:
        for text in ARTICLES * 4:
            summarize(server.url, text)
        first = served_by(server.output())
        os.kill(int(next(iter(first))), signal.SIGKILL)  # its counts must survive it
        server.wait_ready()
        time.sleep(1)  # the replacement worker is up
        for text in ARTICLES * 4:
            summarize(server.url, text)
        scrapes = [requests.get(f"{server.url}/metrics", timeout=10).text for _ in range(6)]
    finally:
        server.stop()
    assert len(served_by(server.output())) >= 2  # the dead worker and at least one other served requests
    assert [summarized(scrape) for scrape in scrapes] == [24.0] * 6


def served_by(log: str) -> set[str]:
    """The pids in the access log lines of summaries."""
    return {line.split("pid=")[1].split()[0].strip("<>") for line in log.splitlines() if "POST /v1/summarize" in line}


def summarized(metrics_text: str) -> float:
    labels = {"route": "/v1/summarize", "status": "200", "style": "both"}
    return sum(
        sample.value
        for family in text_string_to_metric_families(metrics_text)
        for sample in family.samples
        if sample.name == "summarizer_requests_total" and sample.labels == labels
    )
