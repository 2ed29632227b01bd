"""Hostile and heavy clients against the real gunicorn server: every answer JSON, nothing stalls or crashes.

Raw sockets, so that malformed HTTP reaches the server as it was written.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from service.launcher import GUNICORN, REPO, start_server

pytestmark = pytest.mark.slow
ARTICLE = (
    "The city council approved a new transit plan on Tuesday after months of debate. "
    "The plan adds three bus lines and extends the tram to the airport by 2027. "
    "Council members said the project will cost about $1.2 billion over ten years. "
    "Opponents argued that the money should go to road repairs instead."
)


def exchange(url: str, data: bytes, half_close: bool = False, timeout: float = 30) -> tuple[int, dict | bytes]:
    """Send raw bytes, read the whole answer: (status, JSON body or raw bytes)."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65_536):
            answer += chunk
            if _complete(answer):
                break
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    assert b"content-type: application/json" in head.lower(), head
    return status, json.loads(body)


def _complete(answer: bytes) -> bool:
    head, sep, body = answer.partition(b"\r\n\r\n")
    for line in head.lower().split(b"\r\n"):
        if line.startswith(b"content-length:"):
            return bool(sep) and len(body) >= int(line.split(b":")[1])
    return False


def post(body: bytes, content_type: bytes = b"application/json", extra: bytes = b"") -> bytes:
    return (
        b"POST /v1/summarize HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: " + content_type + b"\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n" + extra + b"\r\n" + body
    )


def chunked(body: bytes, piece: int = 65_536) -> bytes:
    chunks = b"".join(
        b"%x\r\n%s\r\n" % (len(body[i : i + piece]), body[i : i + piece]) for i in range(0, len(body), piece)
    )
    return (
        b"POST /v1/summarize HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: text/plain\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n"
    )


