"""Per-user improvement through the REST API: how fast a click shows in that user's
search, and how often it lifts the clicked result into the top 3.

    python -m benchmarks.improvement_latency [--api-url URL] [--queries 60] [--corpus subset]

For each judged SciFact test query whose relevant abstract a user (one per query) finds
ranked 4th to 20th in a search that opens a clickstream session: push a click on that
abstract, mark the session for improvement, then search again every `--poll-ms` until the abstract
ranks higher than before. Latency is from the click's acknowledgement (the events
request returning) to the first search that shows the abstract higher. Prints JSON:
latency p50/p95/max, the share of cases with the abstract in the top 3 afterwards, and
the share of cases where another user's results stayed the same.

`--corpus subset` (default) upserts, for the first `--queries` test queries, the relevant
abstracts and their lexically closest abstracts (`--negatives` per query), cut to
`--words` words (0: whole); `--corpus full` upserts the whole corpus (idempotent with
`benchmarks.search_quality`). Without --api-url the embedded platform is started here.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from benchmarks.api_client import StudioClient, upsert_documents
from benchmarks.beir import BeirDataset, load_beir
from benchmarks.platform import running_platform

DEFAULT_DATASET = Path(__file__).resolve().parents[2] / "shared" / "data" / "scifact"
SUBSET = "improvement-bench"
TOKEN = re.compile(r"[a-z0-9]+")


@dataclass
class Case:
    query_id: str
    rank_before: int  # 0-based
    latency_s: float | None = None
    rank_after: int | None = None
    others_unchanged: bool = False


def _tokens(text: str) -> set[str]:
    return set(TOKEN.findall(text.lower()))


def hard_negative_subset(dataset: BeirDataset, query_ids: list[str], negatives: int) -> list[str]:
    """The relevant abstracts of the queries and, per query, the `negatives` abstracts
    sharing the most IDF-weighted words with it."""
    documents = {doc_id: _tokens(doc.content) for doc_id, doc in dataset.corpus.items()}
    frequency = Counter(token for tokens in documents.values() for token in tokens)
    idf = {token: math.log(len(documents) / count) for token, count in frequency.items()}
    judged = dataset.qrels["test"]
    chosen: dict[str, None] = {}
    for query_id in query_ids:
        words = _tokens(dataset.queries[query_id])
        scored = sorted(
            ((sum(idf[t] for t in words & tokens), doc_id) for doc_id, tokens in documents.items()),
            reverse=True,
        )
        relevant = judged[query_id]
        chosen.update(dict.fromkeys(relevant))
        chosen.update(dict.fromkeys([d for _, d in scored if d not in relevant][:negatives]))
    return list(chosen)


def upsert_subset(
    client: StudioClient, dataset: BeirDataset, doc_ids: list[str], words: int
) -> None:
    items = [
        {
            "object_id": f"{SUBSET}-{doc_id}",
            "data": _cut(dataset.corpus[doc_id].content, words),
            "payload": {"dataset": SUBSET},
        }
        for doc_id in doc_ids
    ]
    key = f"{SUBSET}-{len(items)}-{words}-{uuid.uuid5(uuid.NAMESPACE_URL, ','.join(doc_ids))}"
    task = client.post("/embeddings/upsertion-tasks/run", {"items": items, "idempotency_key": key})
    finished = client.wait_task("embeddings/upsertion-tasks", task["task_id"])
    if finished["status"] != "done":
        raise RuntimeError(f"upsertion ended {finished['status']}: {finished.get('detail')}")


def id_order(query_id: str) -> tuple[int, int, str]:
    """Numeric ids in numeric order, then the others in text order (any BEIR ids)."""
    return (0, int(query_id), "") if query_id.isdigit() else (1, 0, query_id)


def _cut(text: str, words: int) -> str:
    return " ".join(text.split()[:words]) if words else text


class Bench:
    def __init__(self, client: StudioClient, subset: bool, poll_s: float, timeout_s: float):
        self.client = client
        self.subset = subset
        self.poll_s = poll_s
        self.timeout_s = timeout_s
        self.run_id = uuid.uuid4().hex[:8]

    def object_id(self, doc_id: str) -> str:
        return f"{SUBSET}-{doc_id}" if self.subset else doc_id

    def search(
        self, query: str, user_id: str, session_id: str | None = None
    ) -> list[tuple[str, float]]:
        body: dict[str, Any] = {"search_query": query, "limit": 20, "user_id": user_id}
        if session_id is not None:
            body.update(create_session=True, session_id=session_id)
        if self.subset:
            body["filter"] = {"term": {"dataset": SUBSET}}
        found = self.client.post("/embeddings/similarity-search", body)
        return [(r["object_id"], r["distance"]) for r in found["search_results"]]

    def measure(self, query_id: str, query: str, relevant: str) -> Case | None:
        user = f"bench-{self.run_id}-{query_id}"
        other = f"bench-{self.run_id}-other"
        session_id = f"bench-{self.run_id}-{query_id}"
        shown = [object_id for object_id, _ in self.search(query, user, session_id)]
        clicked = self.object_id(relevant)
        if clicked not in shown or shown.index(clicked) < 3:
            return None
        case = Case(query_id, rank_before=shown.index(clicked))
        others_before = self.search(query, other)
        self.client.post(
            "/clickstream/session/events",
            {"session_id": session_id, "events": [{"object_id": clicked}]},
        )
        acknowledged = time.perf_counter()
        self.client.post(
            "/internal/clickstream/session/use-for-improvement", {"session_id": session_id}
        )
        while time.perf_counter() - acknowledged < self.timeout_s:
            ranked = [object_id for object_id, _ in self.search(query, user)]
            if clicked in ranked and ranked.index(clicked) < case.rank_before:
                case.latency_s = time.perf_counter() - acknowledged
                case.rank_after = ranked.index(clicked)
                break
            time.sleep(self.poll_s)
        case.others_unchanged = _same(others_before, self.search(query, other))
        return case


def _same(before: list[tuple[str, float]], after: list[tuple[str, float]]) -> bool:
    return [i for i, _ in before] == [i for i, _ in after] and all(
        abs(a - b) < 1e-5 for (_, a), (_, b) in zip(before, after, strict=True)
    )


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def summarise(cases: list[Case]) -> dict[str, Any]:
    latencies = [c.latency_s for c in cases if c.latency_s is not None]
    figures: dict[str, Any] = {
        "cases": len(cases),
        "reflected": len(latencies),
        "top3_after": sum(c.rank_after is not None and c.rank_after < 3 for c in cases),
        "others_unchanged": sum(c.others_unchanged for c in cases),
        "ranks_before": Counter(c.rank_before + 1 for c in cases),
    }
    if cases:
        figures["top3_share"] = round(figures["top3_after"] / len(cases), 3)
    if latencies:
        figures["latency_s"] = {
            "p50": round(statistics.median(latencies), 3),
            "p95": round(_percentile(latencies, 0.95), 3),
            "max": round(max(latencies), 3),
        }
    return figures


def run(api_url: str, args: argparse.Namespace) -> dict[str, Any]:
    dataset = load_beir(args.dataset)
    judged = dataset.qrels["test"]
    query_ids = sorted(judged, key=id_order)[: args.queries]
    client = StudioClient(api_url)
    subset = args.corpus == "subset"
    if subset:
        upsert_subset(
            client, dataset, hard_negative_subset(dataset, query_ids, args.negatives), args.words
        )
    else:
        upsert_documents(client, args.dataset.name, dataset.corpus.values())
    bench = Bench(client, subset, args.poll_ms / 1000, args.timeout_s)
    cases = []
    for query_id in tqdm(query_ids, desc="improve", unit="q"):
        for relevant in judged[query_id]:
            case = bench.measure(query_id, dataset.queries[query_id], relevant)
            if case is not None:
                cases.append(case)
                break
    client.close()
    return {"corpus": args.corpus, "queries": len(query_ids), **summarise(cases)}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--api-url", help="a running platform; started here when omitted")
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--corpus", choices=["subset", "full"], default="subset")
    parser.add_argument("--queries", type=int, default=60, help="first N judged test queries")
    parser.add_argument("--negatives", type=int, default=10, help="subset: per query")
    parser.add_argument("--words", type=int, default=60, help="subset: words kept (0: all)")
    parser.add_argument("--poll-ms", type=float, default=100)
    parser.add_argument("--timeout-s", type=float, default=60)
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
