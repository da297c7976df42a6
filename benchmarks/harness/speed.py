"""The speed sections, run in order on one embedded platform.

clickstream ingestion -> suggestions -> upsertion (its objects deleted again) -> search
and filtered search at each size (the collection grows from one size to the next) ->
reindex of the largest size while searching. Each returns a dict of figures with its raw
baseline measured in the same run and the ratio."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import clickstream_ingestion, suggestions_speed, upsertion_speed
from benchmarks.api_client import StudioClient
from benchmarks.beir import load_beir
from benchmarks.raw_search import count_objects
from benchmarks.reindex_speed import SearchLoad, measure_reindex
from benchmarks.search_speed import load_objects, measure_both, sentence_items

logger = logging.getLogger(__name__)

SPEED_DATASET = Path(__file__).resolve().parents[3] / "shared" / "data" / "scifact"
# The reindex's raw baseline times the encode of this many of its texts and scales to all:
# encoding all 100,000 again would add 14 minutes to the full run for the same rate.
REINDEX_ENCODE_SAMPLE = 5000


@dataclass(frozen=True)
class SpeedSizes:
    search_objects: tuple[int, ...]
    search_queries: int
    clients: tuple[int, ...]
    upsert_documents: int
    reindex_searchers: int
    reindex_search_rate: float  # searches/s per searcher (0: back to back)
    clickstream_clients: int
    clickstream_duration_s: float
    clickstream_target_events_per_s: float
    suggestion_phrases: int
    suggestion_queries: int


@dataclass(frozen=True)
class Stack:
    api_url: str
    postgres_url: str
    mlflow_uri: str


def _queries(count: int) -> list[str]:
    return list(load_beir(SPEED_DATASET).queries.values())[:count]


def upsertion(stack: Stack, sizes: SpeedSizes) -> dict[str, Any]:
    return upsertion_speed.run(stack.api_url, SPEED_DATASET, sizes.upsert_documents, clean_up=True)


def search(stack: Stack, sizes: SpeedSizes) -> dict[str, Any]:
    """Per size: load up to that many objects, then HTTP and raw figures."""
    client = StudioClient(stack.api_url)
    queries = _queries(sizes.search_queries)
    by_size: dict[str, Any] = {}
    loaded = 0
    try:
        for objects in sizes.search_objects:
            load_objects(client, sentence_items(SPEED_DATASET, objects, start=loaded))
            loaded = objects
            figures = measure_both(
                stack.api_url, stack.postgres_url, queries, objects, sizes.clients, samples=True
            )
            by_size[str(objects)] = {
                "objects": objects,
                "objects_in_collection": count_objects(stack.postgres_url),
                **figures,
            }
    finally:
        client.close()
    return by_size


def reindex(stack: Stack, sizes: SpeedSizes) -> dict[str, Any]:
    """Reindex the collection the search section filled, searching all the while."""
    objects = max(sizes.search_objects)
    items = sentence_items(SPEED_DATASET, objects)
    present = count_objects(stack.postgres_url)
    if present < objects:  # run without the search section: fill the collection here
        client = StudioClient(stack.api_url)
        load_objects(client, items[present:])
        client.close()
    texts = [item["data"] for item in items]
    load = SearchLoad(sizes.reindex_searchers, sizes.reindex_search_rate)
    figures = measure_reindex(
        stack.api_url, stack.mlflow_uri, texts, _queries(200), load, REINDEX_ENCODE_SAMPLE
    )
    figures["failed_searches"] = figures["reindex"]["searches"]["failed"]
    return figures


def clickstream(stack: Stack, sizes: SpeedSizes) -> dict[str, Any]:
    args = clickstream_ingestion.build_parser().parse_args(
        [
            "--api-url", stack.api_url,
            "--clients", str(sizes.clickstream_clients),
            "--duration-s", str(sizes.clickstream_duration_s),
            "--target-events-per-s", str(sizes.clickstream_target_events_per_s),
        ]
    )  # fmt: skip
    figures = clickstream_ingestion.run(stack.api_url, args)
    figures["stored_matches_acknowledged"] = figures["lost_or_duplicated"] == 0
    return figures


def suggestions(stack: Stack, sizes: SpeedSizes) -> dict[str, Any]:
    phrases = suggestions_speed.build_phrases(SPEED_DATASET, sizes.suggestion_phrases)
    queries = suggestions_speed.build_queries(phrases, sizes.suggestion_queries)
    return suggestions_speed.run(stack.api_url, stack.postgres_url, phrases, queries)


# In running order: the sections that embed nothing first.
SECTIONS: dict[str, Callable[[Stack, SpeedSizes], dict[str, Any]]] = {
    "clickstream": clickstream,
    "suggestions": suggestions,
    "upsertion": upsertion,
    "search": search,
    "reindex": reindex,
}