CATALOGUE = {
    # input that used to freeze or crash a worker
    "byline backtracking": (post(b"By " + b"A" * 3000 + b"!\nThe council met on Tuesday.", b"text/plain"), 200, None),
    "JSON nested 10,000 deep": (post(b"[" * 10_000 + b"]" * 10_000), 400, "invalid_json"),
    "integer of 5,000 digits": (post(b'{"text": "a b c.", "max_bullets": ' + b"9" * 5000 + b"}"), 400, "invalid_json"),
    "lone surrogate": (post(b'{"text": "The council met on Tuesday. \\ud800 It passed the budget."}'), 200, None),
    "lone surrogate in title": (post(b'{"text": "The council met.", "title": "\\udfff"}'), 200, None),
    # bodies that must never be summarized in part
    "chunked body over the limit": (chunked(b"word " * 400_000), 413, "payload_too_large"),
    "malformed chunk size": (
        b"POST /v1/summarize HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"zz\r\nabc\r\n0\r\n\r\n",
        400,
        "invalid_body",
    ),
    "Content-Length over the limit": (
        b"POST /v1/summarize HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\nContent-Length: 5000000\r\n\r\nab",
        413,
        "payload_too_large",
    ),
    # refused by gunicorn itself, answered in JSON
    "duplicate Content-Length": (
        b"POST /v1/summarize HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        400,
        "bad_request",
    ),
    "8 KB URL": (b"GET /" + b"a" * 8192 + b" HTTP/1.1\r\nHost: t\r\n\r\n", 414, "uri_too_long"),
    "huge headers": (
        b"GET /healthz HTTP/1.1\r\nHost: t\r\n"
        + b"".join(b"X-%d: %s\r\n" % (i, b"v" * 8000) for i in range(120))
        + b"\r\n",
        431,
        "headers_too_large",
    ),
    "HTTP/0.9": (b"GET /healthz\r\n\r\n", 400, "bad_request"),
    "Transfer-Encoding br": (
        b"POST /v1/summarize HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\n"
        b"Transfer-Encoding: br, chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
        501,
        "unsupported_transfer_coding",
    ),
    "Expect other than 100-continue": (
        post(ARTICLE.encode(), b"text/plain", b"Expect: 200-ok\r\n"),
        417,
        "expectation_failed",
    ),
    "obsolete line folding": (b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-A: 1\r\n  folded\r\n\r\n", 400, "bad_request"),
    # the API's own refusals
    "words over the limit": (post(b"word " * 20_001, b"text/plain"), 413, "text_too_long"),
    "symbols over the limit": (post(b"a,a,a,a,a,a,a,a,a,a " * 6_100, b"text/plain"), 413, "text_too_long"),
    "title over the limit": (post(json.dumps({"text": ARTICLE, "title": "t" * 1001}).encode()), 400, "title_too_long"),
    "binary junk": (post(bytes(range(256)) * 40, b"text/plain"), 400, "invalid_encoding"),
    "only punctuation": (post(b"!?!? ... --- " * 5000, b"text/plain"), 422, "no_sentences"),
    "unknown media type": (post(ARTICLE.encode(), b"application/xml"), 415, "unsupported_media_type"),
}


@pytest.mark.parametrize("case", list(CATALOGUE))
def test_hostile_request_gets_its_json_answer_and_the_server_stays_healthy(live_server, case):
    request, status, code = CATALOGUE[case]
    started = time.monotonic()
    answer_status, body = exchange(live_server, request)
    assert (answer_status, body.get("error", {}).get("code")) == (status, code), body
    assert time.monotonic() - started < 5
    assert requests.get(f"{live_server}/healthz", timeout=5).status_code == 200


def test_a_body_shorter_than_its_content_length_is_never_summarized(live_server):
    request = b"POST /v1/summarize HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\nContent-Length: 500\r\n\r\n"
    status, body = exchange(live_server, request + ARTICLE[:200].encode(), half_close=True)
    assert (status, body["error"]["code"]) == (400, "invalid_body")


def test_chinese_and_japanese_articles_get_summaries(live_server):
    for text, language in [
        ("北京市政府周二宣布了一项新的城市交通计划。该计划将增加三条公交线路。市长表示项目将在明年完工。", "zh"),
        ("東京都は火曜日、新しい交通計画を発表した。バス路線を三つ増やす。工事は来年始まる予定だ。", "ja"),
    ]:
        body = requests.post(f"{live_server}/v1/summarize", json={"text": text}, timeout=30).json()
        assert body["stats"]["sentences"] == 3 and body["stats"]["language"] == language
        assert body["stats"]["input_words"] > 20 and all(bullet.endswith("。") for bullet in body["bullets"])
        assert any("English only" in warning for warning in body["warnings"])


def test_one_poisoned_request_does_not_fail_the_others(live_server):
    """Innocent requests batched with a lone surrogate all succeed (the batch is retried job by job)."""
    bad = post(b'{"text": "The council met on Tuesday. \\ud800 It passed."}')

    def innocent(_):
        return requests.post(f"{live_server}/v1/summarize", json={"text": ARTICLE}, timeout=60).status_code

    with ThreadPoolExecutor(13) as pool:
        for _ in range(3):
            poisoned = pool.submit(exchange, live_server, bad)
            statuses = list(pool.map(innocent, range(12)))
            assert statuses == [200] * 12 and poisoned.result()[0] == 200


def test_slow_clients_hold_no_request_thread(live_server):
    """More dribbling sockets than request threads; a normal client is still served at once."""
    host, port = live_server.removeprefix("http://").split(":")
    sockets = [socket.create_connection((host, int(port))) for _ in range(100)]
    try:
        for sock in sockets:
            sock.sendall(b"POST /v1/summarize HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\nX-A: ")
        latencies = []
        for _ in range(5):
            started = time.monotonic()
            assert requests.post(f"{live_server}/v1/summarize", json={"text": ARTICLE}, timeout=30).status_code == 200
            latencies.append(time.monotonic() - started)
        assert max(latencies) < 2
    finally:
        for sock in sockets:
            sock.close()


def test_an_unfinished_request_gets_408():
    server = start_server()
    try:
        host, port = server.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=30) as sock:
            sock.sendall(b"POST /v1/summarize HTTP/1.1\r\nHost: t\r\n")
            for _ in range(14):  # a byte a second: never silent long enough to be dropped, never complete
                time.sleep(1)
                try:
                    sock.sendall(b"X")
                except OSError:
                    break
            answer = sock.recv(65_536)
        assert answer.startswith(b"HTTP/1.1 408") and b'"request_timeout"' in answer
    finally:
        server.stop()


