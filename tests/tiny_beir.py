"""A tiny BEIR-format dataset for the benchmark harness tests: a second dataset whose ids
are unlike SciFact's, so the quality section is shown to take any BEIR folder."""

from __future__ import annotations

import json
from pathlib import Path

TOPICS = ["volcano", "glacier", "coral", "desert", "monsoon", "tundra"]


def write_tiny_beir(folder: Path) -> Path:
    """30 documents (5 per topic), one query per document; ids mix words and digits."""
    (folder / "qrels").mkdir(parents=True)
    corpus, queries, train, test = [], [], [], []
    for t, topic in enumerate(TOPICS):
        for n in range(5):
            doc_id = f"{topic}-{n}" if n % 2 else str(1000 + 5 * t + n)
            corpus.append({"_id": doc_id, "title": f"{topic} {n}", "text": f"about {topic} " * 5})
            query_id = f"q-{topic}-{n}"
            queries.append({"_id": query_id, "text": f"what about {topic} number {n}"})
            (test if n < 2 else train).append(f"{query_id}\t{doc_id}\t1")
    (folder / "corpus.jsonl").write_text("\n".join(json.dumps(row) for row in corpus) + "\n")
    (folder / "queries.jsonl").write_text("\n".join(json.dumps(row) for row in queries) + "\n")
    for name, rows in (("train", train), ("test", test)):
        (folder / "qrels" / f"{name}.tsv").write_text(
            "query-id\tcorpus-id\tscore\n" + "\n".join(rows) + "\n"
        )
    return folder
