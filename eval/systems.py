"""The systems a run scores, each turned into one `Output` per record.

- stored: published outputs from the data file's `systems` field;
- baselines: `lead-K` (the first K content sentences after `service.text.prepare`
  removed datelines, bylines and source tags) and `lead-K-raw` (the first K
  sentences of the untouched article text);
- engines: the service's engines by name (`embedded`, `abstractive` with a model
  path), called in batches through the engine interface; each style is its own
  system (`embedded:bullets`, `embedded:short`).

Every summary is split into sentences by `service.text.split_reference`, the same
way for every system and for the references.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from tqdm import tqdm

from eval.records import Record
from service.domain import Job, Options, Summary
from service.engines import ENGINES, Engine, engine_class
from service.engines.base import ArgumentError
from service.text import prepare, split_reference, split_sentences

STORED, BASELINE, ENGINE, SERVICE = "stored", "baseline", "engine", "service"
_LEAD = re.compile(r"lead-(\d+)(-raw)?")


@dataclass(frozen=True)
class Output:
    """One summary: its text, its sentences as scored, bullet count and request latency."""

    text: str
    sentences: list[str]
    bullets: int | None = None
    latency_ms: float | None = None


@dataclass
class SystemRun:
    """A named system's outputs, aligned with the run's records."""

    name: str
    kind: str
    outputs: list[Output]
    info: dict = field(default_factory=dict)


def from_text(text: str, latency_ms: float | None = None) -> Output:
    return Output(text, split_reference(text), None, latency_ms)


def from_bullets(bullets: list[str], latency_ms: float | None = None) -> Output:
    sentences = [s for bullet in bullets for s in split_reference(bullet)]
    return Output("\n".join(bullets), sentences, len(bullets), latency_ms)


def output_for(style: str, short: str | None, bullets: Sequence[str] | None, latency_ms: float | None = None) -> Output:
    """One style's scored output: the short summary as text, or the bullets."""
    if style == "short":
        return from_text(short or "", latency_ms)
    return from_bullets(list(bullets or []), latency_ms)


def styles(style: str) -> list[str]:
    """The scored styles of a `--style` value (`both` scores each separately)."""
    return ["bullets", "short"] if style == "both" else [style]


def stored_runs(records: Sequence[Record], wanted: Iterable[str] | None = None) -> tuple[list[SystemRun], list[str]]:
    """Stored systems present in every record (all, or those named); also the names left out and why."""
    if wanted is None:
        wanted = dict.fromkeys(name for record in records for name in record.systems)
    runs, left_out = [], []
    for name in wanted:
        missing = sum(name not in record.systems for record in records)
        if missing:
            left_out.append(f"{name}: missing on {missing} of {len(records)} records")
            continue
        runs.append(SystemRun(name, STORED, [from_text(record.systems[name]) for record in records]))
    return runs, left_out


def is_lead(name: str) -> bool:
    return _LEAD.fullmatch(name) is not None


def lead_run(name: str, records: Sequence[Record]) -> SystemRun:
    """`lead-K` on cleaned content sentences, or `lead-K-raw` on the raw article's sentences."""
    match = _LEAD.fullmatch(name)
    if not match:
        raise ValueError(f"not a lead baseline: {name!r}")
    k, raw = int(match.group(1)), bool(match.group(2))
    outputs = []
    for record in records:
        sentences = split_sentences(record.article) if raw else record.document.sentences
        outputs.append(from_text("\n".join(s.text for s in sentences[:k])))
    return SystemRun(
        name, BASELINE, outputs, {"k": k, "sentences": "raw article" if raw else "after service.text.prepare"}
    )


def check_engine_names(names: Sequence[str]) -> None:
    """Fail before anything runs when a name is neither a service engine nor a lead baseline."""
    unknown = [name for name in names if name not in ENGINES and not is_lead(name)]
    if unknown:
        raise ValueError(f"--engine {unknown[0]}: unknown system (one of {', '.join(ENGINES)}, lead-K or lead-K-raw)")


def load_engine(name: str, model: str | None, dtype: str = "auto") -> Engine:
    """A service engine by name, with its default arguments (`model` and `dtype` for the abstractive one)."""
    if name == "abstractive" and not model:
        raise ValueError("--engine abstractive needs --model PATH")
    arguments = {"model": model, "dtype": dtype} if name == "abstractive" else {}
    try:
        return engine_class(name).load(**arguments)
    except ArgumentError as error:
        raise ValueError(f"--{error.argument.replace('_', '-')}: {error}") from None


def engine_runs(
    engine: Engine,
    name: str,
    records: Sequence[Record],
    options: Options,
    batch_size: int = 16,
    progress: Callable[[int], None] | None = None,
) -> list[SystemRun]:
    """Summarize every record in batches; one run per requested style."""
    summaries: list[Summary] = []
    started = time.perf_counter()
    for first in range(0, len(records), batch_size):
        batch = records[first : first + batch_size]
        jobs = [Job(prepare(r.article, r.title), options) for r in batch]  # timed as the service does it
        summaries += engine.summarize(jobs)
        if progress:
            progress(len(batch))
    seconds = time.perf_counter() - started
    empty = [record.id for record, summary in zip(records, summaries) if not summary.short and not summary.bullets]
    for record_id in empty:
        tqdm.write(
            f"{name}: record {record_id}: nothing to summarize after cleaning; scored as an empty summary",
            file=sys.stderr,
        )
    info = {
        "engine": engine.info(),
        "batch_size": batch_size,
        "seconds_per_article": seconds / max(len(records), 1),
        "empty_summaries": empty,
    }
    return [
        SystemRun(f"{name}:{style}", ENGINE, [_engine_output(s, style) for s in summaries], info)
        for style in styles(options.style)
    ]


def _engine_output(summary: Summary, style: str) -> Output:
    return output_for(style, summary.short.text if summary.short else None, [p.text for p in summary.bullets or []])
