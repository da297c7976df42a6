"""Internal routes deploying embedding models to Triton and deleting them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from embedding_studio.api.deps import ContextDep
from embedding_studio.api.schemas.inference_deployment import (
    DeploymentStatusResponse,
    ModelDeletionRequest,
    ModelDeploymentRequest,
)
from embedding_studio.api.schemas.reindex import MODEL_ID_PATTERN
from embedding_studio.api.schemas.tasks import TaskResponse
from embedding_studio.services import inference_deployment

router = APIRouter(prefix="/inference-deployment", tags=["inference deployment (internal)"])


@router.post("/deploy", response_model=TaskResponse)
def deploy(body: ModelDeploymentRequest, ctx: ContextDep) -> TaskResponse:
    """Export the model to the Triton model repository and load it (inference worker).
    A deployment of the same model that is queued or running is returned instead of a
    new one. An unknown model ends `refused`, with the reason in `detail`."""
    task, created = inference_deployment.submit_deployment(
        ctx, body.embedding_model_id, body.plugin_name, body.idempotency_key, body.task_id
    )
    return TaskResponse.from_domain(task, created=created)


@router.post("/delete", response_model=TaskResponse)
def delete(body: ModelDeletionRequest, ctx: ContextDep) -> TaskResponse:
    """Unload the model from Triton and remove its files. 409: it serves the blue
    collection."""
    task, created = inference_deployment.submit_deletion(
        ctx, body.embedding_model_id, body.idempotency_key, body.task_id
    )
    return TaskResponse.from_domain(task, created=created)


@router.get("/info", response_model=TaskResponse)
def info(
    ctx: ContextDep, task_id: Annotated[str, Query(min_length=1, max_length=128)]
) -> TaskResponse:
    """One deployment or deletion task by id."""
    return TaskResponse.from_domain(inference_deployment.get_task(ctx, task_id))


@router.get("/status", response_model=DeploymentStatusResponse)
def status(
    ctx: ContextDep,
    embedding_model_id: Annotated[str, Query(pattern=MODEL_ID_PATTERN)],
) -> DeploymentStatusResponse:
    """A model's exported Triton models, whether Triton serves them, and its latest
    deployment and deletion tasks."""
    found = inference_deployment.deployment_status(ctx, embedding_model_id)
    return DeploymentStatusResponse.from_status(found)
