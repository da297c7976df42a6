"""How a plugin's vectors are stored and compared (the seeds' `SearchIndexInfo`)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field, field_validator

from embedding_studio.models.payload.fields import field_path_keys

TEXT_SEARCH_ROOTS = ("payload", "storage_meta")
DEFAULT_TEXT_SEARCH_FIELDS = ["storage_meta.data"]  # inline items' content (upsertion keeps it)


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
    :param text_search_fields: JSON paths whose string values make up the full-text
        document of hybrid search: ``payload.<key>[.<key>...]`` or
        ``storage_meta.<key>...``; every string inside the value is indexed. The default
        is the inline item's text (``storage_meta.data``); an empty list turns full-text
        search off. Fixed when the collection is created.
    :param text_search_config: the PostgreSQL text search configuration (language:
        stemming and stop words), e.g. ``english``, ``simple``
    """

    dimensions: int = Field(..., gt=0, le=16000)
    metric_type: MetricType = MetricType.COSINE
    metric_aggregation_type: MetricAggregationType = MetricAggregationType.AVG
    hnsw: HnswParameters = Field(default_factory=HnswParameters)
    text_search_fields: list[str] = Field(
        default_factory=lambda: list(DEFAULT_TEXT_SEARCH_FIELDS), max_length=16
    )
    text_search_config: str = Field("english", pattern=r"^[a-z][a-z0-9_]{0,62}$")

    @field_validator("text_search_fields")
    @classmethod
    def _checked_text_fields(cls, fields: list[str]) -> list[str]:
        for path in fields:
            text_search_path(path)
        return fields


def text_search_path(path: str) -> tuple[str, list[str]]:
    """Split ``payload.a.b`` into ("payload", ["a", "b"]); ValueError naming the path."""
    root, _, rest = path.partition(".")
    if root not in TEXT_SEARCH_ROOTS or not rest:
        raise ValueError(
            f"text search field {path!r}: start with 'payload.' or 'storage_meta.' and name "
            "a key (e.g. 'payload.title')"
        )
    return root, field_path_keys(rest)
