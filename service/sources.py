"""Where an article's text comes from: the text sent, a web page (its main content), or a URL (fetched).

A page's text is what `service.html.extract` finds (a paragraph a line); the answer then
returns that text, and the grounding offsets point into it. Fetching (`service.fetch`)
happens only when `SUMMARIZER_FETCH_URLS` is on. A page that cannot be used, or a fetch
that is refused, is an `ApiError` with the code and status of `service.protocol.ERRORS`.
"""

from __future__ import annotations

import time

from service import fetch, html
from service.config import Settings
from service.errors import ApiError
from service.protocol import ERRORS

PAGE_TYPES = ("text/html", "application/xhtml+xml")


def article(source: str, value: str, settings: Settings, deadline: float | None = None) -> tuple[str, str | None]:
    """(text, title found on the page) of a `text`, `html` or `url` input; a fetch ends by `deadline` (monotonic)."""
    if source == "text":
        return value, None
    if source == "html":
        return _extracted(value, None, settings)
    try:
        page = fetch.fetch(
            value,
            max_bytes=settings.max_page_bytes,
            timeout=_fetch_timeout(settings, deadline),
            allow=fetch.AllowList.parse(settings.fetch_allow),
        )
    except fetch.FetchRefused as refused:
        raise ApiError(refused.status, refused.code, refused.message) from None
    if page.content_type not in PAGE_TYPES:  # text/plain: the page is the article
        return html.decode(page.body, page.charset), None
    return _extracted(page.body, page.charset, settings)


def _fetch_timeout(settings: Settings, deadline: float | None) -> float:
    """`fetch_timeout_s`, or less when the request's own deadline comes first."""
    if deadline is None:
        return settings.fetch_timeout_s
    left = deadline - time.monotonic()
    if left <= 0:
        raise ApiError(ERRORS["fetch_timeout"][0], "fetch_timeout", "The request's time ran out before the fetch.")
    return min(settings.fetch_timeout_s, left)


def decode_page(body: bytes, charset: str | None) -> str:
    """A `text/html` request body as text (byte order mark, declared charset, `<meta charset>` or detection)."""
    return html.decode(body, charset)


def _extracted(page: str | bytes, charset: str | None, settings: Settings) -> tuple[str, str | None]:
    try:
        found = html.extract(page, charset, max_bytes=settings.max_page_bytes)
    except html.PageError as error:
        raise ApiError(ERRORS[error.code][0], error.code, f"{str(error).capitalize()}.") from None
    return found.text, found.title
