"""Evaluation data: JSONL, CSV and Hugging Face `datasets` loaders.

Every source becomes a list of `Record`s (id, article, references, stored
system outputs). Field names are configurable through `Fields`; the defaults
read the `shared/data` format (`article`, `references` list, `systems` dict).

A malformed line (bad JSON or UTF-8, missing article, wrong types, repeated id)
never takes the rest of the file with it: it is reported as `path:line: why`
and skipped, or raised as a `DataError` when the caller asks for `strict`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from functools import cached_property
from pathlib import Path
from typing import Any

from service.text import Document, prepare

_SURROGATE = re.compile("[\udc80-\udcff]")  # undecodable bytes under surrogateescape
BUNDLED_SAMPLE = Path(__file__).parent / "data" / "sample.jsonl"


class DataError(ValueError):
    """The evaluation data cannot be read; the message says where and why."""


@dataclass(frozen=True)
class Record:
    """One article with its gold references and published systems' outputs."""

    id: str
    article: str
    references: list[str]
    systems: dict[str, str] = field(default_factory=dict)
    title: str | None = None

    @cached_property
    def document(self) -> Document:
        """The article after `service.text.prepare`, computed once for the baselines and scoring."""
        return prepare(self.article, self.title)


@dataclass(frozen=True)
class Fields:
    """Which input field holds what. `references` may name several fields, comma-separated.

    In CSV files the stored systems are the columns named `<systems>.<name>`.
    """

    id: str = "id"
    article: str = "article"
    references: str = "references"
    systems: str = "systems"
    title: str = "title"

    @classmethod
    def parse(cls, specs: Iterable[str]) -> Fields:
        """Build from `key=name` strings, e.g. `["references=highlights"]`."""
        known = {f.name for f in fields(cls)}
        values = {}
        for spec in specs:
            key, sep, name = spec.partition("=")
            if not sep or key not in known or not name:
                raise DataError(f"--field wants KEY=NAME with KEY one of {', '.join(sorted(known))}, got {spec!r}")
            values[key] = name
        return cls(**values)


@dataclass(frozen=True)
class Dataset:
    """Loaded records plus what identifies the data: source, content hash, skipped lines."""

    records: list[Record]
    source: str
    sha256: str
    skipped: list[str] = field(default_factory=list)


def load(source: str | Path, fields_: Fields = Fields(), strict: bool = False) -> Dataset:
    """Load `source`: a `.csv`/`.tsv` file, `hf:NAME[:CONFIG][@SPLIT]`, or JSON Lines."""
    source = str(source)
    if source.startswith("hf:"):
        return _load_hf(source[3:], fields_, strict)
    path = Path(source)
    if not path.is_file():
        raise DataError(f"{source}: no such file")
    content = path.read_bytes()
    rows = _csv_rows(content, path) if path.suffix.lower() in (".csv", ".tsv") else _jsonl_rows(content)
    records, skipped = _collect(rows, fields_, source, strict)
    return Dataset(records, source, hashlib.sha256(content).hexdigest(), skipped)


def select(records: list[Record], limit: int | None, seed: int) -> list[Record]:
    """A seeded random sample of `limit` records in file order (all when `limit` is None)."""
    if limit is None or limit >= len(records):
        return records
    keep = sorted(random.Random(seed).sample(range(len(records)), limit))
    return [records[i] for i in keep]


def _collect(
    rows: Iterator[tuple[int, Any]], fields_: Fields, source: str, strict: bool
) -> tuple[list[Record], list[str]]:
    """Turn (line number, row or error) pairs into records; bad rows are skipped or raised."""
    records: list[Record] = []
    skipped: list[str] = []
    seen: set[str] = set()
    for line, row in rows:
        try:
            if isinstance(row, DataError):
                raise row
            record = _record(row, fields_, default_id=str(line))
            if record.id in seen:
                raise DataError(f"id {record.id!r} repeats an earlier record")
        except DataError as err:
            message = f"{source}:{line}: {err}"
            if strict:
                raise DataError(message) from None
            skipped.append(message)
            continue
        seen.add(record.id)
        records.append(record)
    if not records:
        raise DataError(f"{source}: no usable records" + (f" ({skipped[0]} ...)" if skipped else ""))
    return records, skipped


