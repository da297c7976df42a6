"""Submitting fine-tuning tasks."""

from __future__ import annotations

from embedding_studio.api.schemas.fine_tuning import FineTuningTaskRequest
from embedding_studio.context.app_context import AppContext
from embedding_studio.models.tasks import Task, TaskKind
from embedding_studio.services import tasks as task_service
from embedding_studio.workers.fine_tuning.task_params import FineTuningTaskParams


def submit_fine_tuning(ctx: AppContext, request: FineTuningTaskRequest) -> tuple[Task, bool]:
    """Store and enqueue the task. Without `embedding_model_id` it starts from the blue
    collection's model (resolved now, so a later switch does not move it); a given id
    is checked by the worker, which refuses the task when it is unknown."""
    model_id = request.embedding_model_id
    if model_id is None:
        model_id = ctx.vectordb.get_blue_collection().info.embedding_model_id
    parameters = FineTuningTaskParams(
        embedding_model_id=model_id,
        batch_id=request.batch_id,
        deploy_as_blue=request.deploy_as_blue,
        wait_on_conflict=request.wait_on_conflict,
        metadata=request.metadata,
    )
    task = Task(
        kind=TaskKind.fine_tuning,
        idempotency_key=request.idempotency_key,
        parameters=parameters.model_dump(mode="json"),
    )
    if request.task_id:
        task.task_id = request.task_id
    return task_service.submit(ctx, task)
