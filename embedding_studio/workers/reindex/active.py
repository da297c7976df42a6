"""The reindex tasks queued or running, and which collections they use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from embedding_studio.models.tasks import Task, TaskKind, TaskStatus

if TYPE_CHECKING:
    from embedding_studio.context.app_context import AppContext


def active_reindexes(ctx: AppContext) -> list[Task]:
    """Pending and processing reindex tasks, oldest first."""
    found: list[Task] = []
    for status in (TaskStatus.pending, TaskStatus.processing):
        found.extend(ctx.tasks.list_by_kind(TaskKind.reindex, status=status, limit=500)[0])
    return sorted(found, key=lambda task: (task.created_at, task.task_id))


def models_of(task: Task) -> set[str]:
    """The embedding model ids whose collections the reindex reads or writes."""
    return {
        str(task.parameters.get("source_model_id")),
        str(task.parameters.get("dest_model_id")),
    }


def older_conflicting(ctx: AppContext, task: Task) -> str | None:
    """An older queued or running reindex using one of `task`'s collections: `task`
    waits for it (reindexes of the same collections run in submission order)."""
    for other in active_reindexes(ctx):
        if other.task_id == task.task_id:
            continue
        older = (other.created_at, other.task_id) < (task.created_at, task.task_id)
        if older and models_of(other) & models_of(task):
            return other.task_id
    return None
