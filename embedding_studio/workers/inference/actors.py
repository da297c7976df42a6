"""`dramatiq embedding_studio.workers.inference.actors -Q model_deployment_worker
model_deletion_worker`

Runs beside Triton and shares its model repository (`INFERENCE_MODEL_REPO`):
`model_deployment_worker` exports a model and loads it, `model_deletion_worker` unloads
it and removes its files (embedding_studio.workers.inference.handler)."""

from __future__ import annotations

from embedding_studio.context.app_context import current_context
from embedding_studio.core.logging import configure_logging
from embedding_studio.models.tasks import TaskKind
from embedding_studio.workers.broker import task_actor
from embedding_studio.workers.inference.handler import run_deletion, run_deployment
from embedding_studio.workers.task_runner import run_task

configure_logging()


@task_actor(queue_name="model_deployment_worker")
def model_deployment_worker(task_id: str) -> None:
    run_task(current_context(), task_id, TaskKind.model_deployment, run_deployment)


@task_actor(queue_name="model_deletion_worker")
def model_deletion_worker(task_id: str) -> None:
    run_task(current_context(), task_id, TaskKind.model_deletion, run_deletion)
