"""Retrieval quality of a BEIR dataset through the REST API.

    python -m benchmarks.search_quality --api-url http://127.0.0.1:5000 [--dataset PATH]

Upserts the corpus (skipped with --no-upsert), searches every judged query of the split
and prints nDCG@10, MRR@10 and recall@100 as JSON. Without --api-url it starts the
embedded platform itself in a temporary folder."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from statistics import fmean
from typing import Any

from tqdm import tqdm

from benchmarks.api_client import StudioClient, upsert_documents
from benchmarks.beir import BeirDataset, load_beir
from benchmarks.platform import running_platform
from embedding_studio.workers.fine_tuning.ranking_metrics import mrr_at_k, ndcg_at_k, recall_at_k

DEFAULT_DATASET = Path(__file__).resolve().parents[2] / "shared" / "data" / "scifact"


def evaluate(
    client: StudioClient, dataset: BeirDataset, split: str, **search_extra: Any
) -> dict[str, float]:
    judged = dataset.qrels[split]
    ndcg, mrr, recall = [], [], []
    for query_id, text in tqdm(
        dataset.split_queries(split).items(), desc=f"search {split}", unit="q"
    ):
        ranked = client.search(text, limit=100, **search_extra)
        ndcg.append(ndcg_at_k(ranked, judged[query_id], 10))
        mrr.append(mrr_at_k(ranked, judged[query_id], 10))
        recall.append(recall_at_k(ranked, judged[query_id], 100))
    return {
        "ndcg@10": fmean(ndcg),
        "mrr@10": fmean(mrr),
        "recall@100": fmean(recall),
        "queries": len(ndcg),
    }


def run(api_url: str, dataset_path: Path, split: str, upsert: bool) -> dict[str, Any]:
    dataset = load_beir(dataset_path)
    client = StudioClient(api_url)
    figures: dict[str, Any] = {"dataset": str(dataset_path), "documents": len(dataset.corpus)}
    if upsert:
        started = time.perf_counter()
        figures["written"] = upsert_documents(client, dataset_path.name, dataset.corpus.values())
        figures["upsert_s"] = round(time.perf_counter() - started, 1)
        figures["upsert_docs_per_s"] = round(len(dataset.corpus) / figures["upsert_s"], 1)
    figures[split] = evaluate(client, dataset, split)
    client.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--api-url", help="a running platform; started here when omitted")
    parser.add_argument(
        "--dataset", type=Path, default=DEFAULT_DATASET, help="a BEIR-format folder"
    )
    parser.add_argument("--split", default="test")
    parser.add_argument("--no-upsert", action="store_true")
    args = parser.parse_args()
    if args.api_url:
        figures = run(args.api_url, args.dataset, args.split, not args.no_upsert)
    else:
        with running_platform() as platform:
            figures = run(platform.api_url, args.dataset, args.split, not args.no_upsert)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
