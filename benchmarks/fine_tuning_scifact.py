"""Fine-tuning from simulated users on SciFact, through the REST API.

    python -m benchmarks.fine_tuning_scifact [--api-url URL] [--no-upsert] [--seed 0]

1. Upserts the SciFact corpus (skipped with --no-upsert) and measures test nDCG@10.
2. Simulates users on the train queries: each searches with a clickstream session
   (`--limit` results) and clicks the judged-relevant result at 1-based rank r with
   probability `--p0` / r ** `--position-bias` (`benchmarks.click_model`, seeded by
   `--seed`); a session that shows no relevant result is marked irrelevant.
3. Runs one fine-tuning task with `deploy_as_blue`, waits for it, then for its reindex
   and the blue switch.
4. Measures test nDCG@10 again (the new blue model when one was deployed).

Prints JSON: sessions, the task's outcome and reason, trials, held-out metrics, test
nDCG@10 / MRR@10 / recall@100 before and after, and wall times. Without --api-url the
embedded platform is started here in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

from benchmarks.api_client import StudioClient, upsert_documents
from benchmarks.beir import BeirDataset, load_beir
from benchmarks.click_model import PositionBiasedClickModel
from benchmarks.platform import running_platform
from benchmarks.search_quality import evaluate

DEFAULT_DATASET = Path(__file__).resolve().parents[2] / "shared" / "data" / "scifact"


def simulate_users(
    client: StudioClient,
    dataset: BeirDataset,
    limit: int,
    click_model: PositionBiasedClickModel,
    seed: int,
    prefix: str,
    split: str = "train",
) -> dict[str, int]:
    """One session per judged query of `split`; clicks follow `click_model`."""
    rng = random.Random(seed)
    judged = dataset.qrels[split]
    counts = {"sessions": 0, "clicked": 0, "irrelevant": 0, "unclicked": 0, "clicks": 0}
    queries = dataset.split_queries(split)
    for query_id, text in tqdm(queries.items(), desc="simulated users", unit="session"):
        session_id = f"{prefix}-{query_id}"
        body = {"search_query": text, "limit": limit, "create_session": True}
        found = client.post("/embeddings/similarity-search", {**body, "session_id": session_id})
        shown = [item["object_id"] for item in found["search_results"]]
        relevant = judged[query_id]
        clicked = click_model.clicks(shown, relevant, rng)
        counts["sessions"] += 1
        if clicked:
            events = [{"object_id": object_id} for object_id in clicked]
            client.post("/clickstream/session/events", {"session_id": session_id, "events": events})
            counts["clicked"] += 1
            counts["clicks"] += len(clicked)
        elif not any(object_id in relevant for object_id in shown):
            client.post("/clickstream/session/irrelevant", {"session_id": session_id})
            counts["irrelevant"] += 1
        else:
            counts["unclicked"] += 1  # a relevant result shown but not clicked
    return counts


def blue_model(client: StudioClient, query: str) -> str:
    found = client.post("/embeddings/similarity-search", {"search_query": query, "limit": 1})
    return str(found["embedding_model_id"])


def wait_for_blue(client: StudioClient, query: str, model_id: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while blue_model(client, query) != model_id:
        if time.monotonic() > deadline:
            raise TimeoutError(f"model {model_id} did not become blue in {timeout_s} s")
        time.sleep(2.0)


def fine_tune(client: StudioClient, query: str, timeout_s: float) -> dict[str, Any]:
    """Run the fine-tuning task (and its reindex); its figures."""
    figures: dict[str, Any] = {}
    started = time.perf_counter()
    task = client.post("/fine-tuning/task", {"deploy_as_blue": True})
    finished = client.wait_task("fine-tuning/task", task["task_id"], timeout_s)
    figures["fine_tuning_s"] = round(time.perf_counter() - started, 1)
    result = finished["result"]
    figures.update(
        status=finished["status"],
        detail=finished["detail"],
        outcome=result.get("outcome"),
        reason=result.get("reason"),
        data=result.get("data"),
        held_out_before=result.get("baseline"),
        trials=[
            {"params": t["params"], "metrics": _held_out(t["metrics"]), "run_id": t["run_id"]}
            for t in result.get("trials", [])
        ],
        best_run_id=result.get("best_run_id"),
    )
    if result.get("outcome") == "deployed":
        started = time.perf_counter()
        reindex = client.wait_task("internal/reindex-tasks", result["reindex_task_id"], timeout_s)
        wait_for_blue(client, query, result["embedding_model_id"], 600)
        figures["reindex_s"] = round(time.perf_counter() - started, 1)
        figures["reindex_status"] = reindex["status"]
    return figures


def _held_out(metrics: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 4) for k, v in metrics.items() if k.startswith("test_")}


def run(api_url: str, args: argparse.Namespace) -> dict[str, Any]:
    dataset = load_beir(args.dataset)
    client = StudioClient(api_url, timeout_s=300)
    figures: dict[str, Any] = {"dataset": str(args.dataset), "seed": args.seed}
    started = time.perf_counter()
    if not args.no_upsert:
        figures["written"] = upsert_documents(client, args.dataset.name, dataset.corpus.values())
        figures["upsert_s"] = round(time.perf_counter() - started, 1)
    probe = next(iter(dataset.split_queries("test").values()))
    figures["starting_model_id"] = blue_model(client, probe)
    figures["test_before"] = evaluate(client, dataset, "test")
    click_model = PositionBiasedClickModel(p0=args.p0, eta=args.position_bias)
    figures["click_model"] = click_model.describe()
    figures["sessions"] = simulate_users(
        client, dataset, args.limit, click_model, args.seed, f"bench-{args.seed}"
    )
    figures.update(fine_tune(client, probe, args.timeout_s))
    figures["model_after"] = blue_model(client, probe)
    figures["test_after"] = evaluate(client, dataset, "test")
    figures["total_s"] = round(time.perf_counter() - started, 1)
    client.close()
    return figures


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--api-url", help="a running platform; started here when omitted")
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--no-upsert", action="store_true")
    parser.add_argument("--limit", type=int, default=10, help="results per simulated search")
    parser.add_argument("--p0", type=float, default=1.0, help="click model: p at rank 1")
    parser.add_argument("--position-bias", type=float, default=0.5, help="click model: eta")
    parser.add_argument("--seed", type=int, default=0, help="seed of the click model")
    parser.add_argument("--timeout-s", type=float, default=3 * 3600)
    return parser


def main() -> None:
    args = build_parser().parse_args()
    if args.api_url:
        figures = run(args.api_url, args)
    else:
        with running_platform() as platform:
            figures = run(platform.api_url, args)
    print(json.dumps(figures, indent=2))  # noqa: T201 - the script's output


if __name__ == "__main__":
    main()
