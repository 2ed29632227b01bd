"""Batch summarization of a corpus (JSONL or CSV) into a JSONL of results: `python -m corpus run IN OUT`.

- `corpus.summarizer`: one record batch -> one result line per record (shared by both runners);
- `corpus.results`: the resumable output file (ids already written are skipped, a crash loses one batch);
- `corpus.local`: the engine in this process; `corpus.ray_runner`: a Ray Data actor pool (the `ray` extra,
  imported only when asked for).
"""
