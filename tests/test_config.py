"""Settings are read from the environment in one place, with clear errors naming the variable."""

import pytest
import torch
from tiny_models import build_bart

from service.config import ConfigError, Settings, build_engine, env_name
from service.engines.abstractive import AbstractiveEngine


def test_defaults():
    settings = Settings.from_env({})
    assert settings.engine == "embedded"
    assert (settings.host, settings.port, settings.web_concurrency) == ("127.0.0.1", 8000, 1)
    assert settings.max_body_bytes == 1_000_000 and settings.max_input_words == 20_000
    assert settings.model is None and settings.max_chunks is None  # engine settings: the engine's own defaults


def test_environment_names_derive_from_the_setting_names():
    assert env_name("short_max_words") == "SUMMARIZER_SHORT_MAX_WORDS"
    assert env_name("short_max_words_limit") == "SUMMARIZER_SHORT_MAX_WORDS_LIMIT"
    assert [env_name(n) for n in ("host", "port", "web_concurrency", "gunicorn_threads")] == [
        "HOST",
        "PORT",
        "WEB_CONCURRENCY",
        "GUNICORN_THREADS",
    ]


def test_values_are_parsed_and_a_model_selects_the_abstractive_engine():
    settings = Settings.from_env(
        {
            "PORT": "9000",
            "SUMMARIZER_MODEL": "/models/bart",
            "SUMMARIZER_MAX_INPUT_WORDS": "50",
            "SUMMARIZER_SUPPORT_THRESHOLD": "0.6",
            "SUMMARIZER_MAX_CHUNKS": "3",
            "SUMMARIZER_GENERATION": '{"short": {"num_beams": 2}}',
        }
    )
    assert settings.port == 9000 and settings.max_input_words == 50
    assert settings.engine == "abstractive" and settings.model == "/models/bart"
    assert (settings.support_threshold, settings.max_chunks, settings.generation) == (
        0.6,
        3,
        {"short": {"num_beams": 2}},
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "http"),
        ("SUMMARIZER_MAX_BODY_BYTES", "-1"),
        ("SUMMARIZER_ENGINE", "magic"),
        ("SUMMARIZER_SUPPORT_THRESHOLD", "high"),
        ("SUMMARIZER_GENERATION", "{not json"),
        ("SUMMARIZER_GENERATION", "[1]"),
    ],
)
def test_bad_values_name_the_variable(name, value):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})


def test_an_unknown_variable_is_refused_with_the_closest_name():
    with pytest.raises(
        ConfigError, match="SUMMARIZER_SHORT_WORDS is not a setting; did you mean SUMMARIZER_SHORT_MAX_WORDS"
    ):
        Settings.from_env({"SUMMARIZER_SHORT_WORDS": "40"})


def test_torch_threads_share_the_cores_among_workers(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    assert Settings(web_concurrency=2).intra_op_threads == 4
    assert Settings(web_concurrency=16).intra_op_threads == 1
    assert Settings(torch_threads=3).intra_op_threads == 3


def test_default_threads_leave_room_to_refuse_requests_beyond_the_batch_and_queue():
    settings = Settings()
    assert settings.gunicorn_threads > settings.batch_max_size + settings.queue_max


def test_the_engine_gets_the_settings_named_like_its_arguments():
    settings = Settings(engine="abstractive", model="/m", max_chunks=3, batch_max_size=4, short_max_words_limit=90)
    # Engine settings left unset take the engine's defaults; service settings the engine needs are passed.
    expected = {"model": "/m", "max_chunks": 3, "short_max_words_limit": 90}
    assert settings.arguments_for(AbstractiveEngine.load) == expected
    assert Settings().arguments_for(AbstractiveEngine.load) == {"model": None, "short_max_words_limit": 200}  # required


@pytest.fixture(scope="module")
def bart(tmp_path_factory):
    return str(build_bart(tmp_path_factory.mktemp("bart"), steps=0))


def test_a_missing_model_names_the_variable_and_the_path(tmp_path):
    missing = tmp_path / "no-such-model"
    with pytest.raises(ConfigError) as caught:
        build_engine(Settings(engine="abstractive", model=str(missing)))
    message = str(caught.value)
    assert message.startswith("SUMMARIZER_MODEL: ") and str(missing) in message and "\n" not in message


@pytest.mark.parametrize(
    ("raw", "match"), [('{"long": {}}', "keys among"), ('{"short": {"beams": 2}}', "unknown generate")]
)
def test_bad_generation_presets_name_the_variable(bart, raw, match):
    with pytest.raises(ConfigError, match=f"SUMMARIZER_GENERATION.*{match}"):
        build_engine(Settings.from_env({"SUMMARIZER_MODEL": bart, "SUMMARIZER_GENERATION": raw}))


def test_cuda_device_requires_a_gpu(bart):
    if torch.cuda.is_available():
        pytest.skip("a GPU is visible")
    with pytest.raises(ConfigError, match="SUMMARIZER_DEVICE"):
        build_engine(Settings(engine="abstractive", model=bart, device="cuda"))


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        (
            {"SUMMARIZER_BATCH_MAX_SIZE": "64"},
            "GUNICORN_THREADS (64) must exceed SUMMARIZER_BATCH_MAX_SIZE + SUMMARIZER_QUEUE_MAX",
        ),
        ({"SUMMARIZER_QUEUE_MAX": "48"}, "must exceed"),
        ({"SUMMARIZER_BATCH_MAX_SIZE": "0"}, "SUMMARIZER_BATCH_MAX_SIZE must be at least 1"),
        ({"SUMMARIZER_REQUEST_TIMEOUT_S": "0"}, "SUMMARIZER_REQUEST_TIMEOUT_S must be at least 1"),
        ({"SUMMARIZER_LOG_FORMAT": "xml"}, "SUMMARIZER_LOG_FORMAT must be one of text, json"),
    ],
)
def test_settings_that_would_disable_a_protection_are_refused(environment, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)").replace("+", r"\+")):
        Settings.from_env(environment)


