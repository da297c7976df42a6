"""Parameters of model deployment and deletion tasks, as stored in `Task.parameters`."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ModelDeploymentParams(BaseModel):
    """Which embedding model to deploy to (or delete from) Triton.

    :param embedding_model_id: the MLflow run id of the model
    :param plugin_name: the plugin the model belongs to (None: the run's plugin tag)
    """

    embedding_model_id: str = Field(..., min_length=1, max_length=64)
    plugin_name: str | None = None
