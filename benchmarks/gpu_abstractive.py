"""Batched throughput of the abstractive engine on a distilbart-cnn-12-6-shaped model.

A randomly initialised BART (d_model 1024, 12 encoder / 6 decoder layers, 16 heads,
FFN 4096, vocab 50264) and a random MiniLM-shaped grounding encoder are saved to a
temporary directory and served through the real settings path. Each article has
~900 tokens; generation uses the engine's BART bullets preset (4 beams, 142 new
tokens; a random model never stops early, so every article costs the full 142).
For each dtype and batch size it times `engine.summarize` on one batch of jobs
(chunking, generate, output cleaning, grounding) next to a plain `model.generate`
with the same options, and prints a table; with $OUT set, the figures also go to
$OUT/gpu_abstractive.json.

    python3 -m benchmarks.gpu_abstractive                 # CUDA: fp32 and bf16, batch 1, 8, 32, 64
    python3 -m benchmarks.gpu_abstractive --tiny          # CPU smoke test of the same code path
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import transformers
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
from transformers import BartConfig, BartForConditionalGeneration, BertConfig, BertModel, PreTrainedTokenizerFast

from service.domain import Job, Options
from service.engines.abstractive import AbstractiveEngine
from service.engines.abstractive.generation import Request
from service.text import prepare

SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "[CLS]", "[SEP]"]


@dataclass(frozen=True)
class Shape:
    """Model and workload sizes."""

    d_model: int
    encoder_layers: int
    decoder_layers: int
    heads: int
    ffn: int
    vocab: int
    article_tokens: int
    grounding_layers: int
    grounding_width: int


FULL = Shape(1024, 12, 6, 16, 4096, 50264, 900, 6, 384)
TINY = Shape(32, 1, 1, 2, 64, 2000, 120, 1, 32)


def word_tokenizer(vocab: list[str], bert: bool = False) -> PreTrainedTokenizerFast:
    """Word-level tokenizer: one token per word, so article length in tokens is exact."""
    backend = Tokenizer(models.WordLevel({w: i for i, w in enumerate(vocab)}, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    backend.decoder = decoders.WordPiece(prefix="##", cleanup=True)
    first, last = ("[CLS]", "[SEP]") if bert else ("<s>", "</s>")
    backend.post_processor = processors.TemplateProcessing(
        single=f"{first} $A {last}", special_tokens=[(first, vocab.index(first)), (last, vocab.index(last))]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
        model_max_length=1024,
    )


def build_models(root: Path, shape: Shape) -> tuple[Path, Path]:
    """Save the random summarizer and grounding encoder; return their directories."""
    torch.manual_seed(0)
    vocab = SPECIALS + ["."] + [f"w{i}" for i in range(shape.vocab - len(SPECIALS) - 1)]
    bart = BartConfig(
        vocab_size=shape.vocab,
        d_model=shape.d_model,
        encoder_layers=shape.encoder_layers,
        decoder_layers=shape.decoder_layers,
        encoder_attention_heads=shape.heads,
        decoder_attention_heads=shape.heads,
        encoder_ffn_dim=shape.ffn,
        decoder_ffn_dim=shape.ffn,
        max_position_embeddings=1024,
        bos_token_id=0,
        pad_token_id=1,
        eos_token_id=2,
        decoder_start_token_id=2,
        forced_bos_token_id=0,
        forced_eos_token_id=2,
    )
    bert = BertConfig(
        vocab_size=30522,
        hidden_size=shape.grounding_width,
        num_hidden_layers=shape.grounding_layers,
        num_attention_heads=max(1, shape.grounding_width // 32),
        intermediate_size=4 * shape.grounding_width,
        pad_token_id=vocab.index("<pad>"),
    )
    summarizer, grounding = root / "summarizer", root / "grounding"
    with torch.device("cuda" if torch.cuda.is_available() else "cpu"):
        BartForConditionalGeneration(bart).save_pretrained(summarizer)
        BertModel(bert).save_pretrained(grounding)
    word_tokenizer(vocab).save_pretrained(summarizer)
    word_tokenizer(vocab[:30522], bert=True).save_pretrained(grounding)
    return summarizer, grounding


def articles(count: int, shape: Shape, seed: int = 0) -> list[str]:
    """Articles of `shape.article_tokens` tokens: 20-word sentences of common words, one paragraph per 5 sentences."""
    rng = random.Random(seed)
    common = [f"w{i}" for i in range(min(5000, shape.vocab - 10))]
    result = []
    for _ in range(count):
        sentences = [" ".join(rng.choices(common, k=19)) + " ." for _ in range(shape.article_tokens // 20)]
        result.append("\n".join(" ".join(sentences[i : i + 5]) for i in range(0, len(sentences), 5)))
    return result


def time_engine(engine: AbstractiveEngine, texts: list[str]) -> float:
    jobs = [Job(prepare(text), Options(style="bullets")) for text in texts]
    started = time.perf_counter()
    summaries = engine.summarize(jobs)
    _sync()
    assert len(summaries) == len(texts) and all(s.bullets and s.chunks == 1 for s in summaries)
    return time.perf_counter() - started


def time_plain_generate(engine: AbstractiveEngine, texts: list[str]) -> float:
    """`model.generate` on the same inputs and preset: the floor the engine adds its work to."""
    generator = engine.generator
    started = time.perf_counter()
    batch = generator.tokenizer(
        texts, padding=True, truncation=True, max_length=generator.window, return_tensors="pt"
    ).to(generator.device)
    with torch.inference_mode():
        output = generator.model.generate(
            **batch, **generator.generate_options("bullets", generator.max_new_tokens(Request("bullets", "")))
        )
    generator.tokenizer.decode(output.cpu(), skip_special_tokens=True)
    _sync()
    return time.perf_counter() - started


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def measure(engine: AbstractiveEngine, texts: list[str], batch: int, repeats: int) -> dict:
    """Articles per second of the engine and of plain generate, `repeats` batches each."""
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    count = batch * repeats
    engine_s = sum(time_engine(engine, texts[i : i + batch]) for i in range(0, count, batch))
    plain_s = sum(time_plain_generate(engine, texts[i : i + batch]) for i in range(0, count, batch))
    peak = torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else None
    return {
        "batch": batch,
        "articles": count,
        "engine_articles_per_s": round(count / engine_s, 3),
        "generate_articles_per_s": round(count / plain_s, 3),
        "engine_overhead_pct": round(100 * (engine_s - plain_s) / plain_s, 1),
        "peak_gpu_gib": round(peak, 2) if peak is not None else None,
    }


def run(args: argparse.Namespace) -> dict:
    shape = TINY if args.tiny else FULL
    device = "cuda" if torch.cuda.is_available() else "cpu"
    texts = articles(max(args.batches) * args.repeats + 2, shape)
    results = []
    with tempfile.TemporaryDirectory() as root:
        summarizer, grounding = build_models(Path(root), shape)
        for dtype in args.dtypes:
            engine = AbstractiveEngine.load(
                str(summarizer),
                embedding_model=str(grounding),
                device=device,
                dtype=dtype,
                generate_batch=max(args.batches),
                generation={"bullets": {"max_new_tokens": args.max_new_tokens}},
            )
            time_engine(engine, texts[:2])  # warm-up: kernels, allocator
            for batch in sorted(args.batches, reverse=True):
                row = {
                    "dtype": dtype,
                    **measure(engine, texts, batch, args.repeats if batch > 1 else max(2, args.repeats)),
                }
                results.append(row)
                print(_format(row), flush=True)
            del engine
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
    return {"environment": _environment(shape, args), "results": results}


def _environment(shape: Shape, args: argparse.Namespace) -> dict:
    return {
        "device": torch.cuda.get_device_name() if torch.cuda.is_available() else platform.processor() or "cpu",
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "python": platform.python_version(),
        "cudnn_attention": torch.backends.cuda.cudnn_sdp_enabled(),
        "shape": shape.__dict__,
        "num_beams": 4,
        "max_new_tokens": args.max_new_tokens,
    }


HEADER = (
    f"{'dtype':<6} {'batch':>5} {'articles':>8} {'engine art/s':>12} "
    f"{'generate art/s':>14} {'overhead':>9} {'peak GiB':>9}"
)


def _format(row: dict) -> str:
    peak = "-" if row["peak_gpu_gib"] is None else f"{row['peak_gpu_gib']:.2f}"
    return (
        f"{row['dtype']:<6} {row['batch']:>5} {row['articles']:>8} {row['engine_articles_per_s']:>12.3f} "
        f"{row['generate_articles_per_s']:>14.3f} {row['engine_overhead_pct']:>8.1f}% {peak:>9}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiny", action="store_true", help="tiny model and articles (CPU smoke test)")
    parser.add_argument(
        "--batches", type=lambda s: [int(x) for x in s.split(",")], default=None, help="default 1,8,32,64 (tiny: 1,4)"
    )
    parser.add_argument(
        "--dtypes", type=lambda s: s.split(","), default=None, help="default fp32,bf16 on CUDA, fp32 on CPU"
    )
    parser.add_argument("--repeats", type=int, default=1, help="batches timed per point (batch 1: at least 2)")
    parser.add_argument("--max-new-tokens", type=int, default=None, help="default 142 (tiny: 16)")
    args = parser.parse_args()
    args.batches = args.batches or ([1, 4] if args.tiny else [1, 8, 32, 64])
    args.dtypes = args.dtypes or (["fp32", "bf16"] if torch.cuda.is_available() else ["fp32"])
    args.max_new_tokens = args.max_new_tokens or (16 if args.tiny else 142)
    print(HEADER, flush=True)
    report = run(args)
    print(json.dumps(report["environment"]))
    if os.environ.get("OUT"):
        path = Path(os.environ["OUT"]) / "gpu_abstractive.json"
        path.write_text(json.dumps(report, indent=2))
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
