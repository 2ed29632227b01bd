"""`report.md`: tables people can read, built from the `metrics.json` content alone."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from eval.aggregate import PAIRED_METRICS
from eval.latency import LIVE_STATS
from eval.scoring import BY_KEY, METRICS

QUALITY = tuple(metric.key for metric in METRICS if metric.better)  # a direction is better: the best is marked
SHAPE = tuple(metric.key for metric in METRICS if not metric.better)  # descriptive
LATENCY = tuple(zip(LIVE_STATS, ("p50 ms", "p95 ms", "p99 ms", "req/s")))


def render(metrics: dict, plots: Sequence[tuple[str, str]] = ()) -> str:
    """The whole report as markdown; `plots` are (title, file name) pairs next to it."""
    systems, config = metrics["systems"], metrics["config"]
    parts = [_header(config, systems)]
    parts.append(
        _section(
            "Quality",
            "Mean over the articles; **bold** is the best system in the column.",
            _table(systems, QUALITY, mark_best=True),
        )
    )
    parts.append(_section("95% bootstrap confidence intervals", "", _interval_table(systems, QUALITY)))
    parts.append(
        _section(
            "Extractiveness and length",
            "Descriptive: neither direction is better.",
            _table(systems, SHAPE, mark_best=False),
        )
    )
    live = {name: s for name, s in systems.items() if "latency_p50_ms" in s}
    if live:
        parts.append(
            _section(
                "Latency and throughput (client side)",
                f"Concurrency {config.get('concurrency')}.",
                _latency_table(live),
            )
        )
    if metrics.get("paired"):
        parts.append(_section("Paired bootstrap tests", _PAIRED_NOTE, paired_tables(metrics["paired"])))
    if plots:
        parts.append("## Plots\n\n" + "\n\n".join(f"![{title}]({name})" for title, name in plots))
    parts.append(_section("How the numbers are computed", "", "\n".join(f"- {line}" for line in _method(config))))
    return "\n\n".join(part for part in parts if part) + "\n"


_PAIRED_NOTE = (
    "Difference of means (row system minus compared system) on the same articles, its 95% interval "
    "and two-sided p-value; † marks an interval that excludes zero."
)


def _header(config: dict, systems: dict) -> str:
    data = config["data"]
    code = config.get("code", {})
    lines = [
        "# Evaluation report",
        "",
        f"- Data: `{data['source']}`, {data['records']} articles (sha256 `{data['sha256'][:12]}`), "
        f"{data['references']} reference(s) per article"
        + (f", {len(data['skipped'])} malformed line(s) skipped" if data.get("skipped") else ""),
        f"- Systems: {len(systems)}; run {config.get('started')}, commit `{(code.get('commit') or 'unknown')[:10]}`"
        + (" (uncommitted changes)" if code.get("dirty") else ""),
    ]
    for name, engine in config.get("engines", {}).items():
        lines.append(f"- Engine `{name}`: " + ", ".join(f"{k} {v}" for k, v in engine.items()))
    for note in config.get("left_out", []):
        lines.append(f"- Not scored: {note}")
    return "\n".join(lines)


def _section(title: str, note: str, body: str) -> str:
    if not body:
        return ""
    return f"## {title}\n\n" + (f"{note}\n\n" if note else "") + body


def columns(systems: dict, keys: Sequence[str]) -> list[str]:
    """The keys that at least one system has, in the given order."""
    return [key for key in keys if any(key in s for s in systems.values())]


def _table(systems: dict, keys: Sequence[str], mark_best: bool) -> str:
    keys = columns(systems, keys)
    if not keys:
        return ""
    best = {key: _best(systems, key) for key in keys} if mark_best else {}
    rows = [["System", "Kind", "n", *(BY_KEY[k].label for k in keys)]]
    for name, s in systems.items():
        cells = [formatted(s, k, bold=k in s and round(s[k], BY_KEY[k].digits) == best.get(k)) for k in keys]
        rows.append([f"`{name}`", s["kind"], str(s["n"]), *cells])
    return _markdown(rows, numeric_from=2)


def _interval_table(systems: dict, keys: Sequence[str]) -> str:
    keys = columns(systems, keys)
    rows = [["System", *(BY_KEY[k].label for k in keys)]]
    for name, s in systems.items():
        rows.append([f"`{name}`", *(_interval(s, k) for k in keys)])
    return _markdown(rows, numeric_from=1) if keys else ""


def _latency_table(live: dict) -> str:
    rows = [["System", *(label for _, label in LATENCY)]]
    for name, s in live.items():
        rows.append([f"`{name}`", *(f"{s[key]:.1f}" for key, _ in LATENCY)])
    return _markdown(rows, numeric_from=1)


def paired_tables(paired: list[dict]) -> str:
    """One table per system `a`: its difference from each system `b`, per metric."""
    groups = dict.fromkeys(row["a"] for row in paired)
    return "\n\n".join(
        paired_table([row for row in paired if row["a"] == a], f"`{a}` vs", lambda _, b: f"`{b}`") for a in groups
    )


def paired_table(rows: list[dict], corner: str, label: Callable[[str, str], str]) -> str:
    """A row per (a, b) pair, a column per metric; `label(a, b)` names the row."""
    keys = [k for k in PAIRED_METRICS if any(row["metric"] == k for row in rows)]
    table = [[corner, *(f"Δ {BY_KEY[k].label}" for k in keys)]]
    for a, b in dict.fromkeys((row["a"], row["b"]) for row in rows):
        by_metric = {row["metric"]: row for row in rows if (row["a"], row["b"]) == (a, b)}
        table.append([label(a, b), *(_difference(by_metric.get(k)) for k in keys)])
    return _markdown(table, numeric_from=1)


def _difference(row: dict | None) -> str:
    if row is None:
        return ""
    low, high = row["ci95"]
    mark = "†" if row["significant"] else ""
    return f"{row['diff']:+.2f}{mark} [{low:+.2f}, {high:+.2f}] {_p(row['p'])}"


def _p(p: float) -> str:
    return "p<0.001" if p < 0.001 else f"p={p:.3f}"


def _method(config: dict) -> list[str]:
    scoring = config["scoring"]
    return [
        "ROUGE-1/2/L/Lsum: F1 × 100 from `rouge-score` with the Porter stemmer; ROUGE-Lsum with one sentence per line "
        "on both sides (sentences split by `service.text.split_reference`, which also undoes CNN/DM ` . ` joins "
        "and `<q>`).",
        "Several references: the best reference is the one with the highest ROUGE-1 F1 for that summary, and all ROUGE "
        "variants are reported against it.",
        f"Sem. sim.: cosine × 100 between {scoring['embedder']} embeddings of summary and reference "
        "(unit mean of sentence "
        "embeddings); the closest reference counts.",
        f"Supported %: share of summary sentences whose most similar article sentence (same embeddings) has cosine ≥ "
        f"{scoring['support_threshold']}: a faithfulness proxy, not a proof.",
        "Coverage, density, compression: Grusky et al. (2018) greedy extractive fragments on lower-cased word tokens; "
        "Novel n-g %: summary n-grams absent from the article.",
        f"Intervals and tests: {scoring['resamples']} bootstrap resamples of the articles (seed {scoring['seed']}), "
        "the same resamples for every system.",
        "Lead-K baselines: `lead-K` takes the first K sentences left after `service.text.prepare` drops datelines, "
        "bylines and source tags; `lead-K-raw` takes the first K sentences of the untouched article.",
    ]


def _best(systems: dict, key: str) -> float | None:
    """The best value of a column as printed (so ties on the page are all marked)."""
    values = [round(s[key], BY_KEY[key].digits) for s in systems.values() if key in s]
    if not values:
        return None
    return max(values) if BY_KEY[key].better > 0 else min(values)


def formatted(summary: dict, key: str, bold: bool = False) -> str:
    """A system's value of `key` with the metric's decimals (empty when it has none)."""
    if key not in summary:
        return ""
    text = f"{summary[key]:.{BY_KEY[key].digits}f}"
    return f"**{text}**" if bold else text


def _interval(summary: dict, key: str) -> str:
    if key not in summary["ci95"]:
        return ""
    low, high = summary["ci95"][key]
    digits = BY_KEY[key].digits
    return f"{low:.{digits}f}–{high:.{digits}f}"


def _markdown(rows: list[list[str]], numeric_from: int) -> str:
    align = ["---"] * numeric_from + ["---:"] * (len(rows[0]) - numeric_from)
    lines = [rows[0], align, *rows[1:]]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)
