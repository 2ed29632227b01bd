"""What a deployment expects at the edge: request ids, optional API keys, an optional CORS allow-list.

- Request ids: a client's `X-Request-Id` (1-128 letters, digits, `.`, `_`, `:`, `-`) is kept,
  otherwise one is made; it comes back in the response header and is in every log line.
- API keys (`SUMMARIZER_API_KEYS`): `/v1/*` then needs `Authorization: Bearer KEY` or
  `X-API-Key: KEY`, compared in constant time; `/healthz`, `/readyz`, `/metrics` and the
  page stay open. A missing or wrong key is `401 unauthorized`.
- CORS (`SUMMARIZER_CORS_ORIGINS`): browsers on the listed origins may call `/v1/*`
  (flask-cors); without the setting no CORS header is ever sent.
"""

from __future__ import annotations

import hmac
import re
import uuid

from flask import Flask, Response, g, request
from flask_cors import CORS

from service.config import Settings
from service.errors import ApiError
from service.logs import request_id

PROTECTED = "/v1/"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def install(app: Flask, settings: Settings) -> None:
    """Register the request id, API key and CORS handling on `app`."""
    keys = [key.strip().encode() for key in settings.api_keys.split(",") if key.strip()]
    origins = [origin.strip() for origin in settings.cors_origins.split(",") if origin.strip()]

    @app.before_request
    def _identify_and_authorize() -> None:
        given = request.headers.get("X-Request-Id", "")
        g.request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        g.request_id_token = request_id.set(g.request_id)
        if keys and request.path.startswith(PROTECTED) and request.method != "OPTIONS":
            _authorize(keys)

    @app.after_request
    def _return_request_id(response: Response) -> Response:
        response.headers["X-Request-Id"] = g.get("request_id", "")
        return response

    @app.teardown_request
    def _forget_request_id(_error: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            request_id.reset(token)

    if origins:
        CORS(
            app,
            resources={f"{PROTECTED}*": {"origins": origins}},
            allow_headers=["Content-Type", "Authorization", "X-API-Key", "X-Request-Id"],
            expose_headers=["X-Request-Id", "Retry-After"],
            max_age=600,
        )


def _authorize(keys: list[bytes]) -> None:
    """Raise 401 unless the request carries one of `keys`; every key is compared, in constant time."""
    scheme, _, bearer = request.headers.get("Authorization", "").partition(" ")
    given = (bearer.strip() if scheme.lower() == "bearer" else "") or request.headers.get("X-API-Key", "")
    offered = given.encode("utf-8", "replace")
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(offered, key)
    if not matched:
        raise ApiError(
            401,
            "unauthorized",
            "A valid API key is required (Authorization: Bearer KEY).",
            {"WWW-Authenticate": "Bearer"},
        )
