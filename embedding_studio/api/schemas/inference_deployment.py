"""Requests and responses of the model deployment routes."""

from __future__ import annotations

from pydantic import BaseModel, Field

from embedding_studio.api.schemas.reindex import MODEL_ID_PATTERN
from embedding_studio.api.schemas.tasks import TaskResponse
from embedding_studio.services.inference_deployment import DeploymentStatus


class ModelDeploymentRequest(BaseModel):
    embedding_model_id: str = Field(
        ..., pattern=MODEL_ID_PATTERN, description="Embedding model (MLflow run id) to deploy"
    )
    plugin_name: str | None = Field(
        None, description="Plugin of the model (default: the plugin tag of its MLflow run)"
    )
    task_id: str | None = Field(None, min_length=1, max_length=128)
    idempotency_key: str | None = Field(None, min_length=1, max_length=256)


class ModelDeletionRequest(BaseModel):
    embedding_model_id: str = Field(
        ..., pattern=MODEL_ID_PATTERN, description="Embedding model to remove from Triton"
    )
    task_id: str | None = Field(None, min_length=1, max_length=128)
    idempotency_key: str | None = Field(None, min_length=1, max_length=256)


class DeploymentStatusResponse(BaseModel):
    embedding_model_id: str
    backend: str = Field(..., description="INFERENCE_BACKEND: local or triton")
    models: list[str] = Field(..., description="Triton models exported for this embedding model")
    ready: dict[str, bool] | None = Field(
        None, description="Whether Triton serves each model (null: local backend or unreachable)"
    )
    triton_reachable: bool | None
    deployment_task: TaskResponse | None
    deletion_task: TaskResponse | None

    @classmethod
    def from_status(cls, status: DeploymentStatus) -> DeploymentStatusResponse:
        def task(value: object) -> TaskResponse | None:
            return None if value is None else TaskResponse.from_domain(value)  # type: ignore[arg-type]

        return cls(
            embedding_model_id=status.embedding_model_id,
            backend=status.backend,
            models=status.models,
            ready=status.ready,
            triton_reachable=status.triton_reachable,
            deployment_task=task(status.deployment_task),
            deletion_task=task(status.deletion_task),
        )
