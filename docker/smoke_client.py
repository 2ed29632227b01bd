"""HTTP checks of a running container through the repository's client (docker/container-test.sh).

    .venv/bin/python docker/smoke_client.py BASE_URL ARTICLE_FILE KEYWORD

1. The article summarized with style "both": a short summary that mentions KEYWORD, a
   non-empty list of bullets, and no scraper debris ("Like this:") in either.
2. An empty text is refused with the API's JSON error (400 empty_text).
3. /v1/info answers; /readyz is ready.
Prints what it saw; exits 1 with the reasons when any check fails.
"""

from __future__ import annotations

import sys
import time

from client import Client, ServiceError

failures: list[str] = []


def check(ok: bool, what: str) -> None:
    print(f"  {'ok  ' if ok else 'FAIL'} {what}")
    if not ok:
        failures.append(what)


def main(base: str, article_path: str, keyword: str) -> int:
    with open(article_path, encoding="utf-8") as f:
        article = f.read()
    with Client(base, timeout=120, retries=0) as service:
        print(f"summarize {len(article.split())} words from {article_path}")
        started = time.monotonic()
        answer = service.summarize(article, style="both")
        print(f"  answered in {time.monotonic() - started:.2f} s\n  short: {answer.short!r}")
        for bullet in answer.bullets or []:
            print(f"  - {bullet!r}")
        check(bool(answer.short and answer.short.strip()), "short summary is a non-empty string")
        check(keyword.casefold() in (answer.short or "").casefold(), f"short summary mentions {keyword!r}")
        check(bool(answer.bullets) and all(b.strip() for b in answer.bullets or []), "bullets are non-empty strings")
        check("like this:" not in " ".join([answer.short or "", *(answer.bullets or [])]).casefold(), "no debris")

        print("bad request")
        try:
            service.summarize("  ", style="short")
            check(False, "empty text is refused")
        except ServiceError as error:
            print(f"  empty text -> {error}")
            check(error.status == 400 and error.code == "empty_text", "empty text gets 400 empty_text in JSON")

        info = service.info()
        print(f"  info: engine {info['engine'].get('engine')}, model {info['engine'].get('model')}")
        check(service.ready(), "/readyz answers 200")
    if failures:
        print(f"{len(failures)} HTTP check(s) failed: {'; '.join(failures)}")
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__.split("\n\n")[1])
    sys.exit(main(*sys.argv[1:]))
