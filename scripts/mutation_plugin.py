"""pytest plugin for `make mutation`: each mutant runs only the tests of its own module.

mutmut picks, per mutated function, the tests that called it; a function of
service/text.py is called by nearly every test. This plugin narrows that to the test
files named for the mutant's module in `TESTS`, so a mutant costs seconds, not minutes, and
runs the property-based (hypothesis) tests last: a mutant is usually killed before them.
It does nothing outside a mutmut worker (the environment variable `MUTANT_UNDER_TEST`
names the mutant there) or when none of the picked tests is in those files.
"""

from __future__ import annotations

import os

import pytest

# Module -> the test files that are meant to pin its behaviour.
TESTS: dict[str, tuple[str, ...]] = {
    "service.text": ("tests/test_text.py",),
    "service.schema": ("tests/test_schema.py", "tests/test_api.py"),
    "service.protocol": ("tests/test_schema.py", "tests/test_api.py"),
    "service.errors": ("tests/test_api.py",),
    "service.batching": ("tests/test_batching.py", "tests/test_metrics.py"),
    "service.engines.embedded": ("tests/test_engines_embedded.py",),
    "service.engines.candidates": ("tests/test_engines_candidates.py", "tests/test_engines_embedded.py"),
    "service.engines.grounding": ("tests/test_engines_grounding.py",),
    "eval.rouge": ("tests/test_eval_metrics.py",),
    "eval.report": ("tests/test_eval_report.py",),
}


def module_of(mutant: str) -> str | None:
    """`service.text` for `service.text.x_prepare__mutmut_3` (None for mutmut's own phases)."""
    module, separator, _ = mutant.rpartition(".x")
    return module if separator and "__mutmut_" in mutant else None


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    files = TESTS.get(module_of(os.environ.get("MUTANT_UNDER_TEST", "")) or "")
    if not files:
        return
    kept = [item for item in items if item.nodeid.split("::")[0].removeprefix("mutants/") in files]
    if kept and len(kept) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
    items[:] = sorted(kept or items, key=_is_property_based)  # a stable sort: the order stays otherwise


def _is_property_based(item: pytest.Item) -> bool:
    return bool(getattr(getattr(item, "obj", None), "is_hypothesis_test", False))