def _record(row: dict[str, Any], fields_: Fields, default_id: str) -> Record:
    article = row.get(fields_.article)
    if not isinstance(article, str) or not article.strip():
        raise DataError(f"field {fields_.article!r} is missing or not a non-empty string")
    references = [ref for name in fields_.references.split(",") for ref in _strings(row.get(name), name)]
    systems = row.get(fields_.systems) or {}
    if not isinstance(systems, dict) or not all(isinstance(v, str) for v in systems.values()):
        raise DataError(f"field {fields_.systems!r} must map system names to summary strings")
    title = row.get(fields_.title)
    record_id = row.get(fields_.id)
    return Record(
        id=default_id if record_id in (None, "") else str(record_id),
        article=article,
        references=[ref for ref in references if ref.strip()],
        systems={str(k): v for k, v in systems.items()},
        title=title if isinstance(title, str) and title.strip() else None,
    )


def _strings(value: Any, name: str) -> list[str]:
    """A reference field: absent, one string, or a list of strings."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise DataError(f"field {name!r} must be a string or a list of strings")


def _jsonl_rows(content: bytes) -> Iterator[tuple[int, Any]]:
    with io.BytesIO(content) as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError as err:
                yield number, DataError(f"not UTF-8 ({err.reason} at byte {err.start})")
                continue
            except json.JSONDecodeError as err:
                yield number, DataError(f"not valid JSON ({err.msg} at column {err.colno})")
                continue
            yield number, row if isinstance(row, dict) else DataError("not a JSON object")


def _csv_rows(content: bytes, path: Path) -> Iterator[tuple[int, Any]]:
    """CSV/TSV rows (of `path`'s `content`) as dicts; `systems.<name>` columns are gathered into `systems`."""
    with io.TextIOWrapper(io.BytesIO(content), newline="", encoding="utf-8", errors="surrogateescape") as handle:
        reader = csv.reader(handle, delimiter="\t" if path.suffix.lower() == ".tsv" else ",", strict=True)
        try:
            header = next(reader)
        except (StopIteration, csv.Error) as err:
            raise DataError(f"{path}: no readable CSV header ({err or 'empty file'})") from None
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as err:
                yield reader.line_num, DataError(f"malformed CSV ({err})")
                continue
            if len(cells) != len(header):
                yield reader.line_num, DataError(f"{len(cells)} cells, the header has {len(header)}")
                continue
            if any(_SURROGATE.search(cell) for cell in cells):
                yield reader.line_num, DataError("not UTF-8")
                continue
            yield reader.line_num, _csv_row(header, cells)


def _csv_row(header: list[str], cells: list[str]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    systems: dict[str, str] = {}
    for name, cell in zip(header, cells):
        group, dot, system = name.partition(".")
        if dot and system:
            systems.setdefault(group, {})[system] = cell  # type: ignore[index]
        else:
            row[name] = _maybe_list(cell)
    return {**systems, **row}


def _maybe_list(cell: str) -> Any:
    """A cell holding a JSON list (several references) is decoded; anything else stays text."""
    if not cell.startswith("["):
        return cell
    try:
        value = json.loads(cell)
    except json.JSONDecodeError:
        return cell
    return value if isinstance(value, list) else cell


def _load_hf(spec: str, fields_: Fields, strict: bool) -> Dataset:
    """`NAME[:CONFIG][@SPLIT]` (split defaults to test) through the `datasets` library."""
    try:
        import datasets
    except ImportError:
        raise DataError("reading Hugging Face datasets needs the `datasets` package: pip install datasets") from None
    name_config, _, split = spec.partition("@")
    name, _, config = name_config.partition(":")
    try:
        table = datasets.load_dataset(name, config or None, split=split or "test")
    except Exception as err:  # the library raises many unrelated types for "not reachable"
        raise DataError(
            f"could not load Hugging Face dataset {spec!r}: {err}. "
            "It must be cached locally or the Hub reachable (check HF_HUB_OFFLINE)."
        ) from None
    rows = ((i + 1, dict(row)) for i, row in enumerate(table))
    records, skipped = _collect(rows, fields_, f"hf:{spec}", strict)
    return Dataset(records, f"hf:{spec}", str(getattr(table, "_fingerprint", "")), skipped)
