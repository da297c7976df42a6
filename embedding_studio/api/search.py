"""Search routes."""

from __future__ import annotations

from fastapi import APIRouter

from embedding_studio.api.deps import ContextDep
from embedding_studio.api.schemas.search import (
    PayloadCountRequest,
    PayloadCountResponse,
    PayloadSearchRequest,
    SimilaritySearchRequest,
    SimilaritySearchResponse,
)
from embedding_studio.services import search

router = APIRouter(prefix="/embeddings", tags=["search"])


@router.post("/similarity-search", response_model=SimilaritySearchResponse)
def similarity_search(body: SimilaritySearchRequest, ctx: ContextDep) -> SimilaritySearchResponse:
    return search.similarity_search(ctx, body)


@router.post("/payload-search", response_model=SimilaritySearchResponse)
def payload_search(body: PayloadSearchRequest, ctx: ContextDep) -> SimilaritySearchResponse:
    return search.payload_search(ctx, body)


@router.post("/payload-count", response_model=PayloadCountResponse)
def payload_count(body: PayloadCountRequest, ctx: ContextDep) -> PayloadCountResponse:
    return PayloadCountResponse(count=search.payload_count(ctx, body.filter))
