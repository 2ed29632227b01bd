"""gunicorn's threaded worker (`gthread`), made safe to expose: `worker_class` in `gunicorn_conf.py`.

- **Whole requests only.** gthread gives a connection a thread as soon as a byte
  arrives, and the thread then blocks on a slow client. Here a connection reaches a
  thread only once its headers and the body they announce have arrived: until then
  each batch of bytes is read without blocking and the connection goes back to the
  poller. Slow clients hold a socket, never a request thread; a request not complete
  within `SUMMARIZER_READ_TIMEOUT_S` of its first byte gets `408`, and a client silent for
  gunicorn's `keepalive` seconds is closed.
- **JSON errors.** Requests gunicorn itself refuses (bad request line, 414, 431,
  obsolete line folding, bad Content-Length, ...) get the API's JSON error body.
- **No lingering in the event loop.** gthread closes a finished connection gracefully
  from its main thread, reading whatever the client still sends for up to 2 s, so a
  client that keeps sending stalls every other connection; here only the bytes already
  received are drained, without waiting.
- **Draining.** On SIGTERM the worker keeps accepting connections: `/readyz` answers
  503 at once and new summaries are refused with 503, requests in flight finish, and
  the worker exits once none is left (gunicorn's `graceful_timeout` still bounds it).

This builds on gunicorn 27's gthread internals (`TConn`, the deferral sentinel, the
parser's buffer); `tests/test_server.py` exercises each behaviour on a real server.
"""

from __future__ import annotations

import errno
import json
import os
import re
import socket
import threading
import time

from gunicorn.http.errors import (
    ExpectationFailed,
    ForbiddenProxyRequest,
    InvalidResponseHeader,
    InvalidResponseHeaderName,
    LimitRequestHeaders,
    LimitRequestLine,
    ParseException,
    UnsupportedTransferCoding,
)
from gunicorn.workers import gthread

from service.config import Settings

DRAIN_MIN_S = 1.0  # /readyz says 503 at least this long before the worker exits
HEADER_ALLOWANCE = 65_536  # buffered beyond the body limit before the parser is left to refuse the request
_END_OF_HEADERS = re.compile(rb"\r?\n\r?\n")
_ERRORS = {  # gunicorn's refusals, as (status, reason, code)
    LimitRequestLine: (414, "URI Too Long", "uri_too_long"),
    LimitRequestHeaders: (431, "Request Header Fields Too Large", "headers_too_large"),
    UnsupportedTransferCoding: (501, "Not Implemented", "unsupported_transfer_coding"),
    ExpectationFailed: (417, "Expectation Failed", "expectation_failed"),
    ForbiddenProxyRequest: (403, "Forbidden", "forbidden"),
}


class Connection(gthread.TConn):
    """A gthread connection whose graceful close never waits for the client."""

    def close(self, graceful: bool = False) -> None:
        if graceful:
            try:
                self.sock.shutdown(socket.SHUT_WR)
                self.sock.setblocking(False)
                self.sock.recv(65_536)  # unread bytes would make the close a reset that truncates the answer
            except OSError:
                pass
        super().close(graceful=False)


