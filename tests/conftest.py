"""Shared fixtures: one real app (embedded model) per session, and a real gunicorn server."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from service.app import create_app  # noqa: E402
from service.config import Settings  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, process: subprocess.Popen, deadline_s: float = 120) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {process.stdout.read()}")
        try:
            if requests.get(f"{url}/readyz", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError("server did not become ready in time")


def start_gunicorn(env_overrides: dict[str, str] | None = None) -> tuple[str, subprocess.Popen]:
    port = free_port()
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), **(env_overrides or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "python:service.gunicorn_conf", "service.wsgi:app"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    return f"http://127.0.0.1:{port}", process


@pytest.fixture(scope="session")
def live_server():
    """Base URL of a real gunicorn server running the embedded engine on a free loopback port."""
    url, process = start_gunicorn()
    try:
        wait_ready(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
