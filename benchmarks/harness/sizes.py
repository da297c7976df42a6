"""The sizes of a full and a quick run. Quick mode shrinks every section to finish in
under 10 minutes on 2 cores; the report lists where it differs from the full run."""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.harness.speed import SpeedSizes
from benchmarks.harness.subset import SubsetSizes


@dataclass(frozen=True)
class Preset:
    speed: SpeedSizes
    quality: SubsetSizes
    personalisation_queries: int


FULL = Preset(
    speed=SpeedSizes(
        search_objects=(10_000, 100_000),
        search_queries=300,
        clients=(1, 2, 4, 8),
        upsert_documents=1000,
        reindex_searchers=2,
        reindex_search_rate=5.0,
        clickstream_clients=8,
        clickstream_duration_s=20.0,
        clickstream_target_events_per_s=2000.0,
        suggestion_phrases=100_000,
        suggestion_queries=3000,
    ),
    quality=SubsetSizes(),  # the whole dataset
    personalisation_queries=60,
)

QUICK = Preset(
    speed=SpeedSizes(
        search_objects=(1_000, 2_000),
        search_queries=50,
        clients=(1, 4, 8),
        upsert_documents=100,
        reindex_searchers=2,
        reindex_search_rate=5.0,
        clickstream_clients=8,
        clickstream_duration_s=8.0,
        clickstream_target_events_per_s=2000.0,
        suggestion_phrases=20_000,
        suggestion_queries=350,
    ),
    quality=SubsetSizes(test_queries=30, train_queries=90, negatives_per_query=2, words=60),
    personalisation_queries=15,
)


def differences(preset: Preset) -> list[str]:
    """Where a preset is smaller than the full run, in words for the report."""
    notes = []
    if preset.speed.search_objects != FULL.speed.search_objects:
        sizes = " and ".join(f"{n:,}" for n in preset.speed.search_objects)
        notes.append(
            f"search at {sizes} objects (full run: 10,000 and 100,000), reindex of "
            f"{max(preset.speed.search_objects):,} objects (full run: 100,000)"
        )
    if preset.speed.suggestion_phrases != FULL.speed.suggestion_phrases:
        notes.append(f"suggestions over {preset.speed.suggestion_phrases:,} phrases")
    q = preset.quality
    if q != FULL.quality:
        notes.append(
            f"quality on a subset: the first {q.test_queries} test and {q.train_queries} train "
            f"queries, their relevant documents and {q.negatives_per_query} lexical hard "
            f"negatives per query, each document cut to {q.words} words (full run: the "
            f"whole dataset)"
        )
    return notes
