"""Helpers shared by the vector database tests (real PostgreSQL + pgvector)."""

from __future__ import annotations

import uuid
from typing import Any

from embedding_studio.models.embeddings.models import (
    MetricAggregationType,
    MetricType,
    SearchIndexInfo,
)
from embedding_studio.models.embeddings.objects import Object, ObjectPart


def unique_prefix() -> str:
    """A fresh table prefix, so that each test module has its own collections."""
    return "t" + uuid.uuid4().hex[:10]


def index_info(
    dimensions: int,
    metric: MetricType = MetricType.COSINE,
    aggregation: MetricAggregationType = MetricAggregationType.MIN,
) -> SearchIndexInfo:
    return SearchIndexInfo(
        dimensions=dimensions, metric_type=metric, metric_aggregation_type=aggregation
    )


def make_object(
    object_id: str,
    vectors: list[list[float]],
    payload: dict[str, Any] | None = None,
    **extra: Any,
) -> Object:
    parts = [ObjectPart(part_id=f"{object_id}:{i}", vector=v) for i, v in enumerate(vectors)]
    return Object(object_id=object_id, parts=parts, payload=payload, **extra)


def ids(results: Any) -> list[str]:
    return [item.object_id for item in results.found_objects]
