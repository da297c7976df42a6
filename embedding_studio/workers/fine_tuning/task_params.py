"""The parameters a fine-tuning task carries (`Task.parameters`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class FineTuningTaskParams(BaseModel):
    """:param embedding_model_id: the model to start from (resolved at submission)
    :param batch_id: the clickstream batch to train on; None releases the open batch
    :param deploy_as_blue: once accepted, reindex into the new model's collection and
        make it blue
    :param wait_on_conflict: wait for another task training on the same batch (and for
        a running reindex) instead of being refused
    :param metadata: the client's own notes, kept with the task"""

    embedding_model_id: str
    batch_id: str | None = None
    deploy_as_blue: bool = False
    wait_on_conflict: bool = False
    metadata: dict[str, Any] = Field(default_factory=dict)
