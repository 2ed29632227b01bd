"""The abstractive engine on tiny local models (BART-like, T5-like, chat)."""

import pytest
from tiny_models import ARTICLE, LONG_ARTICLE, build_bart, build_chat, build_t5, one_thread

from service.app import create_app
from service.config import Settings
from service.domain import Document, Job, Options, Summary
from service.engines.abstractive import AbstractiveEngine
from service.engines.abstractive.loading import ModelNotFoundError
from service.text import prepare, split_sentences

pytestmark = pytest.mark.slow

# Small beams and limits keep the CPU tests fast; one test runs the family defaults.
FAST = {
    "short": {"num_beams": 2},
    "bullets": {"num_beams": 2, "min_new_tokens": 8, "max_new_tokens": 40},
    "map": {"num_beams": 2, "min_new_tokens": 8, "max_new_tokens": 32},
}
CHAT_FAST = {"short": {"max_new_tokens": 40}, "bullets": {"max_new_tokens": 64}, "map": {"max_new_tokens": 48}}


@pytest.fixture(scope="module", autouse=True)
def single_thread():
    with one_thread():
        yield


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return {
        "bart": build_bart(root / "bart"),
        "t5": build_t5(root / "t5"),
        "chat": build_chat(root / "chat"),
        "bart-no-periods": build_bart(root / "bart-no-periods", periods=False, steps=0),
        "t5-no-prefix": build_t5(root / "t5-no-prefix", task_prefix=False, steps=0),
        "decoder-no-template": build_chat(root / "decoder-no-template", template=False),
    }


def load(path, presets=None, **arguments) -> AbstractiveEngine:
    return AbstractiveEngine.load(
        str(path), device="cpu", generation=presets if presets is not None else FAST, **arguments
    )


@pytest.fixture(scope="module")
def bart(models):
    return load(models["bart"])


@pytest.fixture(scope="module")
def t5(models):
    return load(models["t5"])


@pytest.fixture(scope="module")
def chat(models):
    return load(models["chat"], CHAT_FAST)


def assert_contract(summary: Summary, document: Document, options: Options) -> None:
    """Types and counts, complete sentences, grounding spans inside the input."""
    assert (summary.short is not None) == options.wants_short
    assert (summary.bullets is not None) == options.wants_bullets
    passages = ([summary.short] if summary.short else []) + (summary.bullets or [])
    if summary.bullets is not None:
        assert 1 <= len(summary.bullets) <= options.max_bullets
        assert len({b.text for b in summary.bullets}) == len(summary.bullets)
    if summary.short is not None:
        assert len(summary.short.text.split()) <= options.short_max_words
        assert len(split_sentences(summary.short.text)) <= 2
    starts = {s.start for s in document.sentences}
    for passage in passages:
        assert isinstance(passage.text, str) and passage.text.strip()
        assert split_sentences(passage.text)[-1].complete, passage.text
        assert isinstance(passage.support, float) and -1.0 <= passage.support <= 1.0001
        if len(split_sentences(passage.text)) == 1:
            assert passage.sources[0].score == pytest.approx(passage.support, abs=1e-3)
        for source in passage.sources:
            assert source.start in starts and 0 <= source.start < source.end <= len(document.text)
    assert summary.chunks >= 1 and all(isinstance(w, str) for w in summary.warnings)
    assert summary.input_tokens >= len(document.sentences)


@pytest.mark.parametrize("family", ["bart", "t5", "chat"])
def test_every_family_meets_the_contract(request, family):
    engine = request.getfixturevalue(family)
    document = prepare(ARTICLE)
    summary = engine.summarize([Job(document, Options())])[0]
    assert_contract(summary, document, Options())
    assert summary.chunks == 1


def test_family_default_presets(models):
    engine = load(models["bart"], presets={})
    assert engine.info()["generation"]["bullets"]["num_beams"] == 4
    document = prepare(ARTICLE)
    options = Options(max_bullets=3, short_max_words=20)
    assert_contract(engine.summarize([Job(document, options)])[0], document, options)


def test_batch_of_jobs_with_different_options(bart):
    jobs = [
        Job(prepare(ARTICLE), Options(style="short", short_max_words=15)),
        Job(prepare(LONG_ARTICLE), Options(style="bullets", max_bullets=2)),
        Job(prepare(ARTICLE), Options(style="both", max_bullets=1)),
    ]
    summaries = bart.summarize(jobs)
    assert len(summaries) == 3
    for job, summary in zip(jobs, summaries):
        assert_contract(summary, job.document, job.options)
    assert [s.chunks > 1 for s in summaries] == [False, True, False]


def test_jobs_of_a_batch_share_generate_calls(bart, monkeypatch):
    rows = []
    generate = bart.generator.model.generate
    monkeypatch.setattr(
        bart.generator.model, "generate", lambda **kw: rows.append(kw["input_ids"].shape[0]) or generate(**kw)
    )
    bart.summarize([Job(prepare(ARTICLE), Options()) for _ in range(3)])
    assert rows == [3, 3]  # one call for the three short summaries, one for the three bullet lists


def test_long_article_is_chunked_not_truncated(bart):
    document = prepare(LONG_ARTICLE)
    summary = bart.summarize([Job(document, Options())])[0]
    budget = bart.info()["chunk_tokens"]
    tokens = sum(bart.generator.count_tokens([s.text for s in document.sentences]))
    assert summary.chunks >= tokens // budget + 1 > 1
    assert_contract(summary, document, Options())
    assert not any("chunks" in w for w in summary.warnings)


