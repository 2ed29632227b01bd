"""`summarize`: files, globs and stdin; in process and against a server; output formats and exit codes."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # each run loads the engine in a new process
SAMPLE = Path(__file__).parent / "samples" / "scraped_article_huawei.txt"
OTHER = "Heavy rain flooded dozens of homes in the valley overnight. Rescue teams evacuated more than 200 residents."


def summarize(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "service.cli", *args]
    return subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def articles(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("articles")
    (folder / "huawei.txt").write_text(SAMPLE.read_text())
    (folder / "floods.txt").write_text(OTHER)
    (folder / "debris.txt").write_text("... !!!")
    (folder / "binary.txt").write_bytes(bytes(range(256)))
    return folder


def test_one_file_prints_the_summary_readably():
    result = summarize(str(SAMPLE))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("According to the Wall Street Journal") and lines[1].startswith("• ")


def test_globs_jsonl_and_per_input_errors(articles):
    result = summarize(str(articles / "*.txt"), "--jsonl", "--style", "short")
    records = [json.loads(line) for line in result.stdout.splitlines()]
    by_name = {Path(r["input"]).name: r for r in records}
    assert [Path(r["input"]).name for r in records] == ["binary.txt", "debris.txt", "floods.txt", "huawei.txt"]
    assert by_name["binary.txt"]["error"]["code"] == "invalid_encoding"
    assert by_name["debris.txt"]["error"]["code"] == "no_sentences"
    assert by_name["floods.txt"]["short"].startswith("Heavy rain") and "bullets" not in by_name["floods.txt"]
    assert result.returncode == 1 and "debris.txt: no_sentences" in result.stderr


def test_empty_huge_and_foreign_inputs(tmp_path):
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "huge.txt").write_bytes(b"word " * 300_000)  # over SUMMARIZER_MAX_BODY_BYTES: refused unread
    chinese = "北京市政府周一宣布了新的交通计划。该计划将增加三条地铁线路。官员说工程明年开始。"
    (tmp_path / "chinese.txt").write_text(chinese)
    result = summarize(str(tmp_path / "*.txt"), "--jsonl")
    by_name = {Path(r["input"]).name: r for r in map(json.loads, result.stdout.splitlines())}
    assert by_name["empty.txt"]["error"]["code"] == "empty_text"
    assert by_name["huge.txt"]["error"] == {"code": "payload_too_large", "message": "larger than 1000000 bytes"}
    assert by_name["chinese.txt"]["bullets"] and any("'zh'" in w for w in by_name["chinese.txt"]["warnings"])
    assert result.returncode == 1


def test_stdin_and_json_output():
    result = summarize("--json", "--max-bullets", "2", stdin=OTHER)
    assert result.returncode == 0 and len(json.loads(result.stdout)["bullets"]) == 2


@pytest.mark.parametrize(
    ("args", "code"),
    [(["no/such/*.txt"], 1), (["--max-bullets", "0", str(SAMPLE)], 1), (["--style", "long"], 2), ([], 2)],
)
def test_bad_input_gets_a_message_and_an_exit_code(args, code):
    result = summarize(*args, stdin="")
    assert result.returncode == code and result.stderr.strip()


def test_the_same_answers_through_a_server(live_server, articles):
    local = summarize(str(articles / "floods.txt"), str(articles / "huawei.txt"), "--json")
    remote = summarize(str(articles / "floods.txt"), str(articles / "huawei.txt"), "--json", "--server", live_server)
    assert remote.returncode == local.returncode == 0, remote.stderr

    def texts(output: str) -> list:
        return [(r["short"], r["bullets"]) for r in json.loads(output)]

    assert texts(remote.stdout) == texts(local.stdout)


def test_an_unreachable_server_exits_3():
    result = summarize(str(SAMPLE), "--server", "http://127.0.0.1:9")
    assert result.returncode == 3 and "unreachable" in result.stderr
