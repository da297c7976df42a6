"""Query parsing into categories, and submitting category upsertion and deletion tasks.

A categories plugin (`CategoriesFineTuningMethod`) owns collections in
`ctx.categories_vectordb`. Parsing embeds the query with the plugin's model, fetches up
to `get_max_similar_categories()` categories within distance `get_max_margin()`, adds
what the selector asks for (`missing_candidates`, e.g. ancestors), and keeps what it
selects, with its confidences.
"""

from __future__ import annotations

import logging

import torch

from embedding_studio.api.schemas.categories import (
    CategoriesRequest,
    CategoriesResponse,
    CategoryResponse,
)
from embedding_studio.api.schemas.upsertion import DeletionRequest, UpsertionRequest
from embedding_studio.context.app_context import AppContext
from embedding_studio.core.errors import Conflict, InvalidRequest, NotFound
from embedding_studio.core.plugin import CategoriesFineTuningMethod
from embedding_studio.embeddings.selectors.distances import aggregated_distance
from embedding_studio.embeddings.selectors.selector import AbstractSelector
from embedding_studio.models.embeddings.objects import ObjectWithDistance
from embedding_studio.models.tasks import Task, TaskKind
from embedding_studio.services import tasks as task_service
from embedding_studio.services.search import embed_query
from embedding_studio.vectordb.collection import Collection
from embedding_studio.vectordb.vectordb import VectorDb

logger = logging.getLogger(__name__)

MAX_EXPANSION_ROUNDS = 3


def categories_collection(vectordb: VectorDb, plugin_name: str | None = None) -> Collection:
    """The blue categories collection, or the named plugin's: its blue one when it is
    blue, else its newest. NotFound when the plugin has no collection."""
    try:
        blue: Collection | None = vectordb.get_blue_collection()
    except Conflict:
        if plugin_name is None:
            raise
        blue = None
    if blue is not None and plugin_name in (None, blue.info.plugin_name):
        return blue
    own = [info for info in vectordb.list_collections() if info.plugin_name == plugin_name]
    if not own:
        raise NotFound(
            f"plugin {plugin_name!r} has no categories collection: enable it in "
            "INFERENCE_USED_PLUGINS and restart so the bootstrap creates one"
        )
    return vectordb.get_collection(own[-1].embedding_model_id)


def categories_plugin(ctx: AppContext, plugin_name: str) -> CategoriesFineTuningMethod:
    plugin = ctx.plugin_manager.require(plugin_name)
    if not isinstance(plugin, CategoriesFineTuningMethod):
        raise InvalidRequest(
            f"plugin {plugin_name!r} is not a CategoriesFineTuningMethod; categories plugins: "
            f"{[p.meta.name for p in ctx.plugin_manager.categories_plugins()]}"
        )
    return plugin


def _fetch_with_distances(
    collection: Collection, object_ids: list[str], query_vector: list[float], with_vectors: bool
) -> list[ObjectWithDistance]:
    """Categories by id, with their distances to the query computed from their vectors."""
    info = collection.info.search_index_info
    found = []
    for obj in collection.find_by_ids(object_ids, with_vectors=True):
        vectors = [part.vector for part in obj.parts]
        parts = obj.parts if with_vectors else []
        distance = aggregated_distance(query_vector, vectors, info)
        found.append(
            ObjectWithDistance(**obj.model_dump(exclude={"parts"}), parts=parts, distance=distance)
        )
    return found


def _candidates(
    collection: Collection,
    plugin: CategoriesFineTuningMethod,
    selector: AbstractSelector,
    query_vector: list[float],
) -> list[ObjectWithDistance]:
    results = collection.find_similarities(
        query_vector,
        limit=plugin.get_max_similar_categories(),
        max_distance=plugin.get_max_margin(),
        with_vectors=selector.vectors_are_needed,
    )
    candidates = [ObjectWithDistance.from_search_result(item) for item in results.found_objects]
    query_tensor = torch.tensor(query_vector)
    for _ in range(MAX_EXPANSION_ROUNDS):
        present = {c.id for c in candidates}
        missing = [
            i for i in selector.missing_candidates(candidates, query_tensor) if i not in present
        ]
        if not missing:
            break
        candidates += _fetch_with_distances(
            collection, missing, query_vector, selector.vectors_are_needed
        )
    return candidates


def parse_categories(ctx: AppContext, request: CategoriesRequest) -> CategoriesResponse:
    """The categories the plugin's selector keeps for the query, most confident first."""
    collection = categories_collection(ctx.categories_vectordb, request.plugin_name)
    info = collection.info
    plugin = categories_plugin(ctx, info.plugin_name)
    query_vector = embed_query(ctx, request.query, info.plugin_name, info.embedding_model_id)
    selector = plugin.get_category_selector()
    candidates = _candidates(collection, plugin, selector, query_vector)
    query_tensor = torch.tensor(query_vector)
    selected = selector.select(candidates, query_tensor) if candidates else []
    confidences = selector.get_confidences(candidates, query_tensor) if candidates else []
    categories = [
        CategoryResponse(
            object_id=candidates[index].id,
            distance=candidates[index].distance,
            confidence=min(max(confidences[index], 0.0), 1.0),
            payload=candidates[index].payload,
        )
        for index in selected
    ]
    categories.sort(key=lambda c: (-c.confidence, c.distance))
    logger.debug("query parsed into %d of %d categories", len(categories), len(candidates))
    return CategoriesResponse(
        categories=categories,
        plugin_name=info.plugin_name,
        embedding_model_id=info.embedding_model_id,
    )


# --- category upsertion and deletion tasks -------------------------------------------
def _target_model_id(ctx: AppContext, requested: str | None) -> str:
    vectordb = ctx.categories_vectordb
    if requested is not None:
        return vectordb.get_collection(requested).info.embedding_model_id
    return vectordb.get_blue_collection().info.embedding_model_id


def submit_upsertion(ctx: AppContext, request: UpsertionRequest) -> tuple[Task, bool]:
    """Store and enqueue a categories upsertion task into the blue (or given) categories
    collection; same rules and idempotency as item upsertion."""
    limit = ctx.settings.UPSERTION_MAX_ITEMS
    if len(request.items) > limit:
        raise InvalidRequest(f"items: {len(request.items)} items; send at most {limit} per task")
    ids = [item.object_id for item in request.items]
    if len(set(ids)) != len(ids):
        repeated = sorted({i for i in ids if ids.count(i) > 1})[:5]
        raise InvalidRequest(
            f"items: category ids must be unique within a task; repeated: {repeated}"
        )
    parameters = {
        "embedding_model_id": _target_model_id(ctx, request.embedding_model_id),
        "items": [item.model_dump(mode="json") for item in request.items],
    }
    task = Task(
        kind=TaskKind.categories_upsertion,
        idempotency_key=request.idempotency_key,
        parameters=parameters,
    )
    if request.task_id:
        task.task_id = request.task_id
    return task_service.submit(ctx, task)


def submit_deletion(ctx: AppContext, request: DeletionRequest) -> tuple[Task, bool]:
    parameters = {
        "embedding_model_id": _target_model_id(ctx, request.embedding_model_id),
        "object_ids": list(dict.fromkeys(request.object_ids)),
    }
    task = Task(
        kind=TaskKind.categories_deletion,
        idempotency_key=request.idempotency_key,
        parameters=parameters,
    )
    if request.task_id:
        task.task_id = request.task_id
    return task_service.submit(ctx, task)
