"""Deploying embedding models to Triton and deleting them: the rules the API applies
before a task is queued, and a model's deployment status.

The work is done by the inference worker (`embedding_studio.workers.inference`). A
deployment asked for while one of the same model is queued or running returns that
task; deleting the model of a blue collection is refused (409).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from embedding_studio.context.app_context import AppContext
from embedding_studio.core.errors import Conflict, NotFound, StorageUnavailable
from embedding_studio.embeddings.inference.triton.export import exported_models
from embedding_studio.models.tasks import Task, TaskKind
from embedding_studio.services import tasks as task_service
from embedding_studio.workers.inference.handler import blue_model_ids
from embedding_studio.workers.inference.model_control import TritonModelControl
from embedding_studio.workers.inference.params import ModelDeploymentParams

logger = logging.getLogger(__name__)

KINDS = (TaskKind.model_deployment, TaskKind.model_deletion)
STATUS_TIMEOUT_S = 2.0


def latest_task(ctx: AppContext, kind: TaskKind, embedding_model_id: str) -> Task | None:
    tasks, _total = ctx.tasks.list_by_kind(
        kind, parameters={"embedding_model_id": embedding_model_id}, limit=1
    )
    return tasks[0] if tasks else None


def _stored(ctx: AppContext, kind: TaskKind, task_id: str | None, key: str | None) -> Task | None:
    stored = ctx.tasks.get(task_id) if task_id else None
    if stored is None and key is not None:
        stored = ctx.tasks.get_by_key(kind, key)
    if stored is not None and stored.kind is not kind:
        raise Conflict(f"task_id: {task_id!r} is taken by a {stored.kind.value} task")
    return stored


def _submit(
    ctx: AppContext,
    kind: TaskKind,
    params: ModelDeploymentParams,
    idempotency_key: str | None,
    task_id: str | None,
) -> tuple[Task, bool]:
    stored = _stored(ctx, kind, task_id, idempotency_key)
    if stored is not None:
        return stored, False
    active = latest_task(ctx, kind, params.embedding_model_id)
    if active is not None and not active.status.is_final:
        return active, False  # the same work is queued or running: one task does it
    task = Task(
        kind=kind, idempotency_key=idempotency_key, parameters=params.model_dump(mode="json")
    )
    if task_id:
        task.task_id = task_id
    submitted = task_service.submit(ctx, task)
    logger.info("%s of model %s queued as %s", kind.value, params.embedding_model_id, task.task_id)
    return submitted


def submit_deployment(
    ctx: AppContext,
    embedding_model_id: str,
    plugin_name: str | None = None,
    idempotency_key: str | None = None,
    task_id: str | None = None,
) -> tuple[Task, bool]:
    """Queue the deployment of a model (export, then load on Triton). An unknown model
    or plugin is refused by the worker, with the reason in the task's `detail`."""
    params = ModelDeploymentParams(embedding_model_id=embedding_model_id, plugin_name=plugin_name)
    return _submit(ctx, TaskKind.model_deployment, params, idempotency_key, task_id)


def submit_deletion(
    ctx: AppContext,
    embedding_model_id: str,
    idempotency_key: str | None = None,
    task_id: str | None = None,
) -> tuple[Task, bool]:
    """Queue the deletion of a model from Triton (unload, then remove its files).

    :raises Conflict: the model serves the blue collection
    """
    stored = _stored(ctx, TaskKind.model_deletion, task_id, idempotency_key)
    if stored is not None:
        return stored, False
    if embedding_model_id in blue_model_ids(ctx):
        raise Conflict(
            f"embedding_model_id: model {embedding_model_id!r} serves the blue collection; "
            "switch blue to another collection before deleting it"
        )
    params = ModelDeploymentParams(embedding_model_id=embedding_model_id)
    return _submit(ctx, TaskKind.model_deletion, params, idempotency_key, task_id)


def get_task(ctx: AppContext, task_id: str) -> Task:
    """A deployment or deletion task; NotFound for any other id."""
    task = ctx.tasks.get(task_id)
    if task is None or task.kind not in KINDS:
        raise NotFound(f"no model deployment or deletion task {task_id!r}")
    return task


@dataclass(frozen=True)
class DeploymentStatus:
    """Where a model stands: its exported Triton models, whether Triton serves them
    (None when not asked or unreachable), and its latest tasks."""

    embedding_model_id: str
    backend: str
    models: list[str]
    ready: dict[str, bool] | None
    triton_reachable: bool | None
    deployment_task: Task | None
    deletion_task: Task | None


def _readiness(ctx: AppContext, names: list[str]) -> tuple[dict[str, bool] | None, bool | None]:
    if ctx.settings.INFERENCE_BACKEND != "triton" or not names:
        return None, None
    url = f"{ctx.settings.INFERENCE_HOST}:{ctx.settings.INFERENCE_GRPC_PORT}"
    control = TritonModelControl(url, STATUS_TIMEOUT_S)
    try:
        return {name: control.is_ready(name) for name in names}, True
    except StorageUnavailable:
        return None, False
    finally:
        control.close()


def deployment_status(ctx: AppContext, embedding_model_id: str) -> DeploymentStatus:
    repository = Path(ctx.settings.INFERENCE_MODEL_REPO)
    names = [info.name for info in exported_models(repository, embedding_model_id)]
    ready, reachable = _readiness(ctx, names)
    return DeploymentStatus(
        embedding_model_id=embedding_model_id,
        backend=ctx.settings.INFERENCE_BACKEND,
        models=names,
        ready=ready,
        triton_reachable=reachable,
        deployment_task=latest_task(ctx, TaskKind.model_deployment, embedding_model_id),
        deletion_task=latest_task(ctx, TaskKind.model_deletion, embedding_model_id),
    )


def deploy_when_served_by_triton(
    ctx: AppContext, embedding_model_id: str, plugin_name: str, reason: str
) -> str | None:
    """With INFERENCE_BACKEND=triton, queue the model's deployment once per `reason`
    (the idempotency key) and return the task id; with the local backend, do nothing.
    Used where a model is about to serve (bootstrap's blue model, a fine-tuned model
    before its reindex). A queue that cannot be reached is logged, not raised: the
    deployment can be asked for again through the API."""
    if ctx.settings.INFERENCE_BACKEND != "triton":
        return None
    try:
        task, _created = submit_deployment(
            ctx, embedding_model_id, plugin_name, idempotency_key=f"{reason}:{embedding_model_id}"
        )
    except StorageUnavailable:
        logger.warning("could not queue the deployment of model %s", embedding_model_id)
        return None
    return task.task_id
