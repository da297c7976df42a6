"""Submitting upsertion and deletion tasks."""

from __future__ import annotations

from embedding_studio.api.schemas.upsertion import DeletionRequest, UpsertionRequest
from embedding_studio.context.app_context import AppContext
from embedding_studio.core.errors import InvalidRequest
from embedding_studio.models.tasks import Task, TaskKind
from embedding_studio.services import tasks as task_service


def _target_model_id(ctx: AppContext, requested: str | None) -> str:
    # Resolved at submission, so a blue switch while the task waits doesn't move it.
    if requested is not None:
        return ctx.vectordb.get_collection(requested).info.embedding_model_id
    return ctx.vectordb.get_blue_collection().info.embedding_model_id


def submit_upsertion(ctx: AppContext, request: UpsertionRequest) -> tuple[Task, bool]:
    limit = ctx.settings.UPSERTION_MAX_ITEMS
    if len(request.items) > limit:
        raise InvalidRequest(f"items: {len(request.items)} items; send at most {limit} per task")
    ids = [item.object_id for item in request.items]
    if len(set(ids)) != len(ids):
        duplicated = sorted({i for i in ids if ids.count(i) > 1})[:5]
        raise InvalidRequest(
            f"items: object ids must be unique within a task; repeated: {duplicated}"
        )
    parameters = {
        "embedding_model_id": _target_model_id(ctx, request.embedding_model_id),
        "items": [item.model_dump(mode="json") for item in request.items],
    }
    task = Task(
        kind=TaskKind.upsertion, idempotency_key=request.idempotency_key, parameters=parameters
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
        kind=TaskKind.deletion, idempotency_key=request.idempotency_key, parameters=parameters
    )
    if request.task_id:
        task.task_id = request.task_id
    return task_service.submit(ctx, task)
