"""Query parsing into categories, and the categories upsertion and deletion tasks."""

from __future__ import annotations

from fastapi import APIRouter

from embedding_studio.api.deps import ContextDep
from embedding_studio.api.schemas.categories import CategoriesRequest, CategoriesResponse
from embedding_studio.api.schemas.tasks import TaskResponse
from embedding_studio.api.schemas.upsertion import DeletionRequest, UpsertionRequest
from embedding_studio.api.task_routes import add_task_routes
from embedding_studio.models.tasks import TaskKind
from embedding_studio.services import categories

parse_router = APIRouter(prefix="/parse-query", tags=["query parsing"])
upsertion_router = APIRouter(prefix="/categories/upsertion-tasks", tags=["categories"])
deletion_router = APIRouter(prefix="/categories/deletion-tasks", tags=["categories"])


@parse_router.post("/categories", response_model=CategoriesResponse)
def parse_categories(body: CategoriesRequest, ctx: ContextDep) -> CategoriesResponse:
    return categories.parse_categories(ctx, body)


@upsertion_router.post("/run", response_model=TaskResponse)
def run_categories_upsertion(body: UpsertionRequest, ctx: ContextDep) -> TaskResponse:
    task, created = categories.submit_upsertion(ctx, body)
    return TaskResponse.from_domain(task, created=created)


@deletion_router.post("/run", response_model=TaskResponse)
def run_categories_deletion(body: DeletionRequest, ctx: ContextDep) -> TaskResponse:
    task, created = categories.submit_deletion(ctx, body)
    return TaskResponse.from_domain(task, created=created)


add_task_routes(upsertion_router, TaskKind.categories_upsertion)
add_task_routes(deletion_router, TaskKind.categories_deletion)
