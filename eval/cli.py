"""Command line: `python -m eval run ...` and `python -m eval compare DIR1 DIR2`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from client import ServiceError
from eval import compare as comparison
from eval import report
from eval.pipeline import RunConfig, run
from eval.records import BUNDLED_SAMPLE, DataError, Fields
from eval.scoring import BY_KEY, HEADLINE


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except (DataError, ServiceError, comparison.CompareError, ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m eval", description="Score summaries against references, side by side with published systems."
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    run_cmd = commands.add_parser(
        "run",
        help="summarize and score a data set",
        description="Summarize and score a data set; writes predictions.jsonl, metrics.json, report.md and plots "
        "into --out.",
    )
    run_cmd.set_defaults(handler=_run)
    data = run_cmd.add_argument_group("data")
    data.add_argument(
        "--data",
        default=str(BUNDLED_SAMPLE),
        help="JSONL or CSV file, or hf:NAME[:CONFIG][@SPLIT] (default: the bundled sample)",
    )
    data.add_argument(
        "--field",
        action="append",
        default=[],
        metavar="KEY=NAME",
        help="field names: id, article, references (comma-separated for several), systems, title",
    )
    data.add_argument("--strict", action="store_true", help="stop at the first malformed line instead of skipping it")
    data.add_argument("--limit", type=_positive, help="score a seeded random sample of N records (file order kept)")
    data.add_argument("--seed", type=int, default=0, help="seed for --limit and the bootstrap (default 0)")
    systems = run_cmd.add_argument_group("systems")
    systems.add_argument(
        "--engine",
        action="append",
        default=[],
        metavar="NAME",
        help="embedded, abstractive (with --model), lead-K or lead-K-raw; repeatable",
    )
    systems.add_argument("--model", help="model path (or .gguf file) for --engine abstractive")
    systems.add_argument(
        "--dtype", default="auto", help="weights' dtype for --engine abstractive: auto (fp32 on CPU), fp32, bf16, fp16"
    )
    systems.add_argument("--url", help="score a running service at this base URL, e.g. http://127.0.0.1:8000")
    systems.add_argument("--concurrency", type=_positive, default=4, help="concurrent requests with --url (default 4)")
    systems.add_argument("--name", default="service", help="system name for --url results (default service)")
    systems.add_argument(
        "--style",
        choices=("bullets", "short", "both"),
        default="bullets",
        help="what to ask for; both scores each as its own system",
    )
    systems.add_argument(
        "--max-bullets",
        type=_positive,
        default=RunConfig.max_bullets,
        help="upper bound on bullets (default: the service's, %(default)s)",
    )
    systems.add_argument(
        "--short-max-words",
        type=_positive,
        default=RunConfig.short_max_words,
        help="word budget of the short summary (default: the service's, %(default)s)",
    )
    systems.add_argument(
        "--lead", type=int, default=3, metavar="K", help="add the lead-K baseline (default 3; 0 leaves it out)"
    )
    systems.add_argument("--stored", default="all", help="stored systems to score: all, none, or comma-separated names")
    systems.add_argument("--batch-size", type=_positive, default=16, help="jobs per engine call (default 16)")
    scoring = run_cmd.add_argument_group("scoring and output")
    scoring.add_argument("--out", type=Path, required=True, help="run directory to write")
    scoring.add_argument("--resamples", type=_positive, default=1000, help="bootstrap resamples (default 1000)")
    scoring.add_argument(
        "--support-threshold",
        type=float,
        default=0.6,
        help="cosine a summary sentence needs to count as supported (default 0.6)",
    )
    scoring.add_argument(
        "--fail-under",
        action="append",
        default=[],
        metavar="METRIC=VALUE",
        help="exit 1 when an evaluated system's mean is below VALUE, e.g. rouge1=30",
    )

    cmp = commands.add_parser(
        "compare",
        help="paired bootstrap comparison of two runs",
        description="Paired bootstrap tests between the systems of two run directories, on the articles both scored.",
    )
    cmp.set_defaults(handler=_compare)
    cmp.add_argument("first", type=Path, metavar="DIR1")
    cmp.add_argument("second", type=Path, metavar="DIR2")
    cmp.add_argument(
        "--pair",
        nargs=2,
        action="append",
        default=[],
        metavar=("SYSTEM1", "SYSTEM2"),
        help="compare SYSTEM1 of DIR1 with SYSTEM2 of DIR2 (default: same-named systems)",
    )
    cmp.add_argument("--resamples", type=_positive, default=1000)
    cmp.add_argument("--seed", type=int, default=0)
    cmp.add_argument("--out", type=Path, help="also write the markdown here")
    return parser


def _run(args: argparse.Namespace) -> int:
    gates = _gates(args.fail_under)
    if gates and not (args.engine or args.url):
        raise ValueError("--fail-under needs a system to gate: --engine or --url")
    cfg = RunConfig(
        out=args.out,
        data=args.data,
        fields=Fields.parse(args.field),
        strict=args.strict,
        engines=tuple(args.engine),
        model=args.model,
        dtype=args.dtype,
        url=args.url,
        name=args.name,
        concurrency=args.concurrency,
        style=args.style,
        max_bullets=args.max_bullets,
        short_max_words=args.short_max_words,
        lead=args.lead,
        stored=_stored(args.stored),
        limit=args.limit,
        seed=args.seed,
        resamples=args.resamples,
        support_threshold=args.support_threshold,
        batch_size=args.batch_size,
    )
    metrics = run(cfg)
    print(_summary_table(metrics["systems"]))
    print(f"wrote {args.out}/report.md, metrics.json, predictions.jsonl and plots")
    gated = [
        n for n in metrics["systems"] if n.split(":")[0] in args.engine or (args.url and n.startswith(f"{args.name}:"))
    ]
    failures = [
        f"{name}: {key} {metrics['systems'][name][key]:.2f} < {floor}"
        for name in gated
        for key, floor in gates.items()
        if metrics["systems"][name].get(key, float("inf")) < floor
    ]
    for failure in failures:
        print(f"fail-under: {failure}", file=sys.stderr)
    return 1 if failures else 0


def _compare(args: argparse.Namespace) -> int:
    rows, notes = comparison.compare(args.first, args.second, [tuple(p) for p in args.pair], args.resamples, args.seed)
    text = comparison.render(args.first, args.second, rows, notes)
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 0


def _gates(specs: list[str]) -> dict[str, float]:
    gates = {}
    for spec in specs:
        key, _, value = spec.partition("=")
        if key not in BY_KEY:
            raise ValueError(f"--fail-under: unknown metric {key!r} (one of {', '.join(BY_KEY)})")
        try:
            gates[key] = float(value)
        except ValueError:
            raise ValueError(f"--fail-under wants METRIC=NUMBER, got {spec!r}") from None
    return gates


def _stored(value: str) -> tuple[str, ...] | None:
    if value == "all":
        return None
    return () if value == "none" else tuple(v.strip() for v in value.split(",") if v.strip())


def _summary_table(systems: dict) -> str:
    keys = report.columns(systems, (*HEADLINE, "supported", "words"))
    width = max(len(name) for name in systems)
    lines = [f"{'system':<{width}}  " + "  ".join(f"{BY_KEY[k].label:>11}" for k in keys)]
    for name, s in systems.items():
        lines.append(f"{name:<{width}}  " + "  ".join(f"{report.formatted(s, k):>11}" for k in keys))
    return "\n".join(lines)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value
