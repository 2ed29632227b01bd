"""The real server with the abstractive engine on a GPU: batching off vs on, 64 clients.

A random distilbart-cnn-12-6-shaped model and a random MiniLM-shaped grounding
encoder (from `gpu_abstractive`) are saved to a temporary directory and served by
gunicorn exactly as in production; `benchmarks.load` drives it with concurrent
clients sending ~900-token articles (bullets, 4 beams, 142 new tokens). With $OUT
set, the figures also go to $OUT/gpu_server.json.

    python3 -m benchmarks.gpu_server [--clients 64] [--requests 128] [--dtype bf16]
    python3 -m benchmarks.gpu_server --tiny --clients 4 --requests 8    # CPU smoke test
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from benchmarks.gpu_abstractive import FULL, TINY, articles, build_models
from benchmarks.load import compare, throughput_ratio

TIMEOUT_S = 900  # with batching off, 64 clients queue behind one another for minutes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiny", action="store_true")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--requests", type=int, default=128)
    parser.add_argument(
        "--off-requests", type=int, default=None, help="requests with batching off (default: --requests)"
    )
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--max-new-tokens", type=int, default=None, help="default 142 (tiny: 16)")
    args = parser.parse_args()
    shape = TINY if args.tiny else FULL
    texts = articles(64, shape)
    with tempfile.TemporaryDirectory() as root:
        summarizer, grounding = build_models(Path(root), shape)
        env = {
            "SUMMARIZER_MODEL": str(summarizer),
            "SUMMARIZER_EMBEDDING_MODEL": str(grounding),
            "SUMMARIZER_DTYPE": args.dtype,
            "SUMMARIZER_GENERATION": json.dumps(
                {"bullets": {"max_new_tokens": args.max_new_tokens or (16 if args.tiny else 142)}}
            ),
            "SUMMARIZER_GENERATE_BATCH": str(args.clients),
            "SUMMARIZER_BATCH_MAX_SIZE": str(args.clients),
            "SUMMARIZER_BATCH_MAX_WAIT_MS": "20",
            "SUMMARIZER_QUEUE_MAX": str(args.clients),
            "SUMMARIZER_REQUEST_TIMEOUT_S": str(TIMEOUT_S),
            "GUNICORN_THREADS": str(2 * args.clients + 8),  # more than batch + queue
            "GUNICORN_TIMEOUT": str(TIMEOUT_S),
        }
        requests = {"off": args.off_requests or args.requests, "on": args.requests}
        warm_up = {"off": 2, "on": args.clients}
        results = compare(
            texts, args.clients, requests, "bullets", ["off", "on"], env, warm_up=warm_up, timeout_s=TIMEOUT_S
        )
    ratio = throughput_ratio(results)
    if os.environ.get("OUT"):
        Path(os.environ["OUT"], "gpu_server.json").write_text(
            json.dumps({"clients": args.clients, "ratio": ratio, "results": results}, indent=2)
        )


if __name__ == "__main__":
    main()
