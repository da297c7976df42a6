"""Upsertion items/s through the API next to raw sentence-transformers encode.

    python -m benchmarks.upsertion_speed [--documents 1000] [--api-url URL]

The platform splits long documents into parts within the model's 256 tokens and embeds
every part, where a plain `encode` truncates each document to its first 256 tokens; the
report gives the raw figure both ways (documents truncated, and the same parts)."""

from __future__ import annotations

import argparse
import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks.api_client import StudioClient
from benchmarks.beir import load_beir
from benchmarks.platform import running_platform
from benchmarks.raw_model import load_model, model_path

DEFAULT_DATASET = Path(__file__).resolve().parents[2] / "shared" / "data" / "scifact"


def _seconds(task: dict[str, Any]) -> float:
    started = datetime.fromisoformat(task["started_at"])
    finished = datetime.fromisoformat(task["finished_at"])
    return (finished - started).total_seconds()


def raw_encode(texts: list[str]) -> dict[str, float]:
    from transformers import AutoTokenizer

    from embedding_studio.embeddings.splitters.text.dummy_sentence_splitter import (
        DummySentenceSplitter,
    )
    from embedding_studio.embeddings.splitters.text.tokenized_grouped_splitter import (
        TokenGroupTextSplitter,
    )

    path = model_path()
    model = load_model()
    model.encode(texts[:32], batch_size=32)
    started = time.perf_counter()
    model.encode(texts, batch_size=32)
    truncated_s = time.perf_counter() - started
    splitter = TokenGroupTextSplitter(
        tokenizer=AutoTokenizer.from_pretrained(path),
        blocks_splitter=DummySentenceSplitter(),
        max_tokens=256,
    )
    parts = [part for text in texts for part in splitter(text)]
    started = time.perf_counter()
    model.encode(parts, batch_size=32)
    parts_s = time.perf_counter() - started
    return {
        "raw_docs_per_s_truncated": round(len(texts) / truncated_s, 1),
        "raw_docs_per_s_same_parts": round(len(texts) / parts_s, 1),
        "parts": len(parts),
    }


def delete_objects(client: StudioClient, object_ids: list[str]) -> None:
    """Remove the benchmark's objects again (a deletion task through the API)."""
    task = client.post("/embeddings/deletion-tasks/run", {"object_ids": object_ids})
    finished = client.wait_task("embeddings/deletion-tasks", task["task_id"])
    if finished["status"] != "done":
        raise RuntimeError(f"deletion ended {finished['status']}: {finished['detail']}")


def run(api_url: str, dataset: Path, documents: int, clean_up: bool = False) -> dict[str, Any]:
    """Figures of one upsertion of `documents` corpus documents; `clean_up` deletes them
    afterwards (so a shared platform's collection holds only what later sections load)."""
    docs = list(load_beir(dataset).corpus.values())[:documents]
    client = StudioClient(api_url)
    items = [{"object_id": f"u-{d.doc_id}", "data": d.content} for d in docs]
    wall = time.perf_counter()
    task = client.post("/embeddings/upsertion-tasks/run", {"items": items})
    finished = client.wait_task("embeddings/upsertion-tasks", task["task_id"])
    wall_s = time.perf_counter() - wall
    if finished["status"] != "done":
        client.close()
        raise RuntimeError(f"upsertion ended {finished['status']}: {finished['detail']}")
    if clean_up:
        delete_objects(client, [item["object_id"] for item in items])
    client.close()
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
    print(json.dumps(figures, indent=2))  # noqa: T201 - the script's output


if __name__ == "__main__":
    main()
