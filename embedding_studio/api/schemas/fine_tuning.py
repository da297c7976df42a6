"""Requests of the fine-tuning task routes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from embedding_studio.api.schemas.clickstream import ID_PATTERN

MODEL_ID_PATTERN = r"^[A-Za-z0-9_\-]{1,64}$"


class FineTuningTaskRequest(BaseModel):
    """Fine-tune a model on a clickstream batch.

    The task releases the open batch (or uses `batch_id`), trains the plugin's
    hyperparameter trials on its sessions, keeps the best trial if it is not worse than
    the starting model on held-out sessions, registers it, and with `deploy_as_blue`
    reindexes into the new model's collection and makes it blue. Follow it with
    `GET /fine-tuning/task/info`; its `result` tells the outcome and why.
    """

    embedding_model_id: str | None = Field(
        None,
        pattern=MODEL_ID_PATTERN,
        description="The model to start from; the blue collection's model when omitted",
    )
    batch_id: str | None = Field(
        None,
        pattern=ID_PATTERN,
        description="The clickstream batch to train on; the open batch (released now) if omitted",
    )
    task_id: str | None = Field(None, min_length=1, max_length=128)
    idempotency_key: str | None = Field(None, min_length=1, max_length=256)
    deploy_as_blue: bool = Field(
        False, description="Reindex into the new model's collection and make it blue"
    )
    wait_on_conflict: bool = Field(
        False,
        description="Wait for a task training on the same batch (or a running reindex) "
        "instead of being refused",
    )
    metadata: dict[str, Any] = Field(default_factory=dict, description="Kept with the task")
