"""Shared fixtures: one real app (embedded model) per session, and a real gunicorn server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from service.app import create_app  # noqa: E402
from service.config import Settings  # noqa: E402
from service.launcher import start_server  # noqa: E402

SAMPLES = Path(__file__).resolve().parent / "samples"


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings(engine="embedded", max_body_bytes=200_000, max_input_words=5_000)


@pytest.fixture(scope="session")
def app(settings):
    return create_app(settings)


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def engine(app):
    return app.extensions["summarizer"].engine


@pytest.fixture(scope="session")
def huawei_text() -> str:
    return (SAMPLES / "scraped_article_huawei.txt").read_text()


@pytest.fixture(scope="session")
def live_server():
    """Base URL of a real gunicorn server running the embedded engine on a free loopback port."""
    server = start_server()
    try:
        yield server.url
    finally:
        server.stop()


SLOW_FIXTURES = {"live_server", "browser"}  # a real gunicorn server, a real Chromium


def pytest_collection_modifyitems(items):
    """Tests on a real server or browser are slow (start-up, subprocesses): `make test-fast` leaves them out."""
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
