"""The "try it" page: `GET /` and its static files (service/static/), under a strict CSP.

Flask serves an app's `static/` folder at `/static/`; the app is created in this package, so
that folder is service/static/. The security headers go on every response of the app: the
JSON API gains nothing from being framed or sniffed either.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app

# No inline scripts or styles, nothing from other origins; the page only talks to its own API.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

web = Blueprint("web", __name__)


@web.get("/")
def index() -> Response:
    return current_app.send_static_file("index.html")


@web.after_app_request
def _security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
