"""Similarity and payload search requests and responses."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_validator

from embedding_studio.models.embeddings.ranking import (
    DEFAULT_CANDIDATES,
    MAX_CANDIDATES,
    HybridSearch,
    ScoreBoost,
)
from embedding_studio.models.payload.models import PayloadFilter, SortByOptions

USER_ID_PATTERN = r"^[A-Za-z0-9_.:@\-]{1,128}$"


class SimilaritySearchRequest(BaseModel):
    search_query: str | dict[str, Any] = Field(
        ..., description="A plain string, or the plugin's query object"
    )
    limit: int = Field(10, gt=0, le=1000)
    offset: int = Field(0, ge=0, le=100_000)
    max_distance: float | None = Field(None, description="Only objects closer than this")
    filter: PayloadFilter | None = None
    sort_by: SortByOptions | None = None
    similarity_first: bool = Field(False, description="With sort_by: order by distance first")
    user_id: str | None = Field(None, pattern=USER_ID_PATTERN)
    create_session: bool = False
    session_id: str | None = Field(None, pattern=r"^[A-Za-z0-9_.:\-]{1,128}$")
    hybrid: HybridSearch | None = Field(
        None,
        description="Fuse vector search with PostgreSQL full-text search (rrf or weighted); "
        "max_distance still bounds every result's vector distance",
    )
    boosts: list[ScoreBoost] | None = Field(
        None,
        max_length=16,
        description="Score boosts from payload fields (recency, popularity, numeric); "
        "omitted: the plugin's own boosts, []: none",
    )
    candidates: int = Field(
        DEFAULT_CANDIDATES,
        ge=1,
        le=MAX_CANDIDATES,
        description="With hybrid or boosts: objects each retriever contributes; all pages "
        "together hold at most these (twice these in hybrid mode)",
    )

    @model_validator(mode="after")
    def _query_or_filter(self) -> SimilaritySearchRequest:
        empty = isinstance(self.search_query, str) and not self.search_query.strip()
        if empty and self.filter is None:
            raise ValueError(
                "search_query: give a non-empty query, or a filter to search by payload"
            )
        if empty and self.hybrid is not None:
            raise ValueError("hybrid: needs a non-empty search_query")
        if self.sort_by is not None and (self.hybrid is not None or self.boosts):
            raise ValueError(
                "sort_by orders by a payload field: it cannot be combined with hybrid or "
                "boosts, which order by score; drop one of them"
            )
        return self

    @property
    def query_text(self) -> str | None:
        """The text for full-text search: hybrid.text_query, the string query, or the
        string values of a query object joined by spaces."""
        if self.hybrid is not None and self.hybrid.text_query:
            return self.hybrid.text_query
        return " ".join(_strings(self.search_query)) or None

    @property
    def has_query(self) -> bool:
        return not (isinstance(self.search_query, str) and not self.search_query.strip())


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


class SearchResultItemResponse(BaseModel):
    object_id: str
    distance: float
    score: float | None = Field(
        None, description="Hybrid/boosted score results are ordered by (larger is better)"
    )
    payload: dict[str, Any] | None = None
    meta: dict[str, Any] = Field(default_factory=dict)


class SimilaritySearchResponse(BaseModel):
    search_results: list[SearchResultItemResponse]
    next_page_offset: int | None
    session_id: str | None = None
    embedding_model_id: str


class PayloadSearchRequest(BaseModel):
    filter: PayloadFilter
    limit: int = Field(10, gt=0, le=1000)
    offset: int = Field(0, ge=0, le=100_000)
    sort_by: SortByOptions | None = None


class PayloadCountRequest(BaseModel):
    filter: PayloadFilter


class PayloadCountResponse(BaseModel):
    count: int
