"""Tiny transformers models for offline tests, saved with `save_pretrained` like real ones.

The tokenizer is a word-level vocabulary built from the test texts (with "." and
"\\n" as tokens), so decoded output is made of words and sentences. Each model is
random, then taught for a few dozen steps to write the lead sentences of a chunk
(seq2seq) or a "- " list of them (chat): enough that outputs contain sentence ends,
not a good summarizer. Nothing is downloaded.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import torch
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors
from transformers import (
    BartConfig,
    BartForConditionalGeneration,
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedModel,
    PreTrainedTokenizerFast,
    T5Config,
    T5ForConditionalGeneration,
)

from service.engines.abstractive.prompts import PROMPTS, SYSTEM_PROMPT
from service.text import split_sentences

PAD, EOS, UNK, BOS = "<pad>", "</s>", "<unk>", "<s>"
CHAT_ROLES = ("<|system|>", "<|user|>", "<|assistant|>")
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }} </s>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
_PIECES = Regex(r"\n|\w+|[^\w\s]")

PARAGRAPHS = [
    "The river council of Eastport approved a new flood wall on Monday after three years of debate. "
    "The wall will run for four miles along the north bank of the river. "
    "Engineers said the project will protect about twelve thousand homes from spring floods. "
    "The council voted seven to two in favour of the plan. "
    "Work is expected to start in June and to finish before the end of next year.",
    "The project will cost about ninety million dollars. "
    "Most of the money comes from a state grant that the city won last winter. "
    "The rest will be paid by a small increase in water fees. "
    "Two council members voted against the plan because of the higher fees. "
    "They said families in the old town already pay too much for water.",
    "Floods have hit Eastport four times in the past ten years. "
    "The worst flood, in the spring of last year, closed the main bridge for two weeks. "
    "Hundreds of shops in the old town lost their stock when the water rose. "
    "Many owners said they could not get insurance after the second flood. "
    "Some of them moved their shops to the hills east of the city.",
    "The new wall will be built from concrete and steel. "
    "It will have twelve gates that can be closed when the river rises. "
    "A park with a long walking path will be built on top of the wall. "
    "The mayor said the park will bring people back to the river. "
    "Local artists have been asked to paint murals on the side facing the city.",
    "Residents of the north bank welcomed the vote. "
    "A teacher who has lived near the river for thirty years said she finally feels safe. "
    "Farmers upstream were less happy with the plan. "
    "They fear that the wall will push more water onto their fields. "
    "The council promised to study the risk before the gates are finished.",
    "State officials will inspect the design in April. "
    "If they approve it, the first contracts will be signed in May. "
    "The city expects to hire about two hundred workers for the project. "
    "Most of them will come from Eastport and the nearby towns. "
    "The council will publish a report on the progress of the work every three months.",
]
ARTICLE = PARAGRAPHS[0]
LONG_ARTICLE = "\n\n".join(PARAGRAPHS)
CORPUS = [LONG_ARTICLE, SYSTEM_PROMPT, *PROMPTS.values(), "- 1 2 3 4 5 to"]


def word_tokenizer(
    texts: Sequence[str], *, chat: bool = False, periods: bool = True, max_length: int | None = None
) -> PreTrainedTokenizerFast:
    """A word-level tokenizer over the words of `texts`; `periods=False` leaves out sentence ends."""
    split = pre_tokenizers.Split(_PIECES, behavior="removed", invert=True)
    words = sorted({piece for text in texts for piece, _ in split.pre_tokenize_str(text)})
    if not periods:
        words = [w for w in words if w not in {".", "!", "?"}]
    specials = [PAD, EOS, UNK, BOS, *(CHAT_ROLES if chat else ())]
    backend = Tokenizer(models.WordLevel({token: i for i, token in enumerate(specials + words)}, unk_token=UNK))
    backend.pre_tokenizer = split
    backend.decoder = decoders.WordPiece(prefix="##", cleanup=True)
    if not chat:
        backend.post_processor = processors.TemplateProcessing(single=f"$A {EOS}", special_tokens=[(EOS, 1)])
    extra = {"extra_special_tokens": list(CHAT_ROLES), "chat_template": CHAT_TEMPLATE} if chat else {}
    sizes = {"model_max_length": max_length} if max_length else {}
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, pad_token=PAD, eos_token=EOS, unk_token=UNK, bos_token=BOS, **sizes, **extra
    )


def build_bart(directory: Path, *, periods: bool = True, steps: int = 80, window: int = 128) -> Path:
    """A BART-like model (learned positions: `window` input tokens)."""
    tokenizer = word_tokenizer(CORPUS, periods=periods)
    config = BartConfig(
        vocab_size=len(tokenizer),
        d_model=32,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=window,
        pad_token_id=0,
        eos_token_id=1,
        bos_token_id=3,
        decoder_start_token_id=1,
        forced_eos_token_id=1,
    )
    model = _seeded(BartForConditionalGeneration, config)
    _teach(model, steps, partial(_seq2seq_batch, tokenizer, "", window))
    return _save(directory, model, tokenizer)


def build_t5(directory: Path, *, task_prefix: bool = True, steps: int = 80, window: int = 128) -> Path:
    """A T5-like model; `n_positions` and `task_specific_params` as in the published t5 configs."""
    tokenizer = word_tokenizer(CORPUS + ["summarize:"])
    prefix = (
        {"task_specific_params": {"summarization": {"prefix": "summarize: ", "num_beams": 4}}} if task_prefix else {}
    )
    config = T5Config(
        vocab_size=len(tokenizer),
        d_model=32,
        d_kv=8,
        d_ff=64,
        num_layers=1,
        num_decoder_layers=1,
        num_heads=4,
        pad_token_id=0,
        eos_token_id=1,
        decoder_start_token_id=0,
        n_positions=window,
        **prefix,
    )
    model = _seeded(T5ForConditionalGeneration, config)
    _teach(model, steps, partial(_seq2seq_batch, tokenizer, "summarize: ", window))
    return _save(directory, model, tokenizer)


def build_chat(directory: Path, *, template: bool = True, steps: int = 60, window: int = 1024) -> Path:
    """A Llama-like decoder with a chat template, taught to answer with a "- " list."""
    tokenizer = word_tokenizer(CORPUS, chat=True)
    if not template:
        tokenizer.chat_template = None
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=window,
        pad_token_id=0,
        eos_token_id=1,
        bos_token_id=3,
        tie_word_embeddings=False,
    )
    model = _seeded(LlamaForCausalLM, config)
    if template:
        _teach(model, steps, partial(_chat_batch, tokenizer))
    return _save(directory, model, tokenizer)


@contextmanager
def one_thread():
    """Tiny models run fastest on one thread, and do not fight other processes for cores."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _seeded(cls: type[PreTrainedModel], config) -> PreTrainedModel:
    torch.manual_seed(0)
    return cls(config)


