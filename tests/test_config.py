"""Settings are read from the environment in one place, with clear errors."""
import pytest

from service.config import ConfigError, Settings


def test_defaults():
    settings = Settings.from_env({})
    assert settings.engine == "embedded"
    assert (settings.host, settings.port, settings.workers) == ("127.0.0.1", 8000, 1)
    assert settings.max_body_bytes == 1_000_000 and settings.max_input_words == 20_000


def test_values_are_parsed_and_a_model_selects_the_abstractive_engine():
    settings = Settings.from_env({"PORT": "9000", "SUMMARIZER_MODEL": "/models/bart", "SUMMARIZER_MAX_INPUT_WORDS": "50"})
    assert settings.port == 9000 and settings.max_input_words == 50
    assert settings.engine == "abstractive" and settings.model == "/models/bart"


@pytest.mark.parametrize(("name", "value"), [("PORT", "http"), ("SUMMARIZER_MAX_BODY_BYTES", "-1"), ("SUMMARIZER_ENGINE", "magic")])
def test_bad_values_name_the_variable(name, value):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})


def test_torch_threads_share_the_cores_among_workers(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    assert Settings(workers=2).intra_op_threads == 4
    assert Settings(workers=16).intra_op_threads == 1
    assert Settings(torch_threads=3).intra_op_threads == 3


def test_default_threads_leave_room_to_refuse_requests_beyond_the_batch_and_queue():
    settings = Settings()
    assert settings.threads > settings.batch_max_size + settings.queue_max
