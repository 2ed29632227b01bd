"""What the model is asked: generation presets per family and request kind, and the model input text.

Request kinds: `short`, `bullets`, and `map` (the chunk summaries of long articles).
Presets are family defaults (after the published configs of facebook/bart-large-cnn,
google/pegasus-cnn_dailymail and t5's task_specific_params.summarization), overridable
per deployment. Seq2seq models read the task prefix and the article; chat models get a
system prompt and an instruction through their chat template.
"""

from __future__ import annotations

from typing import Literal, get_args

from transformers import GenerationConfig

from service.engines.base import ArgumentError

Kind = Literal["short", "bullets", "map"]
KINDS: tuple[str, ...] = get_args(Kind)

_SEQ2SEQ = {
    "short": {
        "num_beams": 4,
        "no_repeat_ngram_size": 3,
        "length_penalty": 1.0,
        "min_new_tokens": 8,
        "early_stopping": True,
    },
    "bullets": {
        "num_beams": 4,
        "no_repeat_ngram_size": 3,
        "length_penalty": 2.0,
        "min_new_tokens": 40,
        "max_new_tokens": 142,
        "early_stopping": True,
    },
}
FAMILY_PRESETS: dict[str, dict[str, dict]] = {
    "bart": _SEQ2SEQ,
    "pegasus": {
        "short": {"num_beams": 8, "length_penalty": 0.8, "min_new_tokens": 8, "early_stopping": True},
        "bullets": {
            "num_beams": 8,
            "length_penalty": 0.8,
            "min_new_tokens": 32,
            "max_new_tokens": 128,
            "early_stopping": True,
        },
    },
    "t5": {
        "short": _SEQ2SEQ["short"],
        "bullets": {**_SEQ2SEQ["bullets"], "min_new_tokens": 30, "max_new_tokens": 150},
    },
    "seq2seq": _SEQ2SEQ,
    "chat": {
        "short": {"num_beams": 1, "do_sample": False, "repetition_penalty": 1.05},
        "bullets": {"num_beams": 1, "do_sample": False, "repetition_penalty": 1.05},
        "map": {"num_beams": 1, "do_sample": False, "repetition_penalty": 1.05, "max_new_tokens": 192},
    },
}

SYSTEM_PROMPT = (
    "You are a careful news editor. You summarize articles faithfully, using only facts stated in the article."
)
PROMPTS = {
    "short": (
        "Summarize the article below in one or two complete sentences, at most {words} words in total. State the "
        "facts themselves; do not mention the article. Reply with the summary only, as plain text."
    ),
    "bullets": (
        "List the {bullets} most important points of the article below as bullet points, one per line, each starting "
        'with "- ". Each point is one complete sentence ending with a period and states a different fact; do not '
        "mention the article. Reply with the list only, as plain text."
    ),
    "map": (
        "The text below is one part of a longer article. Summarize its key facts in at most five sentences. "
        "Reply with the summary only."
    ),
}


def check_overrides(overrides: dict | None) -> dict[str, dict]:
    """Deployment overrides of the presets, `{kind: {generate option: value}}`, checked against `GenerationConfig`."""
    if not overrides:
        return {}
    if not isinstance(overrides, dict) or not all(k in KINDS and isinstance(v, dict) for k, v in overrides.items()):
        raise ArgumentError(
            "generation", f"must be an object with keys among {', '.join(KINDS)}, each an object of generate() options"
        )
    reference = GenerationConfig()
    unknown = sorted({key for preset in overrides.values() for key in preset if not hasattr(reference, key)})
    if unknown:
        raise ArgumentError("generation", f"unknown generate() option(s) {', '.join(unknown)}")
    return overrides


def presets_for(family: str, overrides: dict[str, dict], free_window: int) -> dict[str, dict]:
    """Each kind's `generate` options: the family's defaults, then the overrides; `map` outputs must shrink the text."""
    defaults = FAMILY_PRESETS[family]
    presets = {kind: {**defaults.get(kind, defaults["bullets"]), **overrides.get(kind, {})} for kind in KINDS}
    map_cap = max(8, free_window // 3)
    presets["map"]["max_new_tokens"] = min(int(presets["map"].get("max_new_tokens", map_cap)), map_cap)
    return presets


def chat_messages(
    kind: str, text: str, short_max_words: int, max_bullets: int, system_role: bool
) -> list[dict[str, str]]:
    """The chat turns asking for `kind`; the system prompt joins the user turn where the template has no system role."""
    instruction = PROMPTS[kind].format(words=short_max_words, bullets=_bullet_range(max_bullets))
    content = f"{instruction}\n\n{text}"
    if system_role:
        return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": content}]
    return [{"role": "user", "content": f"{SYSTEM_PROMPT}\n\n{content}"}]


def _bullet_range(max_bullets: int) -> str:
    low = min(3, max_bullets)
    return str(max_bullets) if low == max_bullets else f"{low} to {max_bullets}"