def _examples(count: int, seed: int = 0) -> list[tuple[str, list[str]]]:
    """(chunk of consecutive sentences, its first sentences) pairs from the long article."""
    sentences = [s.text for s in split_sentences(LONG_ARTICLE)]
    rng = random.Random(seed)
    starts = [rng.randrange(len(sentences) - 5) for _ in range(count)]
    return [(" ".join(sentences[i : i + 5]), sentences[i : i + 2]) for i in starts]


def _teach(model: PreTrainedModel, steps: int, batch_for: Callable[[int], dict]) -> None:
    """A few AdamW steps on `batch_for(step)` (forward arguments, labels included)."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    model.train()
    with one_thread():
        for step in range(steps):
            model(**batch_for(step)).loss.backward()
            optimizer.step()
            optimizer.zero_grad()
    model.eval()


def _seq2seq_batch(tokenizer, prefix: str, window: int, step: int) -> dict:
    pairs = _examples(8, seed=step)
    batch = tokenizer(
        [prefix + src for src, _ in pairs], padding=True, truncation=True, max_length=window, return_tensors="pt"
    )
    labels = tokenizer([" ".join(lead) for _, lead in pairs], padding=True, return_tensors="pt")["input_ids"]
    labels[labels == tokenizer.pad_token_id] = -100
    return {**batch, "labels": labels}


def _chat_batch(tokenizer, step: int) -> dict:
    rows = [_chat_example(tokenizer, src, lead) for src, lead in _examples(8, seed=step)]
    width = max(len(ids) for ids, _ in rows)
    ids = torch.tensor([ids + [tokenizer.pad_token_id] * (width - len(ids)) for ids, _ in rows])
    labels = torch.tensor([labels + [-100] * (width - len(labels)) for _, labels in rows])
    return {"input_ids": ids, "attention_mask": ids != tokenizer.pad_token_id, "labels": labels}


def _chat_example(tokenizer, source: str, lead: list[str]) -> tuple[list[int], list[int]]:
    instruction = PROMPTS["bullets"].format(bullets="3 to 5")
    messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": f"{instruction}\n\n{source}"}]
    prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    answer_ids = tokenizer("\n".join(f"- {s}" for s in lead), add_special_tokens=False)["input_ids"] + [
        tokenizer.eos_token_id
    ]
    return prompt_ids + answer_ids, [-100] * len(prompt_ids) + answer_ids


def _save(directory: Path, model: PreTrainedModel, tokenizer) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory
