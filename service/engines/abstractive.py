"""The abstractive engine: any transformers summarization model behind the engine interface.

For a batch of jobs: each article is cut into token-aware chunks on sentence
boundaries; articles with several chunks are condensed map-reduce style (every
chunk summarized, the summaries chunked again until they fit one input); then the
short summary and the bullets are generated for all jobs together. Outputs are
trimmed to complete sentences (nothing cut off by the token limit survives), chat
lists are parsed into bullets, and every passage is grounded in the source
sentences that support it. When a model yields no complete sentence the closest
source sentence stands in, flagged in `warnings`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence

import torch

from service.config import ENV, ConfigError, Settings
from service.embedder import Embedder
from service.engines.base import Job, Passage, Summary
from service.engines.chunking import chunk_sentences
from service.engines.generation import Generated, Generator, Request
from service.grounding import embed_sentences, ground_many, similarities
from service.text import Document, count_words, has_word, is_complete, normalize_space, split_sentences

SHORT_SENTENCES = 2
MAX_REDUCE_ROUNDS = 8
_LIST_MARKER = re.compile(r"^\s*(?:[-*•·–—▪‣●◦]|\(?\d{1,2}[.)]|\(?[a-zA-Z][.)](?=\s))\s*")
_LABEL = re.compile(r"^\s*(?:summary|tl;?dr|short summary)\s*:\s*", re.IGNORECASE)
_EMPHASIS = re.compile(r"\*\*|__")


@dataclass
class _Draft:
    """The texts chosen for one job before grounding."""

    short: str | None = None
    bullets: list[str] | None = None
    warnings: list[str] = field(default_factory=list)


class AbstractiveEngine:
    """Generates summaries with a seq2seq or chat model; grounds them with MiniLM."""

    name = "abstractive"

    def __init__(
        self,
        generator: Generator,
        embedder: Embedder,
        max_chunks: int = Settings.max_chunks,
        chunk_overlap: int = Settings.chunk_overlap,
        support_threshold: float = Settings.support_threshold,
    ):
        self.generator = generator
        self.embedder = embedder
        self.max_chunks = max_chunks
        self.chunk_overlap = chunk_overlap
        self.support_threshold = support_threshold

    @classmethod
    def from_settings(cls, settings: Settings) -> "AbstractiveEngine":
        if not settings.model:
            raise ConfigError(f"{ENV['model']} is not set; it names the model directory or cached hub id to serve")
        if settings.max_chunks < 1:
            raise ConfigError(f"{ENV['max_chunks']} must be at least 1, got {settings.max_chunks}")
        generator = Generator(
            settings.model,
            settings.device,
            settings.dtype,
            settings.generation,
            settings.generate_batch,
            settings.max_input_tokens,
            settings.max_short_words,
        )
        embedder = Embedder(settings.embedding_model, device=generator.device)
        return cls(generator, embedder, settings.max_chunks, settings.chunk_overlap, settings.support_threshold)

    def info(self) -> dict:
        return {
            "engine": self.name,
            "model": self.generator.name,
            **self.generator.info(),
            "max_chunks": self.max_chunks,
            "chunk_overlap_sentences": self.chunk_overlap,
            "support_threshold": self.support_threshold,
            "grounding_model": str(self.embedder.path),
        }

    def summarize(self, jobs: Sequence[Job]) -> list[Summary]:
        summaries = [Summary() for _ in jobs]
        chunked = [self._chunk(job.document, summary) for job, summary in zip(jobs, summaries)]
        texts = self._condense(chunked, summaries)
        vectors = embed_sentences([job.document for job in jobs], self.embedder)  # shared by fallback and grounding
        drafts = self._drafts(jobs, texts, vectors)
        items = [(_passages(draft), job.document) for job, draft in zip(jobs, drafts)]
        grounded = ground_many(items, self.embedder, vectors=vectors)
        for summary, draft, passages in zip(summaries, drafts, grounded):
            self._fill(summary, draft, passages)
        return summaries

    # -- long articles ---------------------------------------------------------------------

    def _chunk(self, document: Document, summary: Summary) -> list[str]:
        """The article as model inputs; past `max_chunks` the rest is dropped, with a warning."""
        sentences = [normalize_space(s.text) for s in document.sentences] or [normalize_space(document.text)]
        chunks = chunk_sentences(sentences, self.generator.count_tokens, self.generator.input_budget, self.chunk_overlap)
        if len(chunks) > self.max_chunks:
            summary.warnings.append(
                f"the article needs {len(chunks)} chunks of {self.generator.input_budget} tokens; only the first "
                f"{self.max_chunks} were summarized (raise {ENV['max_chunks']} to cover it all)"
            )
            chunks = chunks[: self.max_chunks]
        summary.chunks = len(chunks)
        summary.input_tokens = sum(self.generator.count_tokens(chunks))
        return chunks

    def _condense(self, chunked: list[list[str]], summaries: list[Summary]) -> list[str]:
        """One input text per job: multi-chunk articles are summarized chunk by chunk until they fit."""
        texts = [chunks[0] for chunks in chunked]
        pending = {i: chunks for i, chunks in enumerate(chunked) if len(chunks) > 1}
        for _ in range(MAX_REDUCE_ROUNDS):
            if not pending:
                break
            flat = [(i, chunk) for i, chunks in pending.items() for chunk in chunks]
            outputs = self.generator.generate([Request("map", chunk) for _, chunk in flat])
            condensed: dict[int, list[str]] = {}
            for (i, chunk), output in zip(flat, outputs):
                condensed.setdefault(i, []).extend(complete_sentences(output) or _sentences(chunk)[:1])
            pending = {}
            for i, sentences in condensed.items():
                chunks = chunk_sentences(sentences, self.generator.count_tokens, self.generator.input_budget, overlap=0)
                texts[i] = chunks[0]
                if len(chunks) > 1:
                    pending[i] = chunks
        for i in pending:
            summaries[i].warnings.append("the chunk summaries did not fit one input; the summary covers their first part only")
        return texts

    # -- final outputs ---------------------------------------------------------------------

    def _drafts(self, jobs: Sequence[Job], texts: list[str], vectors: list[torch.Tensor]) -> list[_Draft]:
        requests: list[Request] = []
        owners: list[int] = []
        for i, (job, text) in enumerate(zip(jobs, texts)):
            kinds = (["short"] if job.options.wants_short else []) + (["bullets"] if job.options.wants_bullets else [])
            for kind in kinds:
                requests.append(Request(kind, text, job.options.short_max_words, job.options.max_bullets))
                owners.append(i)
        drafts = [_Draft() for _ in jobs]
        fallbacks: list[tuple[int, Request, str]] = []
        for i, request, output in zip(owners, requests, self.generator.generate(requests)):
            if request.kind == "short":
                drafts[i].short = short_text(output, request.max_words, self.generator.is_chat)
                missing = drafts[i].short is None
            else:
                drafts[i].bullets = bullet_texts(output, request.max_bullets, self.generator.is_chat) or None
                missing = drafts[i].bullets is None
            if missing:
                fallbacks.append((i, request, output.text))
        self._fall_back(jobs, drafts, fallbacks, vectors)
        return drafts

    def _fall_back(
        self, jobs: Sequence[Job], drafts: list[_Draft], fallbacks: list[tuple[int, Request, str]], vectors: list[torch.Tensor]
    ) -> None:
        """The source sentence closest to what the model wrote (the lead when it wrote nothing); `vectors`: per job."""
        documents = [jobs[i].document for i, _, _ in fallbacks]
        queries = [text if has_word(text) else _lead(doc) for (_, _, text), doc in zip(fallbacks, documents)]
        scored = similarities(queries, [vectors[i] for i, _, _ in fallbacks], self.embedder)
        for (i, request, _), document, scores in zip(fallbacks, documents, scored):
            sentence = _closest_fitting(document, scores.tolist(), request.max_words if request.kind == "short" else None)
            if request.kind == "short":
                drafts[i].short = sentence
                problem = f"short: the model wrote no complete sentence within {request.max_words} words"
            else:
                drafts[i].bullets = [sentence]
                problem = "bullets: the model wrote no complete sentence"
            drafts[i].warnings.append(f"{problem}; the closest source sentence is returned instead")

    def _fill(self, summary: Summary, draft: _Draft, passages: list[Passage]) -> None:
        """Grounded passages into the summary; passages below the support threshold are flagged."""
        summary.warnings += draft.warnings
        if draft.short is not None:
            summary.short, passages = passages[0], passages[1:]
            self._flag(summary, "short", summary.short)
        if draft.bullets is not None:
            summary.bullets = passages
            for number, bullet in enumerate(passages, 1):
                self._flag(summary, f"bullet {number}", bullet)

    def _flag(self, summary: Summary, label: str, passage: Passage) -> None:
        if passage.support is not None and passage.support < self.support_threshold:
            summary.warnings.append(
                f"{label}: support {passage.support:.2f} is below {self.support_threshold:.2f}; it may not be stated in the article"
            )


# -- output cleaning (pure functions) ---------------------------------------------------------


def complete_sentences(output: Generated) -> list[str]:
    """The output's sentences, minus a last one that the token limit cut off."""
    sentences = _sentences(output.text)
    if sentences and not output.finished and not is_complete(sentences[-1]):
        sentences.pop()
    return sentences


