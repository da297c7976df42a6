"""Creating, restarting and canceling tasks of any kind: the rules the API applies."""

from __future__ import annotations

import logging

from embedding_studio.context.app_context import AppContext
from embedding_studio.core.errors import StorageUnavailable
from embedding_studio.models.tasks import Task, TaskKind

logger = logging.getLogger(__name__)


def submit(ctx: AppContext, task: Task) -> tuple[Task, bool]:
    """Store the task once and enqueue it. A reused id or idempotency key returns the
    stored task unchanged and enqueues nothing."""
    stored, created = ctx.tasks.create_once(task)
    if not created:
        return stored, False
    try:
        ctx.enqueue(stored.kind, stored.task_id)
    except Exception as exc:  # the broker client raises its own error types
        # A task nobody will run must not stay pending: drop it, the client retries.
        ctx.tasks.delete(stored.task_id)
        raise StorageUnavailable(f"the task queue (Redis) is unreachable: {exc}") from exc
    return stored, True


def restart(ctx: AppContext, task_id: str, kind: TaskKind) -> Task:
    ctx.tasks.require(task_id, kind)
    task = ctx.tasks.reset_for_restart(task_id)
    ctx.enqueue(task.kind, task.task_id)
    return task


def cancel(ctx: AppContext, task_id: str, kind: TaskKind) -> Task:
    ctx.tasks.require(task_id, kind)
    return ctx.tasks.cancel(task_id)
