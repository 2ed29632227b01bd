"""Serving a GGUF file: converted once into a bf16 safetensors model directory.

transformers loads a GGUF by dequantizing every tensor (minutes for a 1.5 B model);
a saved safetensors copy loads in seconds. The copy lives in `cache_dir/<sha256 of
the file>/`, so an edited or replaced file gets a new copy, and it records the file it
came from in `gguf_source.json`. The conversion runs under a file lock into a temporary
directory that is renamed into place, so concurrent workers convert once and nobody
ever sees half a copy. Needs the `gguf` extra (the `gguf` and `accelerate` packages).

The module stands alone (standard library, torch and transformers): the image build
(docker/fetch_model.py) loads it from a copy to convert a model without the service's code.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
import transformers

SAVED_DTYPE = torch.bfloat16
SOURCE_FILE = "gguf_source.json"


class GgufConversionError(ValueError):
    """The GGUF file is missing or cannot be converted."""


def default_cache_dir() -> Path:
    """`$XDG_CACHE_HOME/article-summarizer/gguf`, else `~/.cache/article-summarizer/gguf`."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "article-summarizer" / "gguf"


def converted_model_dir(gguf_path: Path, cache_dir: Path) -> Path:
    """The saved transformers copy of `gguf_path` under `cache_dir`, converted on first use."""
    gguf_path = Path(gguf_path).expanduser().resolve()
    if not gguf_path.is_file():
        raise GgufConversionError(f"{str(gguf_path)!r}: no such GGUF file")
    digest = file_sha256(gguf_path)
    target = Path(cache_dir).expanduser() / digest
    if (target / SOURCE_FILE).is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(target.parent / f".{digest}.lock"):
        if not (target / SOURCE_FILE).is_file():  # another worker may have finished while we waited
            scratch_prefix = f".{digest[:16]}-"
            for leftover in target.parent.glob(f"{scratch_prefix}*"):  # from a conversion that was killed
                shutil.rmtree(leftover, ignore_errors=True)
            with tempfile.TemporaryDirectory(dir=target.parent, prefix=scratch_prefix) as scratch:
                staged = Path(scratch) / "model"
                convert(gguf_path, staged)
                write_source(staged, gguf_path, digest)
                staged.rename(target)
    return target


def convert(gguf_path: Path, out_dir: Path) -> None:
    """Dequantize `gguf_path` and save it as a bf16 safetensors model with its tokenizer and chat template."""
    _require_gguf_packages()
    kwargs = {"gguf_file": gguf_path.name, "local_files_only": True}
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(gguf_path.parent, **kwargs)
        model = transformers.AutoModelForCausalLM.from_pretrained(gguf_path.parent, dtype=SAVED_DTYPE, **kwargs)
    except (OSError, ValueError, KeyError, RuntimeError) as error:
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise GgufConversionError(f"{str(gguf_path)!r}: cannot convert the GGUF file: {first_line}") from None
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is not None:  # the weights are plain tensors now, but a GGUF quantizer on the model refuses to save
        quantizer.remove_quantization_config(model)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    out_dir.chmod(0o755)  # safetensors writes 0600: a server running as another user (the image's) must read it
    for file in out_dir.iterdir():
        file.chmod(0o644)


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    with Path(path).open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def write_source(directory: Path, gguf_path: Path, digest: str) -> None:
    source = {
        "gguf_file": str(gguf_path),
        "sha256": digest,
        "bytes": gguf_path.stat().st_size,
        "dtype": str(SAVED_DTYPE).removeprefix("torch."),
        "transformers": transformers.__version__,
    }
    (directory / SOURCE_FILE).write_text(json.dumps(source, indent=2) + "\n")


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """An exclusive advisory lock on `lock_path`, released on exit (and by the OS if the process dies)."""
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _require_gguf_packages() -> None:
    missing = [name for name in ("gguf", "accelerate") if importlib.util.find_spec(name) is None]
    if missing:
        raise GgufConversionError(f"a GGUF file needs {' and '.join(missing)}: pip install 'article-summarizer[gguf]'")
