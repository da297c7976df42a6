"""Upsertion and deletion task routes."""

from __future__ import annotations

from fastapi import APIRouter

from embedding_studio.api.deps import ContextDep
from embedding_studio.api.schemas.tasks import TaskResponse
from embedding_studio.api.schemas.upsertion import DeletionRequest, UpsertionRequest
from embedding_studio.api.task_routes import add_task_routes
from embedding_studio.models.tasks import TaskKind
from embedding_studio.services import upsertion

upsertion_router = APIRouter(prefix="/embeddings/upsertion-tasks", tags=["upsertion"])
deletion_router = APIRouter(prefix="/embeddings/deletion-tasks", tags=["deletion"])


@upsertion_router.post("/run", response_model=TaskResponse)
def run_upsertion_task(body: UpsertionRequest, ctx: ContextDep) -> TaskResponse:
    task, created = upsertion.submit_upsertion(ctx, body)
    return TaskResponse.from_domain(task, created=created)


@deletion_router.post("/run", response_model=TaskResponse)
def run_deletion_task(body: DeletionRequest, ctx: ContextDep) -> TaskResponse:
    task, created = upsertion.submit_deletion(ctx, body)
    return TaskResponse.from_domain(task, created=created)


add_task_routes(upsertion_router, TaskKind.upsertion)
add_task_routes(deletion_router, TaskKind.deletion)
