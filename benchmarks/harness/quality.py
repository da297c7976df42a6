"""The learning-quality section: a BEIR-format dataset, all through the REST API.

1. upsert the (sub)corpus; zero-shot nDCG@10 / MRR@10 / recall@100 on the test queries;
2. simulated users on the train queries (`benchmarks.click_model`, seeded);
3. one fine-tuning task deployed as blue (its reindex and switch awaited);
4. the same metrics again;
5. personalisation: per test query whose relevant document a user finds ranked 4th-20th,
   that user clicks it; the share of users who then see it in their top 3, and the
   feedback-to-effect latency (`benchmarks.improvement_latency`).
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.api_client import StudioClient, upsert_documents
from benchmarks.beir import BeirDataset, load_beir
from benchmarks.click_model import PositionBiasedClickModel
from benchmarks.fine_tuning_scifact import blue_model, fine_tune, simulate_users
from benchmarks.harness.subset import SubsetSizes, subset
from benchmarks.improvement_latency import Bench, id_order, summarise
from benchmarks.search_quality import evaluate

logger = logging.getLogger(__name__)

RESULTS_SHOWN = 10  # results per simulated search


@dataclass(frozen=True)
class QualityOptions:
    dataset: Path
    sizes: SubsetSizes
    click_model: PositionBiasedClickModel
    seed: int
    personalisation_queries: int
    fine_tuning_timeout_s: float = 3 * 3600


def personalisation(
    client: StudioClient, dataset: BeirDataset, queries: int, timeout_s: float = 60
) -> dict[str, Any]:
    """Click-to-effect latency and top-3 share over the first `queries` test queries."""
    bench = Bench(client, subset=False, poll_s=0.1, timeout_s=timeout_s)
    judged = dataset.qrels["test"]
    cases = []
    for query_id in sorted(judged, key=id_order)[:queries]:
        for relevant in judged[query_id]:
            case = bench.measure(query_id, dataset.queries[query_id], relevant)
            if case is not None:
                cases.append(case)
                break
    figures = summarise(cases)
    figures["ranks_before"] = {str(k): v for k, v in sorted(figures["ranks_before"].items())}
    return {"queries": min(queries, len(judged)), **figures}


def _size(dataset: BeirDataset) -> dict[str, int]:
    return {
        "documents": len(dataset.corpus),
        "test_queries": len(dataset.qrels["test"]),
        "train_queries": len(dataset.qrels["train"]),
    }


def run_quality(api_url: str, options: QualityOptions) -> dict[str, Any]:
    """Every figure of the section (see the module docstring)."""
    full = load_beir(options.dataset)
    data = subset(full, options.sizes)
    figures: dict[str, Any] = {
        "dataset": str(options.dataset),
        "dataset_size": _size(full),
        "used": {**_size(data), "words_per_document": options.sizes.words or "all"},
        "click_model": options.click_model.describe(),
        "click_model_params": {"p0": options.click_model.p0, "eta": options.click_model.eta},
        "seed": options.seed,
    }
    client = StudioClient(api_url, timeout_s=300)
    try:
        started = time.perf_counter()
        run_name = f"quality-{uuid.uuid4().hex[:8]}"
        figures["written"] = upsert_documents(client, run_name, data.corpus.values())
        figures["upsert_s"] = round(time.perf_counter() - started, 1)
        probe = next(iter(data.split_queries("test").values()))
        figures["starting_model_id"] = blue_model(client, probe)
        figures["before"] = evaluate(client, data, "test")
        figures["sessions"] = simulate_users(
            client, data, RESULTS_SHOWN, options.click_model, options.seed, run_name
        )
        figures["fine_tuning"] = fine_tune(client, probe, options.fine_tuning_timeout_s)
        figures["model_after"] = blue_model(client, probe)
        figures["after"] = evaluate(client, data, "test")
        figures["delta"] = {
            k: round(figures["after"][k] - figures["before"][k], 4)
            for k in ("ndcg@10", "mrr@10", "recall@100")
        }
        figures["personalisation"] = personalisation(client, data, options.personalisation_queries)
        figures["total_s"] = round(time.perf_counter() - started, 1)
    finally:
        client.close()
    return figures
