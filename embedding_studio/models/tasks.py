"""The task lifecycle shared by every worker: upsertion, deletion, reindex, fine-tuning,
model deployment and deletion, sessions for improvement."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from embedding_studio.models.common import UtcDatetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


class TaskStatus(StrEnum):
    pending = "pending"
    processing = "processing"
    done = "done"
    failed = "failed"
    refused = "refused"
    canceled = "canceled"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES


FINAL_STATUSES = frozenset(
    {TaskStatus.done, TaskStatus.failed, TaskStatus.refused, TaskStatus.canceled}
)


class TaskKind(StrEnum):
    upsertion = "upsertion"
    deletion = "deletion"
    reindex = "reindex"
    reindex_subtask = "reindex_subtask"
    fine_tuning = "fine_tuning"
    model_deployment = "model_deployment"
    model_deletion = "model_deletion"
    categories_upsertion = "categories_upsertion"
    categories_deletion = "categories_deletion"
    improvement = "improvement"
    """Not a stored task: a trigger for the improvement worker to process the sessions
    marked for improvement (the message carries the trigger's reason, not a task id)."""
    test = "test"


class TaskProgress(BaseModel):
    """How far a long task has come; `total` is None while unknown."""

    done: int = 0
    total: int | None = None
    message: str | None = None


class FailedItem(BaseModel):
    """One item a task could not handle, and at which stage (load, split, embed, write)."""

    object_id: str
    stage: str
    detail: str


class Task(BaseModel):
    """A unit of asynchronous work. `parameters` and `result` hold the kind's own fields."""

    task_id: str = Field(default_factory=new_id)
    kind: TaskKind
    status: TaskStatus = TaskStatus.pending
    idempotency_key: str | None = None
    parent_id: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    result: dict[str, Any] = Field(default_factory=dict)
    progress: TaskProgress = Field(default_factory=TaskProgress)
    failed_items: list[FailedItem] = Field(default_factory=list)
    detail: str | None = None
    attempts: int = 0
    created_at: UtcDatetime = Field(default_factory=utc_now)
    updated_at: UtcDatetime = Field(default_factory=utc_now)
    started_at: UtcDatetime | None = None
    finished_at: UtcDatetime | None = None