def test_sigterm_drains_in_flight_requests_and_reports_not_ready():
    server = start_server({"SUMMARIZER_BATCH_MAX_SIZE": "4", "GUNICORN_THREADS": "32"})
    try:
        with ThreadPoolExecutor(8) as pool:
            work = [
                pool.submit(requests.post, f"{server.url}/v1/summarize", json={"text": ARTICLE * 40}, timeout=60)
                for _ in range(8)
            ]
            time.sleep(0.3)  # the requests are in flight
            os.killpg(server.process.pid, signal.SIGTERM)
            time.sleep(0.2)
            ready = requests.get(f"{server.url}/readyz", timeout=5)
            statuses = [future.result().status_code for future in work]
        assert ready.status_code == 503 and ready.json()["error"]["code"] == "shutting_down"
        assert statuses.count(200) + statuses.count(503) == 8 and statuses.count(200) >= 1  # none lost
        server.process.wait(timeout=60)
        assert server.process.returncode == 0
    finally:
        server.stop()


def test_a_killed_worker_is_replaced_and_ready_again():
    server = start_server()
    try:
        (worker,) = subprocess.run(
            ["pgrep", "-P", str(server.process.pid)], capture_output=True, text=True
        ).stdout.split()
        os.kill(int(worker), signal.SIGKILL)
        started = time.monotonic()
        server.wait_ready(deadline_s=120)
        seconds = time.monotonic() - started
        print(f"ready again {seconds:.1f} s after the worker was killed")
        assert requests.post(f"{server.url}/v1/summarize", json={"text": ARTICLE}, timeout=30).status_code == 200
    finally:
        server.stop()


def test_two_servers_on_one_machine_both_start():
    """gunicorn's control socket (one fixed path per user) is off, so servers do not fight over it."""
    first, second = start_server(), start_server()
    try:
        for server in (first, second):
            assert requests.get(f"{server.url}/readyz", timeout=5).status_code == 200
            assert "control" not in server.output().lower()
    finally:
        first.stop()
        second.stop()


def test_json_logs_carry_the_request_id():
    server = start_server({"SUMMARIZER_LOG_FORMAT": "json"})
    try:
        response = requests.post(
            f"{server.url}/v1/summarize", json={"text": ARTICLE}, headers={"X-Request-Id": "trace-42"}, timeout=30
        )
        assert response.headers["X-Request-Id"] == "trace-42"
    finally:
        server.stop()
    lines = [json.loads(line) for line in server.output().splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "gunicorn.access" and line["request_id"] == "trace-42"]
    assert access and access[0]["status"] == "200" and access[0]["path"] == "/v1/summarize"
    assert all({"time", "level", "logger", "message", "request_id"} <= line.keys() for line in lines)


def test_threads_are_checked_against_batch_and_queue_at_start_up():
    result = subprocess.run(
        GUNICORN,
        cwd=REPO,
        env={**os.environ, "PORT": "0", "SUMMARIZER_BATCH_MAX_SIZE": "64"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "GUNICORN_THREADS (64) must exceed SUMMARIZER_BATCH_MAX_SIZE + SUMMARIZER_QUEUE_MAX" in result.stderr


def test_a_client_that_hangs_up_mid_summary_is_counted_as_gone(live_server):
    """The 499 reaches no client (it left): the server counts it. Other clients keep the engine busy meanwhile."""

    def gone() -> float:
        text = requests.get(f"{live_server}/metrics", timeout=5).text
        prefix = 'summarizer_rejected_total{reason="client_gone"}'
        return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(prefix))

    def hang_up_behind_busy_clients() -> None:
        host, port = live_server.removeprefix("http://").split(":")
        text = " ".join(f"Report {n} says the council spent {n} million on road {n} last year." for n in range(400))
        # 36 jobs (within what the worker admits): the hung-up job waits in or behind a batch that takes far
        # longer than the 50 ms between checks of its socket, however fast the engine is
        documents = {"documents": [{"text": f"Item {n}. {text}"} for n in range(6)]}
        with ThreadPoolExecutor(6) as pool:
            url = f"{live_server}/v1/summarize/batch"
            busy = [pool.submit(requests.post, url, json=documents, timeout=120) for _ in range(6)]
            time.sleep(0.1)
            with socket.create_connection((host, int(port)), timeout=10) as sock:
                sock.sendall(post(json.dumps({"text": text}).encode()))  # the whole request; the client leaves
            assert [future.result().status_code for future in busy] == [200] * 6

    # The hung-up job could still be summarized before it is seen waiting (a machine stalled for long): try thrice.
    before = gone()
    for _ in range(3):
        hang_up_behind_busy_clients()
        deadline = time.monotonic() + 10
        while gone() < before + 1 and time.monotonic() < deadline:
            time.sleep(0.2)
        if gone() >= before + 1:
            break
    assert gone() >= before + 1, "the hang-up was never noticed"
