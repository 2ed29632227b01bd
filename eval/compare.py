"""`python -m eval compare DIR1 DIR2`: paired bootstrap tests between two runs' systems."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from eval.aggregate import paired_rows
from eval.bootstrap import resample
from eval.report import paired_table
from eval.rundir import read_metrics, read_scores


class CompareError(ValueError):
    """The two runs cannot be paired (no common systems or articles)."""


def compare(
    first: Path, second: Path, pairs: Sequence[tuple[str, str]] = (), resamples: int = 1000, seed: int = 0
) -> tuple[list[dict], list[str]]:
    """Paired tests of run 1's systems against run 2's on the articles both scored.

    Without `pairs`, systems with the same name in both runs are paired.
    Returns the test rows and notes (e.g. different data files, articles dropped).
    """
    scores_a, scores_b = read_scores(first), read_scores(second)
    pairs = list(pairs) or [(name, name) for name in scores_a if name in scores_b]
    if not pairs:
        raise CompareError(f"no system is in both runs ({', '.join(scores_a)} vs {', '.join(scores_b)}); name a pair")
    for a, b in pairs:
        if a not in scores_a or b not in scores_b:
            raise CompareError(
                f"cannot pair {a!r} with {b!r}: run 1 has {', '.join(scores_a)}; run 2 has {', '.join(scores_b)}"
            )
    ids = [i for i in scores_a[pairs[0][0]] if all(i in scores_a[a] and i in scores_b[b] for a, b in pairs)]
    if not ids:
        raise CompareError("the runs share no article ids")
    notes = _notes(first, second, len(ids), scores_a[pairs[0][0]], scores_b[pairs[0][1]])
    aligned_a = {a: [scores_a[a][i] for i in ids] for a, _ in pairs}
    aligned_b = {b: [scores_b[b][i] for i in ids] for _, b in pairs}
    return paired_rows(pairs, aligned_a, aligned_b, resample(len(ids), resamples, seed)), notes


def render(first: Path, second: Path, rows: list[dict], notes: list[str]) -> str:
    """Markdown: what was compared and one table of differences (run 1 minus run 2)."""
    head = [f"# Paired comparison: `{first}` − `{second}`", ""] + [f"- {note}" for note in notes]
    table = paired_table(rows, "run 1 − run 2", lambda a, b: f"`{a}`" if a == b else f"`{a}` − `{b}`")
    return "\n".join(head) + "\n\n" + table + "\n"


def _notes(first: Path, second: Path, shared: int, ids_a: dict, ids_b: dict) -> list[str]:
    data_a, data_b = read_metrics(first)["config"]["data"], read_metrics(second)["config"]["data"]
    notes = [f"{shared} articles scored by both runs"]
    if data_a["sha256"] != data_b["sha256"]:
        notes.append(f"different data: `{data_a['source']}` vs `{data_b['source']}` (paired on article id)")
    if shared < max(len(ids_a), len(ids_b)):
        notes.append(f"run 1 has {len(ids_a)} and run 2 {len(ids_b)} articles; only the shared ones are compared")
    return notes
