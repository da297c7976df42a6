"""Task responses use the same field names as requests (`task_id` in and out)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from embedding_studio.models.common import UtcDatetime
from embedding_studio.models.tasks import FailedItem, Task, TaskKind, TaskProgress, TaskStatus


class TaskResponse(BaseModel):
    task_id: str
    kind: TaskKind
    status: TaskStatus
    idempotency_key: str | None
    parent_id: str | None
    parameters: dict[str, Any]
    result: dict[str, Any]
    progress: TaskProgress
    failed_items: list[FailedItem]
    detail: str | None
    attempts: int
    created_at: UtcDatetime
    updated_at: UtcDatetime
    started_at: UtcDatetime | None
    finished_at: UtcDatetime | None
    created: bool = Field(
        True, description="False when an existing task was returned for a reused id or key"
    )

    @classmethod
    def from_domain(
        cls, task: Task, created: bool = True, with_parameters: bool = True
    ) -> TaskResponse:
        data = task.model_dump()
        if not with_parameters:
            data["parameters"] = {}
        return cls(**data, created=created)


class TaskListResponse(BaseModel):
    items: list[TaskResponse]
    total: int
    skip: int
    limit: int


class TaskIdRequest(BaseModel):
    task_id: str = Field(..., min_length=1, max_length=128)