def test_chunk_cap_is_reported(models):
    engine = load(models["bart"], max_chunks=2)
    document = prepare(LONG_ARTICLE)
    summary = engine.summarize([Job(document, Options(style="bullets"))])[0]
    assert summary.chunks == 2
    assert any("max_chunks" in w for w in summary.warnings)
    assert_contract(summary, document, Options(style="bullets"))


def test_long_article_through_a_chat_model(models):
    engine = load(models["chat"], CHAT_FAST, max_input_tokens=400)
    document = prepare(LONG_ARTICLE)
    summary = engine.summarize([Job(document, Options())])[0]
    assert summary.chunks > 1
    assert_contract(summary, document, Options())


def test_cut_off_output_falls_back_to_a_source_sentence(models):
    """With no sentence end in its vocabulary and EOS blocked, the model can only be cut off."""
    presets = {kind: {"num_beams": 1, "min_new_tokens": 12, "max_new_tokens": 12} for kind in ("short", "bullets")}
    engine = load(models["bart-no-periods"], presets)
    document = prepare(ARTICLE)
    summary = engine.summarize([Job(document, Options())])[0]
    sentences = {s.text for s in document.sentences}
    assert summary.short.text in sentences
    assert [b.text for b in summary.bullets] == [summary.bullets[0].text] and summary.bullets[0].text in sentences
    assert sum("closest source sentence" in w for w in summary.warnings) == 2
    assert summary.short.support == pytest.approx(1.0, abs=1e-3)


def test_low_support_is_flagged(models):
    document = prepare(ARTICLE)
    strict = load(models["bart"], support_threshold=1.5).summarize([Job(document, Options())])[0]
    flagged = [w for w in strict.warnings if "support" in w and "below 1.50" in w]
    assert len(flagged) == 1 + len(strict.bullets)
    lenient = load(models["bart"], support_threshold=-1.0).summarize([Job(document, Options())])[0]
    assert not [w for w in lenient.warnings if "below" in w]


def test_t5_task_prefix_from_config_or_family_rule(models, t5):
    assert t5.generator.prefix == "summarize: "
    assert load(models["t5-no-prefix"]).generator.prefix == "summarize: "


def test_path_is_chosen_from_the_config_not_the_name(models, tmp_path):
    renamed = tmp_path / "t5-looking-name"
    renamed.symlink_to(models["chat"], target_is_directory=True)
    engine = load(renamed, CHAT_FAST)
    assert engine.info()["family"] == "chat" and engine.generator.is_chat


def test_info_reports_the_model(bart, models):
    info = bart.info()
    assert info["engine"] == "abstractive" and info["family"] == "bart"
    assert info["path"] == str(models["bart"]) and info["device"] == "cpu" and info["dtype"] == "float32"
    assert info["max_input_tokens"] == 128 and 0 < info["chunk_tokens"] < 128


def test_http_api_serves_the_abstractive_model(models, bart):
    client = create_app(Settings(engine="abstractive", model=str(models["bart"])), bart).test_client()
    info = client.get("/v1/info").get_json()["engine"]
    assert (info["family"], info["device"], info["max_input_tokens"]) == ("bart", "cpu", 128)
    body = client.post("/v1/summarize", json={"text": LONG_ARTICLE, "max_bullets": 3}).get_json()
    assert isinstance(body["short"], str) and 1 <= len(body["bullets"]) <= 3
    assert body["stats"]["chunks"] > 1 and body["engine"]["name"] == "abstractive"
    for grounding in [body["grounding"]["short"], *body["grounding"]["bullets"]]:
        assert all(LONG_ARTICLE[s["start"] : s["end"]].strip() for s in grounding["sources"])
        assert isinstance(grounding["support"], float)


def test_a_missing_model_is_a_one_line_error_naming_it(tmp_path):
    missing = tmp_path / "no-such-model"
    with pytest.raises(ModelNotFoundError) as caught:
        AbstractiveEngine.load(str(missing))
    assert caught.value.argument == "model" and str(missing) in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(ModelNotFoundError, match="Hugging Face cache"):
        AbstractiveEngine.load("acme/not-downloaded")
    with pytest.raises(ModelNotFoundError, match="config.json"):
        AbstractiveEngine.load(str(tmp_path))


def test_decoder_only_model_needs_a_chat_template(models):
    with pytest.raises(ModelNotFoundError, match="chat template"):
        load(models["decoder-no-template"])


def test_a_fallback_summary_embeds_each_document_sentence_once(models):
    """A cut-off model (no sentence ends, EOS blocked) falls back for both outputs; the article is embedded once."""
    presets = {kind: {"num_beams": 1, "min_new_tokens": 12, "max_new_tokens": 12} for kind in ("short", "bullets")}
    engine = load(models["bart-no-periods"], presets)
    encoded = []
    encode = engine.embedder.encode
    engine.embedder.encode = lambda texts: encoded.extend(texts) or encode(texts)
    document = prepare(ARTICLE)
    summary = engine.summarize([Job(document, Options())])[0]
    assert sum("closest source sentence" in w for w in summary.warnings) == 2
    # the article's sentences, plus 2 fallback queries and the 2 grounded one-sentence passages
    assert len(encoded) == len(document.sentences) + 2 + 2
