"""Every command the README documents is exercised: curl examples, make serve, benchmarks."""

import json
import re
import subprocess
import sys

import pytest

from eval.records import BUNDLED_SAMPLE
from service.launcher import REPO, Server

pytestmark = pytest.mark.slow

README = (REPO / "README.md").read_text()


def readme_curl_commands() -> list[str]:
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", README, re.S):
        for command in re.split(r"(?<!\\)\n", block):
            if command.strip().startswith("curl"):
                commands.append(command.split("#")[0].strip())
    return commands


def test_readme_has_curl_examples():
    assert len(readme_curl_commands()) >= 5


@pytest.mark.parametrize("command", readme_curl_commands())
def test_readme_curl_example_works(live_server, command):
    command = command.replace("localhost:8000", live_server.removeprefix("http://"))
    result = subprocess.run(["bash", "-c", command], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    body = result.stdout
    if "/metrics" in command:
        assert "summarizer_requests_total" in body
    else:
        assert "error" not in json.loads(body), body


def test_make_serve_starts_gunicorn():
    server = Server.launch(["make", "serve"])  # PORT comes from the environment
    try:
        server.wait_ready()
    finally:
        server.stop()
    assert "gunicorn" in server.output().lower()


@pytest.mark.parametrize(
    "args",
    [
        ["benchmarks.latency", "--data", str(BUNDLED_SAMPLE), "--limit", "6"],
        ["benchmarks.load", "--data", str(BUNDLED_SAMPLE), "--articles", "4", "--clients", "2", "--requests", "6"],
        ["benchmarks.gpu_abstractive", "--tiny", "--batches", "1,2"],
        ["benchmarks.gpu_server", "--tiny", "--clients", "2", "--requests", "4"],
        [
            "benchmarks.overload",
            *("--data", str(BUNDLED_SAMPLE), "--articles", "4", "--clients", "2", "--crowd", "4"),
            *("--slow", "4", "--seconds", "1", "--backoff"),
        ],
        ["benchmarks.batching", "--data", str(BUNDLED_SAMPLE), "--clients", "4", "--rounds", "1", "--max-batch", "4"],
    ],
)
def test_benchmarks_run(args):
    result = subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "p50" in result.stdout or "art/s" in result.stdout


# -- the README's tables against the code -------------------------------------------------------------


def readme_table(heading: str) -> list[list[str]]:
    """The rows of the first table after `heading`, as lists of cells."""
    section = README.split(heading, 1)[1]
    rows = []
    for line in section.splitlines():
        if line.startswith("|"):
            rows.append([cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))])
        elif rows:
            break
    return rows[2:]  # without the header and the |---| line


def test_the_configuration_table_lists_every_setting_with_its_default():
    import dataclasses
    import inspect

    from service.config import Settings, env_name
    from service.engines import ENGINES, engine_class

    rows = {
        variable.strip("`"): default
        for names, default, _ in readme_table("## Configuration")
        for variable in names.split(", ")
    }
    defaults = {"host": "127.0.0.1", "port": "8000"}  # listed together in one row
    engine_defaults = {
        name: parameter.default
        for engine in ENGINES
        for name, parameter in inspect.signature(engine_class(engine).load).parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }
    for field in dataclasses.fields(Settings):
        variable = env_name(field.name)
        assert variable in rows, f"{variable} is missing from the README's configuration table"
        value = field.default if field.default is not None else engine_defaults.get(field.name)
        documented = rows[variable]
        if field.name in defaults:
            assert defaults[field.name] in documented
        elif value not in (None, "", 0) or field.name in ("torch_threads", "max_input_tokens", "generate_batch"):
            assert str(value) in documented.replace(",", ""), (variable, value, documented)
    assert len(rows) == len(dataclasses.fields(Settings))  # nothing documented that does not exist


def test_the_request_table_matches_the_openapi_document(engine):
    from service.app import create_app
    from service.config import Settings

    document = create_app(Settings(fetch_urls=True), engine).test_client().get("/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    inputs = [schemas[name] for name in ("SummarizeText", "SummarizeHtml", "SummarizeUrl")]
    properties = {name: prop for schema in inputs for name, prop in schema["properties"].items()}
    rows = {field.strip("`"): (kind, default) for field, kind, default, _ in readme_table("### `POST /v1/summarize`")}
    assert set(rows) == set(properties)
    assert {name for name in rows if "required" in rows[name][0]} == {"text"}  # or html, or url: one of them
    assert all(schema["required"] == [source] for schema, source in zip(inputs, ("text", "html", "url")))
    for name, prop in properties.items():
        if "default" in prop and prop["default"] is not None:
            assert str(prop["default"]).strip('"') in rows[name][1].replace('"', ""), name


def test_the_error_table_matches_the_errors_the_api_declares():
    from service.protocol import ERRORS

    rows = [(int(status), code.strip("`")) for status, code, _ in readme_table("### Errors")]
    assert sorted(rows) == sorted((status, code) for code, (status, _) in ERRORS.items())
