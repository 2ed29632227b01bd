"""The real gunicorn server over HTTP: summaries, concurrency, and fail-fast startup."""

import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from service.launcher import GUNICORN, REPO

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
