"""PNG plots of a run (matplotlib, Agg backend): distributions, score vs length, bars with intervals."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402

from eval.aggregate import metric_values  # noqa: E402
from eval.scoring import BY_KEY, HEADLINE, Example  # noqa: E402

_WITHOUT_REFERENCES = ("supported", "coverage", "density", "novel2")


def draw_all(out: Path, systems: dict, scored: dict[str, Sequence[Example]]) -> list[tuple[str, str]]:
    """Write every plot into `out`; returns (title, file name) pairs for the report."""
    names = list(systems)
    keys = [k for k in HEADLINE if k in systems[names[0]]] or list(_WITHOUT_REFERENCES)
    plots = [
        ("Score distributions per system", "distributions.png", lambda p: distributions(p, names, scored, keys)),
        ("Score vs summary length", "score_vs_length.png", lambda p: score_vs_length(p, names, scored, keys[0])),
        ("Means with 95% bootstrap intervals", "metric_bars.png", lambda p: metric_bars(p, systems, keys)),
    ]
    for _, file_name, draw in plots:
        draw(out / file_name)
    return [(title, file_name) for title, file_name, _ in plots]


def distributions(path: Path, names: Sequence[str], scored: dict[str, Sequence[Example]], keys: Sequence[str]) -> None:
    """One box plot panel per metric, a box per system (mean marked)."""
    fig, axes = plt.subplots(1, len(keys), figsize=(4 * len(keys), 1.2 + 0.45 * len(names)), sharey=True, squeeze=False)
    for ax, key in zip(axes[0], keys):
        data = [metric_values(scored[name], key) for name in names]
        ax.boxplot(
            data, orientation="horizontal", showmeans=True, widths=0.6, flierprops={"markersize": 2, "alpha": 0.4}
        )
        ax.set_title(BY_KEY[key].label)
        ax.grid(axis="x", alpha=0.3)
    axes[0][0].set_yticks(range(1, len(names) + 1), names)
    axes[0][0].invert_yaxis()
    fig.suptitle("box: middle half of the articles, line: median, triangle: mean", fontsize=9, y=1.0)
    _save(fig, path)


def score_vs_length(path: Path, names: Sequence[str], scored: dict[str, Sequence[Example]], key: str) -> None:
    """Per system: faint dots per summary, a line through the mean score per 10-word length bin, a large mean dot."""
    fig, ax = plt.subplots(figsize=(8, 5.5))
    palette = plt.get_cmap("tab10" if len(names) <= 10 else "tab20")
    for i, name in enumerate(names):
        color = palette(i % palette.N)
        words, values = metric_values(scored[name], "words"), metric_values(scored[name], key)
        ax.scatter(words, values, s=5, alpha=0.12, color=color)
        centers, means = _binned_means(words, values)
        ax.plot(centers, means, color=color, linewidth=1.6)
        ax.scatter([words.mean()], [values.mean()], s=90, color=color, edgecolor="black", label=name, zorder=3)
    ax.set_xlabel("summary length (words)")
    ax.set_ylabel(BY_KEY[key].label)
    ax.set_title("Lines: mean per 10-word length bin (bins with at least 5 summaries)", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    _save(fig, path)


def _binned_means(x: np.ndarray, y: np.ndarray, width: float = 10, minimum: int = 5) -> tuple[list[float], list[float]]:
    bins = np.floor(x / width)
    centers, means = [], []
    for b in np.unique(bins):
        inside = bins == b
        if inside.sum() >= minimum:
            centers.append((b + 0.5) * width)
            means.append(float(y[inside].mean()))
    return centers, means


def metric_bars(path: Path, systems: dict, keys: Sequence[str]) -> None:
    """A horizontal bar per system and metric with its 95% interval; the best bar is darker."""
    names = list(systems)
    fig, axes = plt.subplots(1, len(keys), figsize=(4 * len(keys), 1.2 + 0.45 * len(names)), sharey=True, squeeze=False)
    for ax, key in zip(axes[0], keys):
        means = np.array([systems[n][key] for n in names])
        low, high = np.array([systems[n]["ci95"][key] for n in names]).T
        best = means.argmax() if BY_KEY[key].better >= 0 else means.argmin()
        colors = ["#1f4e79" if i == best else "#8fb3d9" for i in range(len(names))]
        ax.barh(range(len(names)), means, xerr=[means - low, high - means], color=colors, capsize=3)
        for i, mean in enumerate(means):
            ax.text(high[i], i, f"  {mean:.{BY_KEY[key].digits}f}", va="center", ha="left", fontsize=8)
        ax.set_title(BY_KEY[key].label)
        ax.set_xlim(0, high.max() * 1.25)
        ax.grid(axis="x", alpha=0.3)
    axes[0][0].set_yticks(range(len(names)), names)
    axes[0][0].invert_yaxis()
    _save(fig, path)


def _save(fig: plt.Figure, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
