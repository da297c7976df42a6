"""HTTP search latency and throughput at N objects, next to the raw baseline.

    python -m benchmarks.search_speed [--objects 100000] [--api-url URL --postgres-url URL]

Loads N short real texts (SciFact sentences) through the upsertion API, then measures:
- similarity search over HTTP: p50/p95/p99 at 1 client, requests/s at 1-8 clients;
- filtered search at 1% and 10% selectivity: latency and whether `limit` results came back
  (or every matching object, when fewer match);
- the raw baseline in this process: sentence-transformers encode of the query plus the
  plain pgvector HNSW query (`ORDER BY vector <=> q LIMIT k`, the filter as a join on the
  payload) on the same parts table (`benchmarks.raw_search`).
Prints every figure as JSON with the ratio to its baseline."""

from __future__ import annotations

import argparse
import json
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.api_client import StudioClient
from benchmarks.beir import load_beir
from benchmarks.latency import summarize_ms, throughput, timed_calls
from benchmarks.platform import running_platform
from benchmarks.raw_search import FILTERS, RawSearch

logger = logging.getLogger(__name__)

DEFAULT_DATASET = Path(__file__).resolve().parents[2] / "shared" / "data" / "scifact"
SENTENCE = re.compile(r"(?<=[.!?])\s+")
LIMIT = 10
CLIENTS = (1, 2, 4, 8)


def sentence_items(dataset_path: Path, count: int, start: int = 0) -> list[dict[str, Any]]:
    """Short texts `start`..`count` from the corpus's sentences, with payload fields for
    filters (`bucket`: the number modulo 100)."""
    sentences = [
        s.strip()
        for doc in load_beir(dataset_path).corpus.values()
        for s in SENTENCE.split(doc.text)
        if len(s.split()) >= 5
    ]
    items = []
    for number in range(start, count):
        text = sentences[number % len(sentences)]
        if number >= len(sentences):
            text = f"{text} (variant {number // len(sentences)})"
        items.append({"object_id": f"s{number}", "data": text, "payload": {"bucket": number % 100}})
    return items


def load_objects(client: StudioClient, items: list[dict[str, Any]], chunk: int = 2000) -> None:
    """Upsert `items` in tasks of `chunk`, all submitted first: the upsertion worker runs
    two tasks at once, so one task's database writes overlap the other's embedding and no
    time is lost between tasks."""
    tasks = []
    for start in range(0, len(items), chunk):
        part = items[start : start + chunk]
        task = client.post(
            "/embeddings/upsertion-tasks/run",
            {"items": part, "idempotency_key": f"speed-{part[0]['object_id']}-{len(part)}"},
        )
        tasks.append((task["task_id"], start + len(part)))
    for task_id, loaded in tasks:
        finished = client.wait_task("embeddings/upsertion-tasks", task_id)
        if finished["status"] != "done":
            raise RuntimeError(f"upsertion ended {finished['status']}: {finished['detail']}")
        logger.info("loaded %d/%d", loaded, len(items))


def _rounded(samples_s: list[float]) -> list[float]:
    return [round(s * 1000, 2) for s in samples_s]


def expected_results(objects: int, name: str) -> int:
    """What a filtered search over `sentence_items(.., objects)` must return: `LIMIT`, or
    every matching object when fewer match."""
    matches = FILTERS[name][1]
    return min(LIMIT, sum(matches(number % 100) for number in range(objects)))


def measure(
    search: Callable[..., int],
    queries: list[str],
    clients: tuple[int, ...],
    samples: bool,
    objects: int,
) -> dict[str, Any]:
    """Latency at 1 client, requests/s per client count, filtered latency and full pages
    of one way of searching (`search(query, filter=None) -> results`)."""
    latencies = timed_calls(search, queries)
    figures: dict[str, Any] = {
        "latency_1_client": summarize_ms(latencies),
        "rps_by_clients": {
            str(n): round(throughput(search, queries, clients=n), 1) for n in clients
        },
    }
    if samples:
        figures["samples_ms"] = _rounded(latencies)
    for name, (payload_filter, _) in FILTERS.items():
        expected = expected_results(objects, name)
        figures[name] = filtered(search, queries[:100], payload_filter, expected)
    return figures


def filtered(
    search: Callable[..., int], queries: list[str], payload_filter: dict[str, Any], expected: int
) -> dict[str, Any]:
    """Latency of filtered searches and how many returned all `expected` results."""
    counts: list[int] = []
    samples = timed_calls(lambda q: counts.append(search(q, payload_filter)), queries)
    timed = counts[-len(samples) :]
    return {
        **summarize_ms(samples),
        "expected_results": expected,
        "complete_pages": sum(c == expected for c in timed),
        "searches": len(timed),
    }


def http_search(client: StudioClient) -> Callable[..., int]:
    def search(query: str, payload_filter: dict[str, Any] | None = None) -> int:
        extra = {"filter": payload_filter} if payload_filter else {}
        return len(client.search(query, limit=LIMIT, **extra))

    return search


def ratios(http: dict[str, Any], raw: dict[str, Any]) -> dict[str, float]:
    """HTTP over raw: latency ratios (> 1: HTTP slower) and throughput ratio (< 1: fewer)."""
    latency_http, latency_raw = http["latency_1_client"], raw["latency_1_client"]
    out = {
        f"{q}_latency": round(latency_http[f"{q}_ms"] / latency_raw[f"{q}_ms"], 2)
        for q in ("p50", "p95", "p99")
    }
    top = str(max(int(n) for n in http["rps_by_clients"]))
    out[f"rps_{top}_clients"] = round(http["rps_by_clients"][top] / raw["rps_by_clients"][top], 2)
    for name in FILTERS:
        out[f"{name}_p50"] = round(http[name]["p50_ms"] / raw[name]["p50_ms"], 2)
    return out


def measure_both(
    api_url: str,
    postgres_url: str,
    queries: list[str],
    objects: int,
    clients: tuple[int, ...] = CLIENTS,
    samples: bool = False,
) -> dict[str, Any]:
    """HTTP and raw figures on the blue collection holding `sentence_items(.., objects)`,
    and their ratios."""
    client = StudioClient(api_url)
    try:
        http = measure(http_search(client), queries, clients, samples, objects)
    finally:
        client.close()
    with RawSearch(postgres_url, limit=LIMIT) as raw_search:
        raw = measure(raw_search.search, queries, clients, samples, objects)
        raw["encode_only"] = summarize_ms(timed_calls(raw_search.encode, queries))
    return {"queries": len(queries), "http": http, "raw": raw, "ratio": ratios(http, raw)}


def run(
    api_url: str, postgres_url: str, objects: int, dataset: Path, queries_n: int
) -> dict[str, Any]:
    client = StudioClient(api_url)
    load_objects(client, sentence_items(dataset, objects))
    client.close()
    queries = list(load_beir(dataset).queries.values())[:queries_n]
    return {"objects": objects, **measure_both(api_url, postgres_url, queries, objects)}


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
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.api_url:
        figures = run(args.api_url, args.postgres_url, args.objects, args.dataset, args.queries)
    else:
        with running_platform() as platform:
            figures = run(
                platform.api_url, platform.postgres_url, args.objects, args.dataset, args.queries
            )
    print(json.dumps(figures, indent=2))  # noqa: T201 - the script's output


if __name__ == "__main__":
    main()
