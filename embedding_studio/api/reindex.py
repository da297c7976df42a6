"""Internal routes of the blue-green deployment: reindex tasks, the collections and the
blue switch (also the rollback)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from embedding_studio.api.deps import ContextDep
from embedding_studio.api.schemas.reindex import (
    CollectionListResponse,
    CollectionResponse,
    ReindexRequest,
    SetBlueRequest,
)
from embedding_studio.api.schemas.tasks import TaskListResponse, TaskResponse
from embedding_studio.api.task_routes import add_task_routes
from embedding_studio.models.tasks import TaskKind
from embedding_studio.services import reindex

reindex_router = APIRouter(prefix="/reindex-tasks", tags=["reindex (internal)"])
collections_router = APIRouter(prefix="/collections", tags=["collections (internal)"])


@reindex_router.post("/run", response_model=TaskResponse)
def run_reindex_task(body: ReindexRequest, ctx: ContextDep) -> TaskResponse:
    """Copy every object of the source model's collection into the destination model's
    collection (embedded with the destination model), in parallel subtasks; with
    `deploy_as_blue`, switch searches to it at the end. Upsertions and deletions that
    arrive meanwhile reach both collections. Personalised copies are not copied.

    404: unknown source collection or destination model; 422: source equals destination;
    409: the destination is blue, or another reindex uses these collections (unless
    `wait_on_conflict`)."""
    task, created = reindex.submit_reindex(
        ctx,
        body.source_model_id,
        body.dest_model_id,
        body.deploy_as_blue,
        body.wait_on_conflict,
        idempotency_key=body.idempotency_key,
        task_id=body.task_id,
    )
    return TaskResponse.from_domain(task, created=created)


@reindex_router.get("/subtasks", response_model=TaskListResponse)
def list_subtasks(
    ctx: ContextDep,
    task_id: Annotated[str, Query(min_length=1, max_length=128)],
    skip: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(gt=0, le=500)] = 100,
) -> TaskListResponse:
    """The subtasks (id ranges) of a reindex task, with their progress."""
    ctx.tasks.require(task_id, TaskKind.reindex)
    tasks, total = ctx.tasks.list_by_kind(
        TaskKind.reindex_subtask, parent_id=task_id, skip=skip, limit=limit
    )
    items = [TaskResponse.from_domain(t) for t in tasks]
    return TaskListResponse(items=items, total=total, skip=skip, limit=limit)


add_task_routes(reindex_router, TaskKind.reindex)


@collections_router.get("", response_model=CollectionListResponse)
def list_collections(ctx: ContextDep) -> CollectionListResponse:
    """Every search collection: blue or not, state, object counts, sync links."""
    items = [CollectionResponse.from_summary(s) for s in reindex.list_collections(ctx)]
    blue = next((i.embedding_model_id for i in items if i.is_blue), None)
    return CollectionListResponse(items=items, blue_model_id=blue)


@collections_router.post("/set-blue", response_model=CollectionResponse)
def set_blue(body: SetBlueRequest, ctx: ContextDep) -> CollectionResponse:
    """Make this model's collection the one searches use (atomically). Use it to roll
    back to the collection a reindex replaced while it is kept (REINDEX_RETENTION_S).
    404: no such collection; 409: it is still being loaded."""
    return CollectionResponse.from_summary(reindex.set_blue(ctx, body.embedding_model_id))
