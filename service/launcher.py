"""Start the service as `make serve` does, on a free loopback port, and wait until it is ready.

Used by the tests, the benchmarks and the docs checks: the real gunicorn server, never a stand-in.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from client import Client, ServiceError

REPO = Path(__file__).resolve().parents[1]
GUNICORN = [sys.executable, "-m", "gunicorn", "--config", "python:service.gunicorn_conf", "service.wsgi:app"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A server process whose output goes to a temporary file (a pipe would fill up and block it)."""

    url: str
    process: subprocess.Popen
    log: IO[str]

    @classmethod
    def launch(cls, command: list[str], env_overrides: dict[str, str] | None = None) -> Server:
        port = free_port()
        env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "HF_HUB_OFFLINE": "1", **(env_overrides or {})}
        log = tempfile.TemporaryFile(mode="w+")
        process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, text=True, start_new_session=True
        )
        return cls(f"http://127.0.0.1:{port}", process, log)

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()

    def wait_ready(self, deadline_s: float = 300) -> None:
        """Poll `/readyz` until it answers 200; raise with the server's output if it exits or times out."""
        try:
            with Client(self.url, timeout=5) as service:
                service.wait_ready(deadline_s, interval=0.3, alive=lambda: self.process.poll() is None)
        except ServiceError:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}: {self.output()[-4000:]}") from None
            self.stop()
            raise RuntimeError(f"server not ready in {deadline_s:.0f} s: {self.output()[-4000:]}") from None

    def stop(self) -> None:
        """Terminate the whole process group (make, gunicorn master and workers)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            self.process.wait(timeout=60)


def start_server(env_overrides: dict[str, str] | None = None, access_log: bool = True) -> Server:
    """Start gunicorn as `make serve` does and wait until it is ready."""
    command = GUNICORN if access_log else [*GUNICORN[:-1], "--access-logfile", "/dev/null", GUNICORN[-1]]
    server = Server.launch(command, env_overrides)
    server.wait_ready()
    return server