def test_a_queue_of_zero_is_allowed_and_means_no_waiting_jobs():
    assert Settings.from_env({"SUMMARIZER_QUEUE_MAX": "0"}).queue_max == 0


@pytest.mark.parametrize(("raw", "value"), [("1", True), ("true", True), ("YES", True), ("0", False), ("False", False)])
def test_switches_read_the_usual_words(raw, value):
    assert Settings.from_env({"SUMMARIZER_FETCH_URLS": raw}).fetch_urls is value
    assert Settings.from_env({}).fetch_urls is False  # fetching URLs is off unless asked for


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SUMMARIZER_FETCH_URLS", "maybe"),
        ("SUMMARIZER_FETCH_URLS", "2"),
        ("SUMMARIZER_FETCH_ALLOW", "10.0.0.0/8, not a host!"),
        ("SUMMARIZER_MAX_PAGE_BYTES", "0"),
        ("SUMMARIZER_FETCH_TIMEOUT_S", "0"),
    ],
)
def test_bad_page_settings_name_the_variable(name, value):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})


def test_the_fetch_allow_list_takes_hosts_and_networks():
    settings = Settings.from_env({"SUMMARIZER_FETCH_ALLOW": "intranet.example, 10.1.0.0/16, ::1"})
    assert settings.fetch_allow == "intranet.example, 10.1.0.0/16, ::1"


# -- every setting reaches what it configures ----------------------------------------------------------------


def test_abstractive_engine_settings_reach_the_engine(bart):
    engine = build_engine(
        Settings.from_env(
            {
                "SUMMARIZER_MODEL": bart,
                "SUMMARIZER_DTYPE": "bf16",
                "SUMMARIZER_GENERATE_BATCH": "3",
                "SUMMARIZER_MAX_INPUT_TOKENS": "64",
                "SUMMARIZER_MAX_CHUNKS": "2",
                "SUMMARIZER_CHUNK_OVERLAP": "0",
                "SUMMARIZER_SUPPORT_THRESHOLD": "0.25",
                "SUMMARIZER_DEVICE": "cpu",
            }
        )
    )
    info = engine.info()
    assert (info["dtype"], info["generate_batch"], info["max_input_tokens"]) == ("bfloat16", 3, 64)
    assert (info["max_chunks"], info["chunk_overlap_sentences"], info["support_threshold"]) == (2, 0, 0.25)
    assert info["device"] == "cpu"
    defaults = build_engine(Settings(engine="abstractive", model=bart)).info()
    assert (defaults["dtype"], defaults["max_chunks"], defaults["chunk_overlap_sentences"]) == ("float32", 8, 1)


def test_a_bad_dtype_names_the_variable(bart):
    with pytest.raises(ConfigError, match="SUMMARIZER_DTYPE"):
        build_engine(Settings.from_env({"SUMMARIZER_MODEL": bart, "SUMMARIZER_DTYPE": "int4"}))


def test_embedded_engine_settings_reach_the_engine():
    engine = build_engine(Settings.from_env({"SUMMARIZER_EMBEDDING_LAYERS": "2", "SUMMARIZER_DEVICE": "cpu"}))
    assert (engine.info()["embedding_layers"], engine.info()["device"]) == (2, "cpu")


