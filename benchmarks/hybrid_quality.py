"""Offline check of hybrid fusion: BEIR (SciFact) nDCG@10 through the REST API for
vector-only, lexical-only (full-text) and hybrid search.

    python -m benchmarks.hybrid_quality [--api-url http://127.0.0.1:5000] [--no-upsert]
        [--dataset PATH] [--split test] [--corpus-limit N] [--variant NAME=JSON ...]

Upserts the corpus (skipped with --no-upsert), then searches every judged query of the
split once per variant and prints nDCG@10, MRR@10 and recall@100 per variant as JSON.
Lexical-only is hybrid search with `vector_weight` 0 (results ranked by the full-text
rank; queries matching fewer than 10 documents are topped up by vector candidates at
score 0). `--variant` adds request fields to compare (e.g. `w=` followed by
`{"hybrid": {"mode": "weighted"}}`). `--corpus-limit N` upserts only the first N
documents plus every document the split judges (a smaller, easier corpus on which the
variants still compete fairly: for a CPU too busy to embed all of it). Without --api-url
the embedded platform is started in a temporary folder. Hybrid must not be worse than
vector-only: the exit status is 1 when it is.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.api_client import StudioClient, upsert_documents
from benchmarks.beir import BeirDataset, Document, load_beir
from benchmarks.platform import running_platform
from benchmarks.search_quality import DEFAULT_DATASET, evaluate

VARIANTS: dict[str, dict[str, Any]] = {
    "vector": {},
    "lexical": {"hybrid": {"vector_weight": 0.0, "text_weight": 1.0}},
    "hybrid": {"hybrid": {}},  # the defaults: weighted blend, equal weights, any word
    "hybrid_rrf": {"hybrid": {"mode": "rrf"}},  # k 60
}


def _variant(text: str) -> tuple[str, dict[str, Any]]:
    name, _, body = text.partition("=")
    if not name or not body:
        raise argparse.ArgumentTypeError(f"--variant {text!r}: write NAME=JSON")
    return name, json.loads(body)


def corpus_parts(
    dataset: BeirDataset, split: str, limit: int | None
) -> tuple[list[Document], list[Document]]:
    """The first `limit` documents (all when None), and the judged documents beyond them.
    Kept apart so the first part's upsertion keys match a full run's (no re-embedding)."""
    documents = list(dataset.corpus.values())
    if limit is None:
        return documents, []
    head = documents[:limit]
    judged = {doc_id for wanted in dataset.qrels[split].values() for doc_id in wanted}
    return head, [doc for doc in documents[limit:] if doc.doc_id in judged]


def run(
    api_url: str,
    dataset_path: Path,
    split: str,
    upsert: bool,
    variants: dict[str, dict],
    corpus_limit: int | None = None,
) -> dict[str, Any]:
    dataset = load_beir(dataset_path)
    client = StudioClient(api_url)
    head, judged = corpus_parts(dataset, split, corpus_limit)
    figures: dict[str, Any] = {"dataset": str(dataset_path), "documents": len(head) + len(judged)}
    if upsert:
        started = time.perf_counter()
        figures["written"] = upsert_documents(client, dataset_path.name, head)
        if judged:
            figures["written"] += upsert_documents(client, f"{dataset_path.name}-judged", judged)
        figures["upsert_s"] = round(time.perf_counter() - started, 1)
    for name, extra in variants.items():
        started = time.perf_counter()
        figures[name] = evaluate(client, dataset, split, **extra)
        figures[name]["request"] = extra
        figures[name]["seconds"] = round(time.perf_counter() - started, 1)
    client.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--api-url", help="a running platform; started here when omitted")
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--split", default="test")
    parser.add_argument("--no-upsert", action="store_true")
    parser.add_argument("--corpus-limit", type=int, help="first N documents + judged ones")
    parser.add_argument("--variant", type=_variant, action="append", default=[])
    args = parser.parse_args()
    options = dict(
        dataset_path=args.dataset,
        split=args.split,
        upsert=not args.no_upsert,
        variants={**VARIANTS, **dict(args.variant)},
        corpus_limit=args.corpus_limit,
    )
    if args.api_url:
        figures = run(args.api_url, **options)
    else:
        with running_platform() as platform:
            figures = run(platform.api_url, **options)
    json.dump(figures, sys.stdout, indent=2)
    sys.stdout.write("\n")
    if figures["hybrid"]["ndcg@10"] < figures["vector"]["ndcg@10"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