class BufferingWorker(gthread.ThreadWorker):
    """gthread that dispatches whole requests, answers its own errors in JSON and drains on SIGTERM."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        settings = Settings.from_env()
        self.buffer_limit = settings.max_body_bytes + HEADER_ALLOWANCE
        self.read_timeout = settings.read_timeout_s
        self.busy = 0  # requests being handled by threads
        self._busy_lock = threading.Lock()
        self.draining = False

    def accept(self, listener):
        try:
            client, address = listener.accept()
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        self.enqueue_req(Connection(self.cfg, client, address, listener.getsockname()))

    def handle(self, conn):
        if not self.cfg.is_ssl:
            conn.init()  # the parser, whose buffer collects the request
            state = self._collect(conn)
            if state is not True:
                return state
        with self._busy_lock:
            self.busy += 1
        try:
            return super().handle(conn)
        finally:
            with self._busy_lock:
                self.busy -= 1

    def _collect(self, conn):
        """True once the request is whole (or the peer finished sending); else defer, 408 or close."""
        buffer = conn.parser.unreader.buf
        buffer.seek(0, os.SEEK_END)
        conn.sock.setblocking(False)
        closed = False
        while buffer.tell() <= self.buffer_limit:
            try:
                chunk = conn.sock.recv(65_536)
            except BlockingIOError:
                break
            except OSError:
                return False
            if not chunk:
                closed = True
                break
            buffer.write(chunk)
        data = buffer.getvalue()
        if closed or request_complete(data, self.buffer_limit):
            conn.started_at = None
            return True if data else False
        conn.started_at = getattr(conn, "started_at", None) or time.monotonic()
        if time.monotonic() - conn.started_at > self.read_timeout:
            _send_json(conn.sock, 408, "Request Timeout", "request_timeout", "The request did not arrive in time.")
            return False
        return gthread._DEFER

    def handle_error(self, req, client, addr, exc):
        status, reason, code = _refusal(exc)
        if status < 500:
            self.log.warning("Invalid request from ip=%s: %s", (addr or ("",))[0], exc)
            message = str(exc) or reason
        else:
            self.log.exception("Error handling request")
            message = "The server failed to process the request; see the server log."
        _send_json(client, status, reason, code, message)

    def handle_exit(self, sig, frame):
        if self.alive and not self.draining:
            self.draining = True
            from service import runtime  # imported here: the master loads this module and must not load torch

            runtime.begin_draining()
            threading.Thread(target=self._exit_when_idle, name="drain", daemon=True).start()

    def _exit_when_idle(self) -> None:
        started = time.monotonic()
        while self.busy or time.monotonic() - started < DRAIN_MIN_S:
            time.sleep(0.05)
        super().handle_exit(None, None)


def request_complete(data: bytes, limit: int) -> bool:
    """Whether `data` holds a whole HTTP/1 request: its headers and the body they announce.

    Also true once `data` passes `limit` or the request is malformed: then gunicorn's
    parser and the application refuse it from what has arrived.
    """
    end = _END_OF_HEADERS.search(data)
    if not end:
        return len(data) > limit
    head, body = data[: end.start()].lower(), data[end.end() :]
    if len(body) > limit:
        return True
    if b"chunked" in _header(head, b"transfer-encoding"):
        return _chunked_complete(body)
    length = _header(head, b"content-length").strip()
    return not length.isdigit() or len(body) >= int(length) or int(length) > limit


def _header(head: bytes, name: bytes) -> bytes:
    """The value of the first header `name` (lower-cased head), or b''."""
    for line in head.split(b"\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip() == name:
            return value
    return b""


def _chunked_complete(body: bytes) -> bool:
    """Whether a chunked body has reached its last chunk and the blank line after the trailers."""
    position = 0
    while (end := body.find(b"\r\n", position)) >= 0:
        try:
            size = int(body[position:end].split(b";")[0].strip(), 16)
        except ValueError:
            return True  # malformed: the parser refuses it
        if size == 0:
            return body.find(b"\r\n\r\n", end) >= 0
        position = end + 2 + size + 2
    return False


def _refusal(exc: Exception) -> tuple[int, str, str]:
    for kind, refusal in _ERRORS.items():
        if isinstance(exc, kind):
            return refusal
    if isinstance(exc, ParseException) and not isinstance(exc, (InvalidResponseHeader, InvalidResponseHeaderName)):
        return 400, "Bad Request", "bad_request"
    return 500, "Internal Server Error", "internal_error"


def _send_json(sock: socket.socket, status: int, reason: str, code: str, message: str) -> None:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
        f"X-Content-Type-Options: nosniff\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    try:
        sock.setblocking(True)
        sock.settimeout(1.0)
        sock.sendall(head.encode("latin-1") + body)
    except OSError:
        pass  # the client is gone
