"""HTTP checks of a running container, used by docker/container-test.sh (standard library only).

    python3 smoke_client.py BASE_URL ARTICLE_FILE KEYWORD

1. POST the article to /v1/summarize with style "both": 200, a non-empty short summary
   that mentions KEYWORD, a non-empty list of non-empty string bullets, and no scraper
   debris ("Like this:") in the summaries.
2. Bad requests get a JSON error body {"error": {"code", "message"}} with the right status:
   malformed JSON -> 400, empty text -> 400 or 422.
3. GET /healthz and /v1/info answer 200 with JSON.
Prints what it saw; exits 1 with the reasons when any check fails.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request

failures: list[str] = []


def check(ok: bool, what: str) -> None:
    print(f"  {'ok  ' if ok else 'FAIL'} {what}")
    if not ok:
        failures.append(what)


def request(url: str, body: bytes | None = None, timeout: float = 120) -> tuple[int, object]:
    """(status, parsed JSON body or the raw text when it is not JSON)."""
    req = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode("utf-8", "replace")


def is_json_error(body: object) -> bool:
    error = body.get("error") if isinstance(body, dict) else None
    return isinstance(error, dict) and bool(error.get("code")) and bool(error.get("message"))


def main(base: str, article_path: str, keyword: str) -> int:
    with open(article_path, encoding="utf-8") as f:
        article = f.read()

    print(f"POST {base}/v1/summarize ({len(article.split())} words from {article_path})")
    started = time.monotonic()
    status, body = request(f"{base}/v1/summarize", json.dumps({"text": article, "style": "both"}).encode())
    print(f"  answered {status} in {time.monotonic() - started:.2f} s")
    check(status == 200, "summarize answers 200")
    body = body if isinstance(body, dict) else {}
    short, bullets = body.get("short"), body.get("bullets")
    print(f"  short: {short!r}")
    for bullet in bullets if isinstance(bullets, list) else []:
        print(f"  - {bullet!r}")
    check(isinstance(short, str) and bool(short.strip()), "short summary is a non-empty string")
    check(isinstance(short, str) and keyword.casefold() in short.casefold(), f"short summary mentions {keyword!r}")
    check(
        isinstance(bullets, list) and bool(bullets) and all(isinstance(b, str) and b.strip() for b in bullets),
        "bullets is a non-empty list of non-empty strings",
    )
    summaries = json.dumps([short, bullets]).casefold()
    check("like this:" not in summaries, "no 'Like this:' debris in the summaries")

    print("bad requests")
    status, body = request(f"{base}/v1/summarize", b'{"text": "unterminated')
    print(f"  malformed JSON -> {status} {body}")
    check(status == 400 and is_json_error(body), "malformed JSON gets 400 with a JSON error")
    status, body = request(f"{base}/v1/summarize", json.dumps({"text": "  ", "style": "short"}).encode())
    print(f"  empty text -> {status} {body}")
    check(status in (400, 422) and is_json_error(body), "empty text gets 400/422 with a JSON error")

    for path in ("/healthz", "/v1/info"):
        status, body = request(f"{base}{path}")
        check(status == 200 and isinstance(body, dict), f"GET {path} answers 200 with JSON")
        if path == "/v1/info":
            print(f"  info: {json.dumps(body)[:400]}")

    if failures:
        print(f"{len(failures)} HTTP check(s) failed: {'; '.join(failures)}")
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__.split("\n\n")[1])
    sys.exit(main(*sys.argv[1:]))
