"""Train the embedded engine's sentence scorer (`service/engines/scorer.json`).

Labels: for each article, a greedy extractive oracle (up to 3 sentences maximising
ROUGE-1 + ROUGE-2 F1 against the reference). Features: `extractive.sentence_features`.
Model: scikit-learn logistic regression. The MMR redundancy weight and the threshold
for bullets beyond three are then picked by grid search on the same training articles.

Training data: CNN/DailyMail articles from FRANK, SummEval and REALSumm in ../shared/data,
with every article that also appears in goyal2022_cnn_test500.jsonl removed, so that file
stays a clean test set.

    make install    # the `train` extra (scikit-learn) comes with it
    .venv/bin/python scripts/train_scorer.py --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import re
from pathlib import Path

import numpy as np
import torch
from rouge_score import rouge_scorer
from sklearn.linear_model import LogisticRegression

from service.domain import Options
from service.engines.embedded import FEATURES, SCORER_PATH, EmbeddedEngine, candidates, sentence_features
from service.engines.embedder import Embedder
from service.text import Sentence, prepare, split_reference

TRAIN_FILES = ("frank_cnndm.jsonl", "summeval_cnndm.jsonl", "realsumm_cnndm.jsonl")
TEST_FILE = "goyal2022_cnn_test500.jsonl"
ROUGE = rouge_scorer.RougeScorer(["rouge1", "rouge2"], use_stemmer=True)


def fingerprint(article: str) -> str:
    return re.sub(r"[^a-z0-9]", "", article.lower())[:300]


def load_training(data_dir: Path) -> list[dict]:
    held_out = {fingerprint(json.loads(line)["article"]) for line in (data_dir / TEST_FILE).open()}
    records, seen = [], set(held_out)
    for name in TRAIN_FILES:
        for line in (data_dir / name).open():
            record = json.loads(line)
            key = fingerprint(record["article"])
            if key not in seen and record["references"]:
                seen.add(key)
                records.append(record)
    return records


def rouge12(reference: str, prediction: str) -> float:
    scores = ROUGE.score(reference, prediction)
    return scores["rouge1"].fmeasure + scores["rouge2"].fmeasure


def oracle(sentences: list[str], reference: str, size: int = 3) -> set[int]:
    chosen: list[int] = []
    best = 0.0
    while len(chosen) < size:
        gains = [
            (rouge12(reference, "\n".join(sentences[j] for j in sorted(chosen + [i]))), i)
            for i in range(len(sentences))
            if i not in chosen
        ]
        if not gains or max(gains)[0] <= best:
            break
        best, pick = max(gains)
        chosen.append(pick)
    return set(chosen)


@dataclasses.dataclass
class Example:
    sentences: list[Sentence]
    embeddings: torch.Tensor
    features: torch.Tensor
    reference: str
    labels: np.ndarray


def build_examples(records: list[dict], embedder: Embedder, max_candidates: int) -> list[Example]:
    """Embed each training article once; label its sentences with the oracle."""
    examples = []
    for record in records:
        sentences = candidates(prepare(record["article"]), max_candidates)
        if len(sentences) < 4:
            continue
        reference = "\n".join(split_reference(record["references"][0]))
        embeddings = embedder.encode([s.text for s in sentences])
        picked = oracle([s.text for s in sentences], reference)
        labels = np.array([i in picked for i in range(len(sentences))], dtype=float)
        examples.append(
            Example(sentences, embeddings, sentence_features(sentences, embeddings, None), reference, labels)
        )
    return examples


def mean_bullet_rouge(engine: EmbeddedEngine, examples: list[Example]) -> float:
    options = Options(style="bullets", max_bullets=5)
    total = 0.0
    for example in examples:
        summary = engine.select(example.sentences, example.embeddings, engine.scorer.score(example.features), options)
        total += ROUGE.score(example.reference, "\n".join(b.text for b in summary.bullets))["rouge1"].fmeasure
    return 100 * total / len(examples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=SCORER_PATH)
    args = parser.parse_args()

    engine = EmbeddedEngine.load()  # the features the service computes by default
    embedder = engine.embedder
    examples = build_examples(load_training(args.data_dir), embedder, engine.scorer.max_candidates)
    features = np.concatenate([e.features.numpy() for e in examples])
    labels = np.concatenate([e.labels for e in examples])
    print(f"{len(examples)} training articles, {len(labels)} sentences, {int(labels.sum())} oracle picks")
    model = LogisticRegression(C=1.0, max_iter=1000).fit(features, labels)
    weights = dict(zip(FEATURES, map(float, model.coef_[0])))
    scorer = dataclasses.replace(
        engine.scorer, weights=weights, bias=float(model.intercept_[0]), embedding_layers=embedder.layers
    )

    best = (-1.0, scorer)
    for redundancy, threshold in itertools.product((0.0, 0.3, 0.6, 1.0), (0.3, 0.5, 0.7, 1.01)):
        candidate = dataclasses.replace(scorer, redundancy=redundancy, extra_bullet_threshold=threshold)
        score = mean_bullet_rouge(EmbeddedEngine(embedder, candidate), examples)
        print(f"redundancy={redundancy} extra_threshold={threshold}: train bullets R1 {score:.2f}")
        best = max(best, (score, candidate), key=lambda pair: pair[0])
    args.out.write_text(json.dumps(dataclasses.asdict(best[1]), indent=2) + "\n")
    print(f"wrote {args.out} (train bullets R1 {best[0]:.2f})")


if __name__ == "__main__":
    main()
