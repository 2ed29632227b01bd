"""`summarize`: summaries of files, globs or stdin, from the engine in process or from a server.

    summarize article.txt                      # the engine configured by SUMMARIZER_* (default: embedded)
    summarize 'news/*.txt' --jsonl > out.jsonl # globs are expanded here too; one JSON line per file
    cat article.txt | summarize --style short  # stdin (also `-`)
    summarize a.txt b.txt --server http://127.0.0.1:8000

Every input is checked as the API checks it (same limits, same error codes). Exit codes:
0 all summarized; 1 some inputs were refused (each reported on stderr); 2 bad usage or no
input; 3 the engine or server could not be used.
"""

from __future__ import annotations

import argparse
import glob
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from tqdm import tqdm

from service import __version__
from service.config import ConfigError, Settings
from service.domain import STYLES
from service.errors import ApiError
from service.protocol import ERRORS, EngineRef, SummarizeResponse

EXIT_REFUSED, EXIT_USAGE, EXIT_UNAVAILABLE = 1, 2, 3
LOCAL_BATCH = 16
Outcome = SummarizeResponse | ApiError


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        limit = Settings.from_env().max_body_bytes
    except ConfigError as error:
        print(f"summarize: {error}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    inputs = list(_inputs(args.paths, limit))
    if not inputs:
        print("summarize: no input (give files, globs, or text on stdin)", file=sys.stderr)
        return EXIT_USAGE
    options = {"style": args.style, "max_bullets": args.max_bullets, "short_max_words": args.short_max_words}
    options = {name: value for name, value in options.items() if value is not None}
    try:
        if all(isinstance(text, ApiError) for _, text in inputs):
            outcomes: list[Outcome] = [text for _, text in inputs]  # type: ignore[misc]
        else:
            outcomes = (_remote if args.server else _local)(args, inputs, options)
    except UnavailableError as error:
        print(f"summarize: {error}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    _print(args, [name for name, _ in inputs], outcomes)
    return EXIT_REFUSED if any(isinstance(o, ApiError) for o in outcomes) else 0


class UnavailableError(RuntimeError):
    """The engine could not be loaded, or the server not reached."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="summarize", description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("paths", nargs="*", help="files or globs; `-` or nothing for stdin")
    parser.add_argument("--style", choices=STYLES, help="short, bullets or both (default: the service's, both)")
    parser.add_argument("--max-bullets", type=int, help="upper bound on bullets")
    parser.add_argument("--short-max-words", type=int, help="word budget of the short summary")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="one JSON document with every answer")
    output.add_argument("--jsonl", action="store_true", help="one JSON line per input")
    parser.add_argument("--server", metavar="URL", help="call this server instead of loading the engine here")
    parser.add_argument("--api-key", help="API key for --server")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per request with --server")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def _inputs(paths: list[str], limit: int) -> Iterator[tuple[str, str | ApiError]]:
    """(name, text or the reason it cannot be read) for each input, globs expanded, stdin as `-`;
    an input larger than `limit` bytes (SUMMARIZER_MAX_BODY_BYTES, as in the API) is refused unread."""
    if not paths and not sys.stdin.isatty():
        piped = sys.stdin.buffer.read(limit + 1)
        if piped:
            yield "-", _decoded(piped, limit)
        return
    for path in paths:
        if path == "-":
            yield "-", _decoded(sys.stdin.buffer.read(limit + 1), limit)
            continue
        matches = sorted(glob.glob(path, recursive=True)) if glob.has_magic(path) else [path]
        if not matches:
            yield path, ApiError(400, "not_found", "no file matches this pattern")
        for match in matches:
            try:
                with Path(match).open("rb") as file:
                    yield match, _decoded(file.read(limit + 1), limit)
            except OSError as error:
                yield match, ApiError(400, "unreadable", error.strerror or str(error))


def _decoded(raw: bytes, limit: int) -> str | ApiError:
    if len(raw) > limit:
        return ApiError(413, "payload_too_large", f"larger than {limit} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return ApiError(400, "invalid_encoding", f"not UTF-8 (byte {error.start})")


def _local(args: argparse.Namespace, inputs: list[tuple[str, str | ApiError]], options: dict) -> list[Outcome]:
    """The engine configured by the environment, in this process, in batches."""
    from transformers.utils import logging as transformers_logging

    from service.config import build_engine
    from service.domain import Job
    from service.protocol import RequestModels
    from service.schema import require_sentences, summary_response, validate_summarize
    from service.text import prepare

    transformers_logging.disable_progress_bar()  # the loading bar would mix with the output
    try:
        settings = Settings.from_env()
        engine = build_engine(settings)
    except ConfigError as error:
        raise UnavailableError(str(error)) from None
    models = RequestModels.for_settings(settings)
    reference = EngineRef(name=engine.name, model=engine.info().get("model"), version=__version__)
    outcomes: list[Outcome] = []
    with _bar(len(inputs)) as bar:
        for first in range(0, len(inputs), LOCAL_BATCH):
            started = time.perf_counter()
            prepared: list[Outcome | tuple] = []
            for _, text in inputs[first : first + LOCAL_BATCH]:
                try:
                    if isinstance(text, ApiError):
                        raise text
                    request = validate_summarize({"text": text, **options}, models, settings)
                    document = prepare(request.article.text)
                    require_sentences(document)
                    prepared.append((request, document))
                except ApiError as error:
                    prepared.append(error)
            ready = [item for item in prepared if isinstance(item, tuple)]
            summaries = iter(engine.summarize([Job(document, request.options) for request, document in ready]))
            for item in prepared:
                if isinstance(item, ApiError):
                    outcomes.append(item)
                    continue
                request, document = item
                summary = next(summaries)
                summary.warnings[:0] = request.article.warnings
                latency = (time.perf_counter() - started) * 1000
                outcomes.append(summary_response(summary, document, request.article.words, reference, latency))
            bar.update(len(prepared))
    return outcomes


def _remote(args: argparse.Namespace, inputs: list[tuple[str, str | ApiError]], options: dict) -> list[Outcome]:
    """A server's batch endpoint, as many documents per call as it takes."""
    from client import Client, ServiceError

    outcomes: list[Outcome | None] = [text if isinstance(text, ApiError) else None for _, text in inputs]
    readable = [(index, text) for index, (_, text) in enumerate(inputs) if isinstance(text, str)]
    try:
        with Client(args.server, api_key=args.api_key, timeout=args.timeout) as server, _bar(len(inputs)) as bar:
            bar.update(len(inputs) - len(readable))
            per_call = server.info()["limits"]["max_batch_documents"]
            for first in range(0, len(readable), per_call):
                chunk = readable[first : first + per_call]
                answer = server.summarize_batch([text for _, text in chunk], **options)
                for (index, _), item in zip(chunk, answer.results):
                    outcomes[index] = item.summary or ApiError(
                        ERRORS[item.error.code][0], item.error.code, item.error.message
                    )
                bar.update(len(chunk))
    except ServiceError as error:
        if error.status is not None and 400 <= error.status < 500:  # the whole call was refused: say why, per input
            return [o or ApiError(error.status, error.code or "refused", str(error)) for o in outcomes]
        raise UnavailableError(str(error)) from None
    return outcomes  # type: ignore[return-value]


def _bar(total: int) -> tqdm:
    """A progress bar on stderr for many inputs when it is a terminal."""
    return tqdm(total=total, unit="article", disable=total < 5 or not sys.stderr.isatty(), file=sys.stderr)


def _print(args: argparse.Namespace, names: list[str], outcomes: list[Outcome]) -> None:
    records = [_record(name, outcome) for name, outcome in zip(names, outcomes)]
    for name, outcome in zip(names, outcomes):
        if isinstance(outcome, ApiError):
            print(f"summarize: {name}: {outcome.code}: {outcome.message}", file=sys.stderr)
    if args.json:
        print(json.dumps(records if len(records) > 1 else records[0], ensure_ascii=False, indent=2))
    elif args.jsonl:
        for record in records:
            print(json.dumps(record, ensure_ascii=False))
    else:
        print("\n\n".join(_readable(name, outcome, len(names) > 1) for name, outcome in zip(names, outcomes)))


def _record(name: str, outcome: Outcome) -> dict:
    if isinstance(outcome, ApiError):
        return {"input": name, "error": {"code": outcome.code, "message": outcome.message}}
    return {"input": name, **outcome.model_dump(mode="json", exclude_unset=True)}


def _readable(name: str, outcome: Outcome, titled: bool) -> str:
    lines = [name] if titled else []
    if isinstance(outcome, ApiError):
        return "\n".join([*lines, f"  (not summarized: {outcome.code})"])
    if outcome.short is not None:
        lines.append(outcome.short)
    lines += [f"• {bullet}" for bullet in outcome.bullets or []]
    lines += [f"  (warning: {warning})" for warning in outcome.warnings]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
