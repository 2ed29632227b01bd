"""Per-article time of the abstractive engine with a chat model on CPU, with prompt and generation tokens/s.

The engine is built as the server builds it (`service.config.build_engine`),
so a `.gguf` model is converted on first use and loaded from its converted copy after.
Each article is one `summarize` call (short summary and bullets, as the service does by
default). Forward hooks on the model time every forward pass: the first pass of a
`generate` call reads the prompt, the others each write one token. Outputs go to
`--out` as JSON, so two runs' texts can be compared (`--compare A.json`).

    python -m benchmarks.cpu_chat --model models/qwen2.5-coder-1.5b-instruct.gguf --dtype bf16 --limit 5 \
        --out reports/qwen-bf16.json
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
from pathlib import Path

import torch

from service.config import Settings, build_engine
from service.domain import Job, Options
from service.text import prepare

DEV_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "frank_cnndm.jsonl"


class ForwardTimer:
    """Seconds and tokens of prompt passes (more than one new position) and of one-token generation passes."""

    def __init__(self, model: torch.nn.Module):
        self.prompt_s = self.generate_s = 0.0
        self.prompt_tokens = self.generated_tokens = 0
        self._started = 0.0
        self._tokens = 0
        model.register_forward_pre_hook(self._before, with_kwargs=True)
        model.register_forward_hook(self._after)

    def _before(self, module, args, kwargs) -> None:
        ids = kwargs.get("input_ids", args[0] if args else None)
        self._tokens = int(ids.numel())
        self._started = time.perf_counter()

    def _after(self, module, args, output) -> None:
        elapsed = time.perf_counter() - self._started
        if self._tokens > 1:  # the prompt (one sequence per article: batch of 1)
            self.prompt_s += elapsed
            self.prompt_tokens += self._tokens
        else:
            self.generate_s += elapsed
            self.generated_tokens += 1

    def rates(self) -> dict:
        return {
            "prompt_tokens": self.prompt_tokens,
            "prompt_tokens_per_s": round(self.prompt_tokens / self.prompt_s, 1) if self.prompt_s else None,
            "generated_tokens": self.generated_tokens,
            "generate_tokens_per_s": round(self.generated_tokens / self.generate_s, 2) if self.generate_s else None,
        }


def load_articles(path: Path, limit: int, extra: list[Path]) -> list[tuple[str, str]]:
    records = [json.loads(line) for line in path.read_text().splitlines()[:limit]]
    return [(r["id"], r["article"]) for r in records] + [(p.name, p.read_text()) for p in extra]


def run(args: argparse.Namespace) -> dict:
    torch.set_num_threads(args.threads)
    generation = json.loads(args.generation) if args.generation else None
    settings = Settings(model=args.model, dtype=args.dtype, generation=generation)
    started = time.perf_counter()
    engine = build_engine(settings)
    load_s = time.perf_counter() - started
    if args.compile:
        engine.generator.model.forward = torch.compile(engine.generator.model.forward)
    timer = ForwardTimer(engine.generator.model)
    outputs, seconds = [], []
    for article_id, text in load_articles(args.data, args.limit, args.sample):
        job = Job(prepare(text), Options())
        started = time.perf_counter()
        [summary] = engine.summarize([job])
        seconds.append(time.perf_counter() - started)
        outputs.append(
            {
                "id": article_id,
                "seconds": round(seconds[-1], 2),
                "short": summary.short.text if summary.short else None,
                "bullets": [b.text for b in summary.bullets],
                "warnings": summary.warnings,
            }
        )
        print(json.dumps(outputs[-1], ensure_ascii=False), flush=True)
    return {
        "model": args.model,
        "dtype": args.dtype,
        "threads": args.threads,
        "generation": args.generation,
        "compile": args.compile,
        "load_s": round(load_s, 1),
        "seconds_p50": round(statistics.median(seconds), 2),
        "seconds_total": round(sum(seconds), 1),
        **timer.rates(),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "info": engine.info(),
        "outputs": outputs,
    }


def compare(ours: dict, path: Path) -> int:
    """Print the articles whose texts differ from another run's; the count."""
    theirs = {o["id"]: o for o in json.loads(path.read_text())["outputs"]}
    differing = 0
    for output in ours["outputs"]:
        other = theirs.get(output["id"])
        if other and (other["short"], other["bullets"]) != (output["short"], output["bullets"]):
            differing += 1
            print(f"differs from {path.name}: {output['id']}")
    return differing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="model directory, cached hub id or .gguf file")
    parser.add_argument(
        "--data", type=Path, default=DEV_DATA, help="JSONL with `id` and `article` (a dev file, never the report set)"
    )
    parser.add_argument("--limit", type=int, default=5, help="first N articles of --data")
    parser.add_argument(
        "--sample", type=Path, action="append", default=[], help="extra plain-text article (repeatable)"
    )
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--generation",
        default="",
        help='SUMMARIZER_GENERATION JSON, e.g. \'{"short": {"cache_implementation": "static"}}\'',
    )
    parser.add_argument("--compile", action="store_true", help="torch.compile the model's forward")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--compare", type=Path, help="another run's --out file: report articles whose texts differ")
    args = parser.parse_args()
    result = run(args)
    summary = {k: v for k, v in result.items() if k not in ("outputs", "info")}
    if args.compare:
        summary["differing_articles"] = compare(result, args.compare)
    print(json.dumps(summary))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
