"""Similarity and payload search over the blue collection."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from embedding_studio.api.schemas.search import (
    PayloadSearchRequest,
    SearchResultItemResponse,
    SimilaritySearchRequest,
    SimilaritySearchResponse,
)
from embedding_studio.context.app_context import AppContext
from embedding_studio.models.embeddings.objects import SearchResults
from embedding_studio.models.embeddings.ranking import Ranking
from embedding_studio.models.payload.models import PayloadFilter
from embedding_studio.services import clickstream, experiment_search
from embedding_studio.vectordb.collection import Collection
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
                score=item.score,
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


def _ranking(ctx: AppContext, request: SimilaritySearchRequest, info: CollectionInfo) -> Ranking:
    """Hybrid and boosts of the request; the plugin's boosts when the request names none
    (and does not sort by a field)."""
    boosts = request.boosts
    if boosts is None and request.sort_by is None:
        plugin = ctx.plugin_manager.require(info.plugin_name)
        boosts = getattr(plugin, "get_search_boosts", list)()
    return Ranking(hybrid=request.hybrid, boosts=boosts or [], candidates=request.candidates)


def search_in(
    ctx: AppContext,
    request: SimilaritySearchRequest,
    collection: Collection,
    limit: int,
    offset: int,
) -> SearchResults:
    """The request's search in one collection, `limit` results from `offset` (the blue
    collection, or an experiment's variant: see services.experiment_search)."""
    info = collection.info
    if not request.has_query:
        return collection.find_by_payload_filter(
            request.filter, limit=limit, offset=offset, sort_by=request.sort_by
        )
    query_vector = embed_query(ctx, request.search_query, info.plugin_name, info.embedding_model_id)
    ranking = _ranking(ctx, request, info)
    if not ranking.is_plain:
        return collection.find_ranked(
            query_vector,
            ranking,
            limit=limit,
            offset=offset,
            query_text=request.query_text,
            max_distance=request.max_distance,
            payload_filter=request.filter,
            user_id=request.user_id,
        )
    return collection.find_similarities(
        query_vector,
        limit=limit,
        offset=offset,
        max_distance=request.max_distance,
        payload_filter=request.filter,
        sort_by=request.sort_by,
        similarity_first=request.similarity_first,
        user_id=request.user_id,
    )


def similarity_search(
    ctx: AppContext, request: SimilaritySearchRequest
) -> SimilaritySearchResponse:
    # The session id is known before searching: an experiment assigns a search without
    # a user by its session.
    session_id = request.session_id or (str(uuid.uuid4()) if request.create_session else None)
    served = None
    # A running experiment serves searches ranked by a model (None: the unit is not exposed).
    if request.has_query and request.sort_by is None:
        served = experiment_search.serve(
            ctx,
            request.search_query,
            request.user_id,
            session_id,
            request.offset,
            request.limit,
            lambda collection, limit, offset: search_in(ctx, request, collection, limit, offset),
        )
    if served is None:
        collection = ctx.vectordb.get_blue_collection()
        info, model_id = collection.info, collection.info.embedding_model_id
        results = search_in(ctx, request, collection, request.limit, request.offset)
    else:
        info, model_id, results = served.info, served.model_id, served.results
    if not request.create_session or session_id is None:
        return _response(results, model_id)
    extra_meta = served.session_meta if served else {}
    _register_session(ctx, request, results, info, session_id, extra_meta)
    if served is not None:
        experiment_search.record(ctx, served, session_id)
    return _response(results, model_id, session_id)


def _register_session(
    ctx: AppContext,
    request: SimilaritySearchRequest,
    results: SearchResults,
    info: CollectionInfo,
    session_id: str,
    extra_meta: dict[str, Any],
) -> str:
    """Open the clickstream session of this search with the results it returned."""
    return clickstream.register_search_session(
        ctx,
        session_id,
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
            "hybrid": request.hybrid.model_dump(mode="json") if request.hybrid else None,
            **extra_meta,
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
