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

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from service.domain import SHORT_MAX_WORDS_LIMIT, Document, Job, Passage, Summary
from service.engines.abstractive.chunking import chunk_sentences
from service.engines.abstractive.generation import Generator, Request
from service.engines.abstractive.loading import load_model
from service.engines.abstractive.outputs import bullet_texts, complete_sentences, sentence_texts, short_text
from service.engines.base import ArgumentError, best_fitting
from service.engines.embedder import Embedder
from service.engines.grounding import embed_sentences, ground_many, similarities
from service.text import has_word, normalize_space

MAX_REDUCE_ROUNDS = 8
# 3.7% of CNN/DM reference highlight sentences score below 0.45 against their own
# article (5th percentile 0.47); 0.8% score above it against an unrelated article.
SUPPORT_THRESHOLD = 0.45


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
        self, generator: Generator, embedder: Embedder, max_chunks: int, chunk_overlap: int, support_threshold: float
    ):
        self.generator = generator
        self.embedder = embedder
        self.max_chunks = max_chunks
        self.chunk_overlap = chunk_overlap
        self.support_threshold = support_threshold

    @classmethod
    def load(
        cls,
        model: str | None,
        device: str = "auto",
        dtype: str = "auto",
        generation: dict | None = None,
        generate_batch: int = 0,
        max_input_tokens: int = 0,
        max_chunks: int = 8,
        chunk_overlap: int = 1,
        support_threshold: float = SUPPORT_THRESHOLD,
        embedding_model: str | None = None,
        short_max_words_limit: int = SHORT_MAX_WORDS_LIMIT,
        gguf_cache: str | None = None,
    ) -> AbstractiveEngine:
        """Load `model` (a directory or a cached hub id) and the MiniLM grounding model.

        `generation`: `generate` option overrides per kind; `generate_batch`: sequences per
        `generate` call (0: 32 on CUDA, 8 on CPU); `max_input_tokens`: the input window (0: the
        model's own); `max_chunks` / `chunk_overlap`: long articles; `support_threshold`: passages
        below it are flagged; `short_max_words_limit`: the longest short summary a request may ask for;
        `gguf_cache`: where a `.gguf` model is converted to (default: ~/.cache/article-summarizer/gguf).
        """
        if not model:
            raise ArgumentError("model", "is not set; it names the model directory or cached hub id to serve")
        if max_chunks < 1:
            raise ArgumentError("max_chunks", f"must be at least 1, got {max_chunks}")
        loaded = load_model(model, device, dtype, gguf_cache)
        generator = Generator(loaded, generation, generate_batch, max_input_tokens, short_max_words_limit)
        embedder = Embedder(embedding_model, device=loaded.device)
        return cls(generator, embedder, max_chunks, chunk_overlap, support_threshold)

    def info(self) -> dict:
        return {
            "engine": self.name,
            "model": self.generator.loaded.name,
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
        for job, summary, draft, passages in zip(jobs, summaries, drafts, grounded):
            self._fill(summary, draft, passages)
            if job.document.language not in (None, "en"):
                summary.warnings.append(
                    f"the article looks like {job.document.language!r}; support scores come from an English-only "
                    "model and are less reliable"
                )
        return summaries

    # -- long articles ---------------------------------------------------------------------

    def _chunk(self, document: Document, summary: Summary) -> list[str]:
        """The article as model inputs; past `max_chunks` the rest is dropped, with a warning."""
        sentences = [normalize_space(s.text) for s in document.sentences] or [normalize_space(document.text)]
        chunks = chunk_sentences(
            sentences, self.generator.count_tokens, self.generator.input_budget, self.chunk_overlap
        )
        if len(chunks) > self.max_chunks:
            summary.warnings.append(
                f"the article needs {len(chunks)} chunks of {self.generator.input_budget} tokens; only the first "
                f"{self.max_chunks} were summarized (raise the max_chunks setting to cover it all)"
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
                condensed.setdefault(i, []).extend(complete_sentences(output) or sentence_texts(chunk)[:1])
            pending = {}
            for i, sentences in condensed.items():
                chunks = chunk_sentences(sentences, self.generator.count_tokens, self.generator.input_budget, overlap=0)
                texts[i] = chunks[0]
                if len(chunks) > 1:
                    pending[i] = chunks
        for i in pending:
            summaries[i].warnings.append(
                "the chunk summaries did not fit one input; the summary covers their first part only"
            )
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
                drafts[i].short = short_text(output, request.short_max_words, self.generator.is_chat)
                missing = drafts[i].short is None
            else:
                drafts[i].bullets = bullet_texts(output, request.max_bullets, self.generator.is_chat) or None
                missing = drafts[i].bullets is None
            if missing:
                fallbacks.append((i, request, output.text))
        self._fall_back(jobs, drafts, fallbacks, vectors)
        return drafts

    def _fall_back(
        self,
        jobs: Sequence[Job],
        drafts: list[_Draft],
        fallbacks: list[tuple[int, Request, str]],
        vectors: list[torch.Tensor],
    ) -> None:
        """The source sentence closest to what the model wrote (the lead when it wrote nothing); `vectors`: per job."""
        documents = [jobs[i].document for i, _, _ in fallbacks]
        queries = [text if has_word(text) else _lead(doc) for (_, _, text), doc in zip(fallbacks, documents)]
        scored = similarities(queries, [vectors[i] for i, _, _ in fallbacks], self.embedder)
        for (i, request, _), document, scores in zip(fallbacks, documents, scored):
            sentence = _closest_fitting(
                document, scores.tolist(), request.short_max_words if request.kind == "short" else None
            )
            if request.kind == "short":
                drafts[i].short = sentence
                problem = f"short: the model wrote no complete sentence within {request.short_max_words} words"
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
                f"{label}: support {passage.support:.2f} is below {self.support_threshold:.2f}; "
                "it may not be stated in the article"
            )


def _lead(document: Document) -> str:
    return document.sentences[0].text if document.sentences else document.text


def _closest_fitting(document: Document, scores: list[float], max_words: int | None) -> str:
    """The best-scoring sentence within `max_words`, else the shortest of the top three."""
    if not document.sentences:
        return normalize_space(document.text)
    ranked = sorted(range(len(scores)), key=lambda i: -scores[i])
    return normalize_space(document.sentences[best_fitting(document.sentences, ranked, max_words)].text)


def _passages(draft: _Draft) -> list[str]:
    return ([draft.short] if draft.short is not None else []) + (draft.bullets or [])