REQUEST_TEXT = (
    "The city council approved a new transit plan on Tuesday after months of debate over its cost. "
    "The plan adds three bus lines and extends the tram to the airport by 2027. "
    "Council members said the project will cost about $1.2 billion over ten years. "
    "Opponents argued that the money should go to road repairs instead."
)


@pytest.fixture(scope="module")
def configured_app(engine):
    from service.app import create_app

    settings = Settings.from_env(
        {
            "SUMMARIZER_SHORT_MAX_WORDS": "12",
            "SUMMARIZER_SHORT_MAX_WORDS_LIMIT": "30",
            "SUMMARIZER_MAX_BULLETS": "2",
            "SUMMARIZER_MAX_BATCH_DOCUMENTS": "2",
            "SUMMARIZER_BATCH_MAX_WAIT_MS": "7",
            "SUMMARIZER_BATCH_MAX_SIZE": "4",
            "SUMMARIZER_QUEUE_MAX": "3",
            "SUMMARIZER_REQUEST_TIMEOUT_S": "9",
            "SUMMARIZER_MAX_INPUT_WORDS": "60",
            "SUMMARIZER_MAX_BODY_BYTES": "5000",
        }
    )
    return create_app(settings, engine)


def test_request_defaults_and_limits_come_from_the_settings(configured_app):
    client = configured_app.test_client()
    body = client.post("/v1/summarize", json={"text": REQUEST_TEXT}).get_json()
    assert len(body["bullets"]) == 2  # SUMMARIZER_MAX_BULLETS is the default
    assert len(body["short"].split()) <= 12  # SUMMARIZER_SHORT_MAX_WORDS is the default word budget
    wider = client.post("/v1/summarize", json={"text": REQUEST_TEXT, "short_max_words": 30}).get_json()
    assert len(wider["short"].split()) > 12
    too_long = client.post("/v1/summarize", json={"text": REQUEST_TEXT, "short_max_words": 31})
    assert too_long.status_code == 400 and too_long.get_json()["error"]["code"] == "out_of_range"
    over = client.post("/v1/summarize/batch", json={"documents": [{"text": REQUEST_TEXT}] * 3})
    assert over.status_code == 400 and over.get_json()["error"]["code"] == "out_of_range"
    words = client.post("/v1/summarize", json={"text": "word " * 61})
    assert words.status_code == 413 and words.get_json()["error"]["code"] == "text_too_long"
    body = client.post("/v1/summarize", json={"text": "a" * 5_001})
    assert body.status_code == 413 and body.get_json()["error"]["code"] == "payload_too_large"


def test_info_reports_the_configured_limits_and_batching(configured_app):
    info = configured_app.test_client().get("/v1/info").get_json()
    assert info["limits"] == {
        **info["limits"],
        "max_body_bytes": 5000,
        "max_input_words": 60,
        "short_max_words": [5, 30],
        "default_short_max_words": 12,
        "default_max_bullets": 2,
        "max_batch_documents": 2,
        "request_timeout_s": 9,
    }
    assert info["batching"] == {"max_batch": 4, "max_wait_ms": 7, "max_queue": 3}
    state = configured_app.extensions["summarizer"]
    assert state.batcher.max_wait == pytest.approx(0.007) and state.admission.capacity == 4 + 3


def test_server_settings_reach_gunicorn(monkeypatch):
    import runpy

    for name, raw in {
        "HOST": "0.0.0.0",
        "PORT": "9123",
        "WEB_CONCURRENCY": "3",
        "GUNICORN_THREADS": "70",
        "GUNICORN_TIMEOUT": "45",
        "SUMMARIZER_LOG_FORMAT": "json",
    }.items():
        monkeypatch.setenv(name, raw)
    conf = runpy.run_module("service.gunicorn_conf")
    assert (conf["bind"], conf["workers"], conf["threads"], conf["timeout"]) == ("0.0.0.0:9123", 3, 70, 45)
    assert "json" in str(conf["logconfig_dict"]).lower()


def test_a_bad_server_setting_stops_gunicorn_with_the_variable_named(monkeypatch):
    import runpy

    monkeypatch.setenv("WEB_CONCURRENCY", "0")
    with pytest.raises(SystemExit, match="WEB_CONCURRENCY must be at least 1"):
        runpy.run_module("service.gunicorn_conf")


def test_torch_threads_setting_is_used_as_given():
    assert Settings.from_env({"SUMMARIZER_TORCH_THREADS": "3"}).intra_op_threads == 3
