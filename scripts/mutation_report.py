"""Summarize a `mutmut run` (the results under mutants/) as reports/mutation/SUMMARY.md.

One row per core module: mutants, killed, timed out, survived, untested, not yet run, and
the score (killed and timed out over all mutants run). Then every mutant that was not
killed, with its diff, so each can be judged: a missing test, or an equivalent mutant.

    python scripts/mutation_report.py [--out reports/mutation/SUMMARY.md]
    python scripts/mutation_report.py --patterns             # the `mutmut run` arguments for all of them
    python scripts/mutation_report.py --pending [MODULE...]  # those not run yet (to resume a cut-short run)
    python scripts/mutation_report.py --pending MODULE --sample 40  # 40 of them at random: a quicker estimate
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from mutmut.mutation.diff_apply import get_diff_for_mutant  # mutmut is pinned: this is its `mutmut show`

# The core modules and the functions of each that count (all of them: "*").
SCOPE: dict[str, tuple[str, ...]] = {
    "service/text.py": ("*",),
    "service/schema.py": ("*",),
    "service/protocol.py": ("*",),
    "service/errors.py": ("*",),
    "service/batching.py": ("*",),
    "service/engines/embedded.py": ("xǁEmbeddedEngineǁselect", "xǁEmbeddedEngineǁ_mmr", "x__short"),
    "service/engines/candidates.py": ("*",),
    "service/engines/grounding.py": ("*",),
    "eval/rouge.py": ("*",),
    "eval/report.py": ("*",),
}
TARGET = 85.0
KILLED = {1, 3}
TIMEOUT = {24, -24, 152, 255, 36}
STATUS = {0: "survived", 5: "no tests", 33: "no tests", None: "not run"}


@dataclass
class Module:
    path: str
    counts: Counter = field(default_factory=Counter)
    survivors: list[tuple[str, str]] = field(default_factory=list)  # (mutant, status)

    @property
    def run(self) -> int:
        return sum(self.counts.values()) - self.counts["not run"]

    @property
    def score(self) -> float | None:
        return 100 * (self.counts["killed"] + self.counts["timeout"]) / self.run if self.run else None


def mutants_patterns() -> list[str]:
    """The `mutmut run` arguments that select exactly `SCOPE` (for the Makefile)."""
    patterns = []
    for path, functions in SCOPE.items():
        module = path.removesuffix(".py").replace("/", ".")
        patterns += [f"{module}.*"] if functions == ("*",) else [f"{module}.{name}__mutmut_*" for name in functions]
    return patterns


def in_scope(path: str, mutant: str) -> bool:
    function = mutant.removeprefix(path.removesuffix(".py").replace("/", ".") + ".").rsplit("__mutmut_", 1)[0]
    return any(pattern == "*" or fnmatch.fnmatchcase(function, pattern) for pattern in SCOPE[path])


def status(exit_code: int | None) -> str:
    if exit_code in KILLED:
        return "killed"
    if exit_code in TIMEOUT:
        return "timeout"
    return STATUS.get(exit_code, f"suspicious ({exit_code})")


def collect(root: Path) -> list[Module]:
    modules = []
    for path in SCOPE:
        module = Module(path)
        meta = root / f"{path}.meta"
        results = json.loads(meta.read_text())["exit_code_by_key"] if meta.exists() else {}
        for mutant, exit_code in sorted(results.items(), key=lambda item: _natural(item[0])):
            if not in_scope(path, mutant):
                continue
            verdict = status(exit_code)
            module.counts[verdict] += 1
            if verdict not in ("killed", "timeout"):
                module.survivors.append((mutant, verdict))
        modules.append(module)
    return modules


def pending(root: Path, paths: list[str]) -> list[str]:
    """In-scope mutants of `paths` that have no result yet."""
    names = []
    for path in paths:
        meta = root / f"{path}.meta"
        results = json.loads(meta.read_text())["exit_code_by_key"] if meta.exists() else {}
        names += [name for name, code in results.items() if code is None and in_scope(path, name)]
    return names


def _natural(mutant: str) -> tuple[str, int]:
    function, _, number = mutant.rpartition("__mutmut_")
    return function, int(number) if number.isdigit() else 0


def render(modules: list[Module]) -> str:
    lines = [
        "# Mutation testing: surviving mutants",
        "",
        f"mutmut over the core modules (`make mutation`); target: at least {TARGET:.0f}% killed per module. "
        "A timed-out mutant counts as killed (its tests did not pass). Where mutants are `not run` (a run cut "
        "short, or a random sample taken with `--pending --sample`), the score is over those run.",
        "",
        "| Module | Mutants | Killed | Timed out | Survived | No tests | Not run | Score |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in modules:
        c = m.counts
        score = "" if m.score is None else f"{m.score:.1f}%" + (" ✗" if m.score < TARGET else "")
        lines.append(
            f"| `{m.path}` | {sum(c.values())} | {c['killed']} | {c['timeout']} | {c['survived']} "
            f"| {c['no tests']} | {c['not run']} | {score} |"
        )
    for m in modules:
        shown = [(mutant, verdict) for mutant, verdict in m.survivors if verdict != "not run"]
        if not shown:
            continue
        lines += ["", f"## `{m.path}`: {len(shown)} not killed", ""]
        for mutant, verdict in shown:
            lines += [f"### `{mutant}` ({verdict})", "", "```diff", _diff(mutant, m.path), "```", ""]
    return "\n".join(lines).rstrip() + "\n"


def _diff(mutant: str, path: str) -> str:
    try:
        return "\n".join(line for line in get_diff_for_mutant(mutant, path=path).splitlines()[2:])
    except Exception as error:  # a result left from code that changed since: the mutant no longer exists
        return f"(no diff: {type(error).__name__}: {error})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("reports/mutation/SUMMARY.md"))
    parser.add_argument("--patterns", action="store_true", help="print the `mutmut run` arguments and stop")
    parser.add_argument("--pending", nargs="*", metavar="MODULE", help="print the mutants not run yet and stop")
    parser.add_argument("--sample", type=int, help="with --pending: at most this many per module, at random")
    parser.add_argument("--seed", type=int, default=0, help="of --sample")
    args = parser.parse_args()
    if args.patterns:
        print(" ".join(f"'{pattern}'" for pattern in mutants_patterns()))
        return
    if args.pending is not None:
        names = []
        for path in args.pending or list(SCOPE):
            left = pending(Path("mutants"), [path])
            names += random.Random(args.seed).sample(left, min(args.sample, len(left))) if args.sample else left
        print(" ".join(f"'{name}'" for name in names))
        return
    modules = collect(Path("mutants"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(modules))
    for m in modules:
        score = "-" if m.score is None else f"{m.score:.1f}%"
        print(f"{m.path:32} {sum(m.counts.values()):4} mutants  {dict(m.counts)}  score {score}")
    print(f"survivors with diffs: {args.out}")


if __name__ == "__main__":
    main()
