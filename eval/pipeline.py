"""One evaluation run, start to finish: load data, run systems, score, write the run directory."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm import tqdm

from eval import report
from eval.aggregate import focus_systems, paired_rows, system_summary
from eval.bootstrap import resample
from eval.latency import LIVE_STATS
from eval.plots import draw_all
from eval.records import BUNDLED_SAMPLE, DataError, Dataset, Fields, Record, load, select
from eval.rundir import write_metrics, write_predictions
from eval.runinfo import git_commit, now, versions
from eval.scoring import SummaryScorer
from eval.semantic import SentenceVectors
from eval.service import service_runs
from eval.systems import SystemRun, check_engine_names, engine_runs, is_lead, lead_run, load_engine, stored_runs
from service.domain import Options
from service.engines.embedder import Embedder


@dataclass(frozen=True)
class RunConfig:
    """Everything `python -m eval run` can be told."""

    out: Path
    data: str = str(BUNDLED_SAMPLE)
    fields: Fields = Fields()
    strict: bool = False
    engines: tuple[str, ...] = ()
    model: str | None = None
    dtype: str = "auto"
    url: str | None = None
    name: str = "service"
    concurrency: int = 4
    style: str = "bullets"
    max_bullets: int = (
        Options.max_bullets
    )  # engines are scored with the service's default options unless told otherwise
    short_max_words: int = Options.short_max_words
    lead: int = 3
    stored: tuple[str, ...] | None = None  # None: all stored systems
    limit: int | None = None
    seed: int = 0
    resamples: int = 1000
    support_threshold: float = 0.6
    batch_size: int = 16


@dataclass
class _Systems:
    runs: list[SystemRun] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)


def run(cfg: RunConfig) -> dict:
    """Run, score and write `predictions.jsonl`, `metrics.json`, `report.md` and plots; returns the metrics."""
    started, clock = now(), time.perf_counter()
    dataset = load(cfg.data, cfg.fields, cfg.strict)
    for message in dataset.skipped:
        tqdm.write(f"skipped {message}", file=sys.stderr)
    records = select(dataset.records, cfg.limit, cfg.seed)
    _check_references(records)
    systems = _run_systems(records, cfg)
    embedder = Embedder()
    scorer = SummaryScorer(records, SentenceVectors(embedder), cfg.support_threshold)
    with _bar(scorer.queue(systems.runs), "embedding sentences") as bar:
        scorer.vectors.encode_pending(bar.update)
    scored = {r.name: scorer.score(r) for r in systems.runs}
    indices = resample(len(records), cfg.resamples, cfg.seed)
    summaries = {r.name: system_summary(r, scored[r.name], indices) for r in systems.runs}
    pairs = [(a, b) for a in focus_systems(systems.runs) for b in summaries if b != a]
    metrics = {
        "systems": summaries,
        "paired": paired_rows(pairs, scored, scored, indices),
        "config": _config(cfg, dataset, records, systems, embedder, started),
    }
    metrics["config"]["seconds"] = round(time.perf_counter() - clock, 1)
    cfg.out.mkdir(parents=True, exist_ok=True)
    write_predictions(cfg.out, records, systems.runs, scored)
    write_metrics(cfg.out, metrics)
    plots = draw_all(cfg.out, summaries, scored)
    (cfg.out / "report.md").write_text(report.render(metrics, plots), encoding="utf-8")
    return metrics


def _check_references(records: Sequence[Record]) -> None:
    """All records have references (full scoring) or none has (reference-free scoring), never a mix."""
    missing = [r.id for r in records if not r.references]
    if missing and len(missing) < len(records):
        raise DataError(
            f"{len(missing)} of {len(records)} records have no references (first: {', '.join(missing[:5])})"
        )


def _run_systems(records: Sequence[Record], cfg: RunConfig) -> _Systems:
    """Engines and the service first, then the lead baseline, then stored systems."""
    check_engine_names(cfg.engines)
    found = _Systems()
    options = Options(style=cfg.style, max_bullets=cfg.max_bullets, short_max_words=cfg.short_max_words)  # type: ignore[arg-type]
    for name in cfg.engines:
        if is_lead(name):
            found.runs.append(lead_run(name, records))
            continue
        engine = load_engine(name, cfg.model, cfg.dtype)
        with _bar(len(records), name) as bar:
            found.runs += engine_runs(engine, name, records, options, cfg.batch_size, bar.update)
    if cfg.url:
        with _bar(len(records), cfg.url) as bar:
            found.runs += service_runs(cfg.url, records, options, cfg.concurrency, cfg.name, progress=bar.update)
    lead = f"lead-{cfg.lead}"
    if cfg.lead and lead not in cfg.engines:
        found.runs.append(lead_run(lead, records))
    stored, found.left_out = stored_runs(records, cfg.stored)
    for note in found.left_out:
        tqdm.write(f"not scored: {note}", file=sys.stderr)
    found.runs += stored
    names = [r.name for r in found.runs]
    clash = sorted({n for n in names if names.count(n) > 1})
    if clash:
        raise DataError(f"two systems share the name(s) {', '.join(clash)}; rename with --name or --stored")
    return found


def _config(
    cfg: RunConfig, dataset: Dataset, records: Sequence[Record], systems: _Systems, embedder: Embedder, started: str
) -> dict:
    ref_counts = sorted({len(r.references) for r in records})
    args = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items()}
    return {
        "command": "run",
        "args": args,
        "data": {
            "source": dataset.source,
            "sha256": dataset.sha256,
            "records": len(records),
            "records_in_file": len(dataset.records),
            "references": "–".join(str(n) for n in (ref_counts[0], ref_counts[-1]))
            if len(ref_counts) > 1
            else ref_counts[0],
            "skipped": dataset.skipped,
        },
        "systems": {
            r.name: {"kind": r.kind, **{k: v for k, v in r.info.items() if k not in LIVE_STATS}} for r in systems.runs
        },
        "engines": {r.name.split(":")[0]: _engine_line(r.info) for r in systems.runs if "engine" in r.info},
        "style": cfg.style,
        "max_bullets": cfg.max_bullets,
        "short_max_words": cfg.short_max_words,
        "concurrency": cfg.concurrency if cfg.url else None,
        "left_out": systems.left_out,
        "scoring": {
            "rouge": "rouge-score, Porter stemmer, F1 x 100, rougeLsum on one sentence per line",
            "multi_reference": "best reference = highest ROUGE-1 F1; all ROUGE variants against it",
            "embedder": f"MiniLM all-MiniLM-L6-v2 ({str(embedder.dtype).removeprefix('torch.')})",
            "support_threshold": cfg.support_threshold,
            "resamples": cfg.resamples,
            "seed": cfg.seed,
        },
        "code": git_commit(),
        "versions": versions(),
        "started": started,
    }


def _engine_line(info: dict) -> dict:
    """The few facts about an engine or service worth a line in the report."""
    line = {k: v for k, v in info["engine"].items() if k in ("engine", "family", "model", "device", "dtype")}
    if "seconds_per_article" in info:
        line["seconds per article"] = round(info["seconds_per_article"], 3)
    if "url" in info:
        line["url"] = info["url"]
    return line


def _bar(total: int, label: str) -> tqdm:
    """A progress bar on stderr for long runs (from 50 items); sparse updates when stderr is a log file."""
    tty = sys.stderr.isatty()
    return tqdm(total=total, desc=label, disable=total < 50, mininterval=0.5 if tty else 30)
