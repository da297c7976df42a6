"""Similarity and payload search requests and responses."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_validator

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

    @model_validator(mode="after")
    def _query_or_filter(self) -> SimilaritySearchRequest:
        empty = isinstance(self.search_query, str) and not self.search_query.strip()
        if empty and self.filter is None:
            raise ValueError(
                "search_query: give a non-empty query, or a filter to search by payload"
            )
        return self

    @property
    def has_query(self) -> bool:
        return not (isinstance(self.search_query, str) and not self.search_query.strip())


class SearchResultItemResponse(BaseModel):
    object_id: str
    distance: float
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
