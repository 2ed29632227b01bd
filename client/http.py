"""The HTTP client: one connection pool, typed answers, retries on 503 that honour `Retry-After`."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx
from pydantic import BaseModel, ValidationError

from service.protocol import BatchResponse, SummarizeResponse

RETRY_STATUS = 503
DEFAULT_BACKOFF_S = 1.0


class ServiceError(RuntimeError):
    """The service could not be reached, or answered with an error (`status` and `code` say which)."""

    def __init__(
        self,
        message: str,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message)
        self.status, self.code, self.request_id, self.retry_after = status, code, request_id, retry_after


class Client:
    """A client of one service; thread-safe, so one instance can serve many threads."""

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None = None,
        timeout: float = 60.0,
        retries: int = 3,
        max_retry_wait: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ):
        """`timeout`: seconds for each HTTP request; `retries`: extra attempts after a 503, each after its
        `Retry-After` (at most `max_retry_wait` seconds)."""
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.url = url.rstrip("/")
        self.retries, self.max_retry_wait = retries, max_retry_wait
        self._http = httpx.Client(base_url=self.url, timeout=timeout, headers=headers, transport=transport)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def summarize(
        self,
        text: str,
        *,
        title: str | None = None,
        style: str | None = None,
        max_bullets: int | None = None,
        short_max_words: int | None = None,
    ) -> SummarizeResponse:
        """The summary of one article; options left out take the service's defaults."""
        body = _without_none(
            text=text, title=title, style=style, max_bullets=max_bullets, short_max_words=short_max_words
        )
        return self._post("/v1/summarize", body, SummarizeResponse)

    def summarize_batch(
        self,
        documents: Sequence[str | Mapping[str, Any]],
        *,
        style: str | None = None,
        max_bullets: int | None = None,
        short_max_words: int | None = None,
    ) -> BatchResponse:
        """Several articles in one call: each a text, or a mapping with `text` and optional `id` and `title`."""
        items = [{"text": document} if isinstance(document, str) else dict(document) for document in documents]
        body = _without_none(documents=items, style=style, max_bullets=max_bullets, short_max_words=short_max_words)
        return self._post("/v1/summarize/batch", body, BatchResponse)

    def info(self) -> dict[str, Any]:
        """The service's engine, limits and batching settings (`GET /v1/info`)."""
        return self._send(lambda: self._http.get("/v1/info")).json()

    def metrics(self) -> str:
        """The worker's Prometheus metrics (`GET /metrics`), as text."""
        return self._send(lambda: self._http.get("/metrics")).text

    def ready(self) -> bool:
        """Whether the service answers `GET /readyz` with 200 now."""
        try:
            return self._http.get("/readyz").status_code == 200
        except httpx.HTTPError:
            return False

    def wait_ready(self, timeout: float = 60.0, interval: float = 0.5, alive: Callable[[], bool] | None = None) -> None:
        """Poll `/readyz` until it answers 200, or raise `ServiceError`; `alive()` False stops the wait early."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if alive is not None and not alive():
                raise ServiceError(f"{self.url} stopped before it was ready")
            if self.ready():
                return
            time.sleep(interval)
        raise ServiceError(f"{self.url} was not ready within {timeout:.0f} s")

    def _post(self, path: str, body: dict[str, Any], answer: type[BaseModel]) -> Any:
        response = self._send(lambda: self._http.post(path, json=body))
        try:
            return answer.model_validate(response.json())
        except (ValueError, ValidationError) as error:
            raise ServiceError(f"{path}: the answer does not match the API: {error}", response.status_code) from None

    def _send(self, request: Callable[[], httpx.Response]) -> httpx.Response:
        """The answer of a successful request; a 503 is retried after its Retry-After, other errors raise."""
        for attempt in range(self.retries + 1):
            try:
                response = request()
            except httpx.TimeoutException as error:
                raise ServiceError(f"{self.url}: no answer in time ({type(error).__name__})") from None
            except httpx.HTTPError as error:
                raise ServiceError(f"{self.url} unreachable ({error})") from None
            if response.status_code != RETRY_STATUS or attempt == self.retries:
                break
            time.sleep(min(_retry_after(response), self.max_retry_wait))
        if response.is_success:
            return response
        raise _error(response)


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(float(response.headers.get("Retry-After", DEFAULT_BACKOFF_S)), 0.0)
    except ValueError:  # an HTTP date: not sent by this service
        return DEFAULT_BACKOFF_S


def _error(response: httpx.Response) -> ServiceError:
    """The service's JSON error as an exception: `HTTP 413 text_too_long: ...`."""
    request_id = response.headers.get("X-Request-Id")
    try:
        error = response.json()["error"]
        code, message = error["code"], error["message"]
    except (ValueError, KeyError, TypeError):
        code, message = None, response.text[:200]
    retry_after = _retry_after(response) if "Retry-After" in response.headers else None
    message = f"HTTP {response.status_code} {code or ''}: {message}"
    return ServiceError(message, response.status_code, code, request_id, retry_after)


def _without_none(**fields: Any) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value is not None}
