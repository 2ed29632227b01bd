"""`python -m corpus run INPUT OUTPUT`: summarize every record of a JSONL or CSV corpus into a JSONL of results.

    python -m corpus run articles.jsonl summaries.jsonl                  # embedded engine, in process
    python -m corpus run articles.csv out.jsonl --field article=text --style short
    python -m corpus run articles.jsonl out.jsonl --runner ray --actors 2 # Ray Data actor pool (the ray extra)
    python -m corpus run articles.jsonl out.jsonl --engine abstractive --model ./bart-large-cnn

One output line per record, in the shape of the HTTP API's answer with the record's id in
front, or `{"id", "error": {"code", "message"}}` when the API would refuse the record (same
limits and codes). A rerun skips the ids already in OUTPUT, so an interrupted job resumes;
each batch is flushed to disk before the next. The engine and the limits come from the
`SUMMARIZER_*` settings, as for the server; --engine, --model and --device override them.
Exit codes: 0 every record summarized; 1 some records were refused or some input lines
could not be read (each reported on stderr); 2 bad usage, input or output; 3 the engine or
Ray could not be used; 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from tqdm import tqdm

from corpus.results import ResultFile, ResultFileError
from corpus.summarizer import Item, Result, RunnerError, check_options
from eval.records import DataError, Fields, load
from service.config import ConfigError, Settings
from service.domain import STYLES
from service.errors import ApiError

EXIT_REFUSED, EXIT_USAGE, EXIT_UNAVAILABLE, EXIT_INTERRUPTED = 1, 2, 3, 130
DEFAULT_BATCH = 16
RUNNERS = ("local", "ray")


class UsageError(ValueError):
    """A bad argument, input or output file: exit 2 with the message."""


class UnavailableError(RuntimeError):
    """The engine or Ray cannot be used: exit 3 with the message."""


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except UsageError as error:
        print(f"corpus: {error}", file=sys.stderr)
        return EXIT_USAGE
    except UnavailableError as error:
        print(f"corpus: {error}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except KeyboardInterrupt:
        print(f"corpus: interrupted; every finished batch is in {args.output}: rerun to resume", file=sys.stderr)
        return EXIT_INTERRUPTED


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m corpus", description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    run = commands.add_parser("run", help="summarize a corpus", description=__doc__.split("\n\n", 1)[1])
    run.formatter_class = argparse.RawDescriptionHelpFormatter
    run.add_argument("input", type=Path, metavar="INPUT", help="JSONL, or CSV/TSV with a header row")
    run.add_argument("output", type=Path, metavar="OUTPUT", help="JSONL of results (appended to when it exists)")
    run.add_argument("--runner", choices=RUNNERS, default="local", help="in this process, or Ray (default local)")
    run.add_argument("--engine", choices=("embedded", "abstractive"), help="default: SUMMARIZER_ENGINE, embedded")
    run.add_argument("--model", help="model directory or cached hub id (abstractive engine)")
    run.add_argument("--device", help="auto, cpu or cuda[:N] (default: the engine's, auto)")
    run.add_argument("--style", choices=STYLES, help="short, bullets or both (default both)")
    run.add_argument("--max-bullets", type=int, help="upper bound on bullets")
    run.add_argument("--short-max-words", type=int, help="word budget of the short summary")
    batch_help = f"records per engine call (default {DEFAULT_BATCH})"
    run.add_argument("--batch-size", type=_positive, default=DEFAULT_BATCH, help=batch_help)
    run.add_argument(
        "--field", action="append", default=[], metavar="KEY=NAME", help="input field names: id, article, title"
    )
    run.add_argument("--limit", type=_positive, help="only the first N records of INPUT")
    ray_group = run.add_argument_group("Ray (--runner ray)")
    ray_group.add_argument("--actors", type=_positive, help="engines in the pool (default: one per GPU, else 1)")
    ray_group.add_argument("--ray-address", help="join this Ray cluster instead of starting one here")
    return parser


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def _run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    options = {"style": args.style, "max_bullets": args.max_bullets, "short_max_words": args.short_max_words}
    options = {name: value for name, value in options.items() if value is not None}
    try:
        check_options(options, settings)
    except ApiError as error:
        raise UsageError(f"{error.code}: {error.message}") from None
    runner = _runner(args, settings, options)  # before any file is touched: Ray may be missing
    items, skipped = _items(args)
    for line in skipped:
        print(f"corpus: skipped {line}", file=sys.stderr)
    try:
        output = ResultFile(args.output)
    except (ResultFileError, OSError) as error:
        raise UsageError(str(error)) from None
    with output:
        if output.cut:
            print(f"corpus: removed a cut-off last line ({output.cut} bytes) from {args.output}", file=sys.stderr)
        pending = [item for item in items if item.id not in output.done]
        started = time.perf_counter()
        errors = _write(runner(pending), output, len(pending)) if pending else Counter()
        elapsed = time.perf_counter() - started
    refused = sum(errors.values())
    print(
        f"corpus: {len(items)} records: {len(pending) - refused} summarized, {refused} refused"
        + (f" ({', '.join(f'{code}: {n}' for code, n in errors.most_common())})" if errors else "")
        + f", {len(items) - len(pending)} already in {args.output}; {len(skipped)} input lines skipped"
        + (f"; {elapsed:.1f} s, {len(pending) / elapsed:.2f} records/s" if pending else ""),
        file=sys.stderr,
    )
    return EXIT_REFUSED if refused or skipped else 0


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {"engine": args.engine, "model": args.model, "device": args.device}
    try:
        settings = Settings.from_env()
        changed = {name: value for name, value in overrides.items() if value is not None}
        if changed:
            engine = changed.get("engine", "" if args.model else settings.engine)  # --model alone: abstractive
            settings = dataclasses.replace(settings, **{**changed, "engine": engine})
            settings.check()
    except ConfigError as error:
        raise UsageError(str(error)) from None
    if args.model and settings.engine != "abstractive":
        raise UsageError("--model names an abstractive model; the embedded engine ships its own")
    return settings


def _items(args: argparse.Namespace) -> tuple[list[Item], list[str]]:
    """The records to summarize (the first --limit), and the input lines that could not be read."""
    if args.output.exists() and args.input.exists() and args.output.samefile(args.input):
        raise UsageError("OUTPUT is INPUT: results would be appended to the corpus")
    try:
        data = load(args.input, Fields.parse(args.field))
    except DataError as error:
        raise UsageError(str(error)) from None
    records = data.records[: args.limit]
    return [Item(record.id, record.article, record.title) for record in records], data.skipped


def _runner(args: argparse.Namespace, settings: Settings, options: dict) -> Callable[[list[Item]], Iterator]:
    """The chosen runner as a function of the items to summarize."""
    if args.runner == "local":
        from corpus import local

        return lambda items: _loaded(local.results(items, settings, options, args.batch_size))
    try:
        from corpus import ray_runner
    except ImportError as error:
        raise UnavailableError(
            f"--runner ray needs Ray Data ({error}): pip install 'article-summarizer[ray]'"
        ) from None
    return lambda items: _loaded(
        ray_runner.results(items, settings, options, args.batch_size, args.actors, args.ray_address)
    )


def _loaded(batches: Iterator[list[Result]]) -> Iterator[list[Result]]:
    """The runner's batches; an engine that cannot be loaded, or a Ray failure, is `UnavailableError`."""
    try:
        yield from batches
    except RunnerError as error:
        raise UnavailableError(str(error)) from None


def _write(batches: Iterator[list[Result]], output: ResultFile, total: int) -> Counter:
    """Write each batch as it comes, with a progress bar on a terminal; the refusals by code."""
    errors: Counter = Counter()
    with tqdm(total=total, unit="record", file=sys.stderr, disable=not sys.stderr.isatty()) as bar:
        for batch in batches:
            output.write(batch)
            errors.update(result.error for result in batch if result.error)
            bar.update(len(batch))
    return errors
