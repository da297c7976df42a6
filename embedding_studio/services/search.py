"""Similarity and payload search over the blue collection."""

from __future__ import annotations

import logging

from embedding_studio.api.schemas.search import (
    PayloadSearchRequest,
    SearchResultItemResponse,
    SimilaritySearchRequest,
    SimilaritySearchResponse,
)
from embedding_studio.context.app_context import AppContext
from embedding_studio.models.embeddings.objects import SearchResults
from embedding_studio.models.payload.models import PayloadFilter
from embedding_studio.services import clickstream
from embedding_studio.vectordb.collection_info import CollectionInfo

logger = logging.getLogger(__name__)

# Stored to re-embed items on reindex, not for clients: results stay small.
HIDDEN_META = frozenset({"data"})


def _response(
    results: SearchResults, model_id: str, session_id: str | None = None
) -> SimilaritySearchResponse:
    return SimilaritySearchResponse(
        search_results=[
            SearchResultItemResponse(
                object_id=item.object_id,
                distance=item.distance,
                payload=item.payload,
                meta={k: v for k, v in item.storage_meta.items() if k not in HIDDEN_META},
            )
            for item in results.found_objects
        ],
        next_page_offset=results.next_offset,
        session_id=session_id,
        embedding_model_id=model_id,
    )


def embed_query(ctx: AppContext, query: str | dict, plugin_name: str, model_id: str) -> list[float]:
    plugin = ctx.plugin_manager.require(plugin_name)
    client = plugin.get_inference_client_factory().get_client(model_id)
    return client.forward_query(query).tolist()


def similarity_search(
    ctx: AppContext, request: SimilaritySearchRequest
) -> SimilaritySearchResponse:
    collection = ctx.vectordb.get_blue_collection()
    info = collection.info
    if not request.has_query:
        results = collection.find_by_payload_filter(
            request.filter, limit=request.limit, offset=request.offset, sort_by=request.sort_by
        )
    else:
        query_vector = embed_query(
            ctx, request.search_query, info.plugin_name, info.embedding_model_id
        )
        results = collection.find_similarities(
            query_vector,
            limit=request.limit,
            offset=request.offset,
            max_distance=request.max_distance,
            payload_filter=request.filter,
            sort_by=request.sort_by,
            similarity_first=request.similarity_first,
            user_id=request.user_id,
        )
    session_id = _register_session(ctx, request, results, info) if request.create_session else None
    return _response(results, info.embedding_model_id, session_id)


def _register_session(
    ctx: AppContext, request: SimilaritySearchRequest, results: SearchResults, info: CollectionInfo
) -> str:
    """Open the clickstream session of this search with the results it returned."""
    return clickstream.register_search_session(
        ctx,
        request.session_id,
        request.search_query,
        results,
        offset=request.offset,
        user_id=request.user_id,
        payload_filter=request.filter.model_dump(mode="json") if request.filter else None,
        sort_by=request.sort_by.model_dump(mode="json") if request.sort_by else None,
        search_meta={
            "embedding_model_id": info.embedding_model_id,
            "plugin_name": info.plugin_name,
            "limit": request.limit,
            "offset": request.offset,
            "max_distance": request.max_distance,
            "similarity_first": request.similarity_first,
        },
    )


def payload_search(ctx: AppContext, request: PayloadSearchRequest) -> SimilaritySearchResponse:
    collection = ctx.vectordb.get_blue_collection()
    results = collection.find_by_payload_filter(
        request.filter, limit=request.limit, offset=request.offset, sort_by=request.sort_by
    )
    return _response(results, collection.info.embedding_model_id)


def payload_count(ctx: AppContext, payload_filter: PayloadFilter) -> int:
    return ctx.vectordb.get_blue_collection().count_by_payload_filter(payload_filter)