def short_text(output: Generated, max_words: int, is_chat: bool) -> str | None:
    """The leading complete sentences (at most two) that fit in `max_words`; None when none does."""
    if is_chat:
        output = Generated(" ".join(_clean_item(line) for line in output.text.splitlines()), output.finished)
    chosen: list[str] = []
    for sentence in complete_sentences(output)[:SHORT_SENTENCES]:
        if count_words(" ".join(chosen + [sentence])) > max_words:
            break
        chosen.append(sentence)
    return " ".join(chosen) or None


def bullet_texts(output: Generated, max_bullets: int, is_chat: bool) -> list[str]:
    """1..max_bullets distinct complete bullets: list items from a chat model, sentences from seq2seq."""
    items = parse_list(output) if is_chat else []
    bullets: list[str] = []
    for text in items or complete_sentences(output):
        if text.casefold() not in {b.casefold() for b in bullets}:
            bullets.append(text)
    return bullets[:max_bullets]


def parse_list(output: Generated) -> list[str]:
    """Items of a bulleted or numbered list; preamble lines and an item cut off by the limit are dropped."""
    lines = [line for line in output.text.splitlines() if line.strip()]
    items = [_clean_item(line) for line in lines if _LIST_MARKER.match(line)]
    items = [item for item in items if has_word(item)]
    cut = not output.finished and lines and _LIST_MARKER.match(lines[-1])
    if items and cut and not is_complete(items[-1]):
        items.pop()
    return items


def _clean_item(line: str) -> str:
    """A chat line without its label ("Summary:"), list marker and emphasis."""
    return normalize_space(_EMPHASIS.sub("", _LIST_MARKER.sub("", _LABEL.sub("", line))))


def _sentences(text: str) -> list[str]:
    return [normalize_space(s.text) for s in split_sentences(text) if has_word(s.text)]


def _lead(document: Document) -> str:
    return document.sentences[0].text if document.sentences else document.text


def _closest_fitting(document: Document, scores: list[float], max_words: int | None) -> str:
    """The best-scoring sentence within `max_words`, else the shortest of the top three."""
    sentences = document.sentences
    if not sentences:
        return normalize_space(document.text)
    ranked = sorted(range(len(scores)), key=lambda i: -scores[i])
    fitting = [i for i in ranked if max_words is None or sentences[i].words <= max_words]
    best = fitting[0] if fitting else min(ranked[:3], key=lambda i: sentences[i].words)
    return normalize_space(sentences[best].text)


def _passages(draft: _Draft) -> list[str]:
    return ([draft.short] if draft.short is not None else []) + (draft.bullets or [])
