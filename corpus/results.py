"""The output JSONL: resumable, and durable batch by batch.

Opening an existing file reads the ids it holds (a rerun skips them) and cuts off a last
line without its newline, which only a crash in the middle of a write leaves; that record
is summarized again. Any other line that is not a result (`{"id": "...", ...}`) stops the
run rather than be appended to: the file is probably not an output of this tool. Each
batch is appended, flushed and fsynced before the next one, so a crash loses at most the
batch in flight.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from corpus.summarizer import Result


class ResultFileError(ValueError):
    """The output file exists but is not a result file this tool can resume."""


class ResultFile:
    """Append-only writer of result lines; `done` holds the ids already written."""

    def __init__(self, path: Path):
        self.path = path
        self.done: set[str] = set()
        self.cut = 0  # bytes of a crash-cut last line removed on opening
        if path.exists():
            self._resume()
        self._handle: BinaryIO = path.open("ab")

    def _resume(self) -> None:
        complete = 0
        with self.path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if not raw.endswith(b"\n"):
                    break  # the last line, cut short by a crash
                complete += len(raw)
                if raw.strip():
                    self.done.add(_result_id(raw, self.path, number))
        size = self.path.stat().st_size
        if complete < size:
            self.cut = size - complete
            os.truncate(self.path, complete)
            _fsync(self.path)

    def write(self, results: Iterable[Result]) -> None:
        """Append the lines, then flush and fsync: they survive a crash from here on."""
        fresh = [result for result in results if result.id not in self.done]
        if not fresh:
            return
        self._handle.write(b"".join(f"{result.line}\n".encode() for result in fresh))
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self.done.update(result.id for result in fresh)

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> ResultFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _result_id(raw: bytes, path: Path, number: int) -> str:
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        value = None
    if not isinstance(value, dict) or not isinstance(value.get("id"), str):
        raise ResultFileError(
            f'{path}:{number}: not a result line ({{"id": ...}}); refusing to append to a file this tool did not '
            "write (choose another output, or remove it)"
        )
    return value["id"]


def _fsync(path: Path) -> None:
    with path.open("rb+") as handle:
        os.fsync(handle.fileno())
