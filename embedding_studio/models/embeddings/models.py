"""How a plugin's vectors are stored and compared (the seeds' `SearchIndexInfo`)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


class MetricType(StrEnum):
    """How two vectors are compared. COSINE and DOT are similarities, EUCLID a distance;
    pgvector orders all three as distances (cosine distance, negative inner product, L2)."""

    COSINE = "cosine"
    DOT = "dot"
    EUCLID = "euclid"


class MetricAggregationType(StrEnum):
    """How the distances of an object's parts (chunks) combine into the object's distance:
    MIN takes the closest part, AVG the mean over parts."""

    MIN = "min"
    AVG = "avg"


class HnswParameters(BaseModel):
    m: int = Field(16, gt=1, le=100)
    ef_construction: int = Field(64, gt=1, le=1000)


class SearchIndexInfo(BaseModel):
    """The vector schema of a plugin's collections.

    :param dimensions: length of every vector the model produces
    :param metric_type: the similarity used for search and improvement
    :param metric_aggregation_type: how parts of one object aggregate (MIN or AVG)
    :param hnsw: HNSW index parameters (m, ef_construction)
    """

    dimensions: int = Field(..., gt=0, le=16000)
    metric_type: MetricType = MetricType.COSINE
    metric_aggregation_type: MetricAggregationType = MetricAggregationType.AVG
    hnsw: HnswParameters = Field(default_factory=HnswParameters)
