"""The Python client against the real server: typed answers, errors, a 503 retried after Retry-After, timeouts."""

import subprocess
import sys
import threading
import time

import pytest

from client import BatchResponse, Client, ServiceError, SummarizeResponse
from service.launcher import start_server

ARTICLE = (
    "The museum reopened on Saturday after a two-year renovation. Visitors lined up for hours to see the new wing. "
    "The director said attendance beat every forecast. Tickets for the next month are already sold out."
)


def test_the_client_imports_without_torch():
    code = "import sys, client; assert not [m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers')]"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).returncode == 0


def test_summaries_come_back_typed(live_server):
    with Client(live_server) as service:
        answer = service.summarize(ARTICLE, style="bullets", max_bullets=3)
        assert isinstance(answer, SummarizeResponse) and answer.short is None and len(answer.bullets) == 3
        assert answer.grounding.bullets[0].sources[0].start == 0
        batch = service.summarize_batch([ARTICLE, {"id": "b", "text": "   "}], style="short")
        assert isinstance(batch, BatchResponse) and batch.results[0].summary.short.startswith(answer.bullets[0])
        assert batch.results[1].id == "b" and batch.results[1].error.code == "empty_text"
        assert service.info()["engine"]["engine"] == "embedded" and service.ready()


def test_errors_carry_status_code_and_request_id(live_server):
    with Client(live_server) as service, pytest.raises(ServiceError) as caught:
        service.summarize("... !!!")
    assert (caught.value.status, caught.value.code) == (422, "no_sentences") and len(caught.value.request_id) == 32


def test_a_503_is_retried_after_its_retry_after():
    """A worker that holds one job: a second request is refused (503, Retry-After: 1), then retried."""
    server = start_server({"SUMMARIZER_BATCH_MAX_SIZE": "1", "SUMMARIZER_QUEUE_MAX": "0", "GUNICORN_THREADS": "8"})
    try:
        with Client(server.url, retries=0) as impatient, Client(server.url, retries=3) as patient:
            busy = threading.Thread(target=impatient.summarize, args=(" ".join([ARTICLE] * 250),))
            busy.start()
            time.sleep(0.05)  # the long article holds the worker's only place
            with pytest.raises(ServiceError) as refused:
                impatient.summarize(ARTICLE)
            assert (refused.value.status, refused.value.code, refused.value.retry_after) == (503, "overloaded", 1.0)
            started = time.monotonic()
            assert patient.summarize(ARTICLE).short  # refused while busy, then retried
            busy.join()
            assert time.monotonic() - started >= 1.0  # it waited for Retry-After
    finally:
        server.stop()


def test_a_request_past_its_timeout_is_a_clear_error(live_server):
    with Client(live_server, timeout=0.001) as hurried, pytest.raises(ServiceError, match="no answer in time"):
        hurried.summarize(" ".join([ARTICLE] * 200))


def test_an_unreachable_server_is_a_clear_error():
    with Client("http://127.0.0.1:9", timeout=2) as nowhere, pytest.raises(ServiceError, match="unreachable"):
        nowhere.summarize(ARTICLE)
