"""Runs a task handler inside the shared lifecycle: start, checkpoints, progress,
final status. Handlers are plain functions of a `TaskRun`, safe to run twice."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from embedding_studio.core.errors import TaskCanceled, TaskRefused
from embedding_studio.models.tasks import FailedItem, Task, TaskKind, TaskProgress, TaskStatus
from embedding_studio.workers.broker import is_last_attempt

if TYPE_CHECKING:
    from embedding_studio.context.app_context import AppContext

logger = logging.getLogger(__name__)


@dataclass
class TaskRun:
    """The running task as its handler sees it."""

    ctx: AppContext
    task: Task

    @property
    def task_id(self) -> str:
        return self.task.task_id

    def checkpoint(self) -> None:
        """Stop here (raising `TaskCanceled`) if the task was canceled meanwhile."""
        if self.ctx.tasks.is_canceled(self.task_id):
            raise TaskCanceled(f"task {self.task_id} was canceled")

    def report(
        self,
        done: int,
        total: int | None,
        message: str | None = None,
        failed_items: list[FailedItem] | None = None,
        result: dict[str, Any] | None = None,
    ) -> None:
        progress = TaskProgress(done=done, total=total, message=message)
        updated = self.ctx.tasks.report_progress(self.task_id, progress, failed_items, result)
        if updated is None:
            raise TaskCanceled(f"task {self.task_id} was canceled")
        self.task = updated


Handler = Callable[[TaskRun], dict[str, Any] | None]


def run_task(ctx: AppContext, task_id: str, kind: TaskKind, handler: Handler) -> None:
    task = ctx.tasks.get(task_id)
    if task is None or task.kind is not kind:
        raise TaskRefused(f"{kind.value} task {task_id} does not exist")
    if task.status.is_final:
        logger.info("task %s is already %s; nothing to do", task_id, task.status.value)
        return
    started = ctx.tasks.start(task_id)
    if started is None:
        logger.info("task %s was not startable (canceled meanwhile)", task_id)
        return
    logger.info("task %s (%s) started, attempt %d", task_id, kind.value, started.attempts)
    try:
        result = handler(TaskRun(ctx=ctx, task=started))
    except TaskCanceled:
        logger.info("task %s stopped: canceled", task_id)
        return
    except TaskRefused as exc:
        logger.warning("task %s refused: %s", task_id, exc)
        ctx.tasks.finish(task_id, TaskStatus.refused, detail=str(exc))
        raise
    except Exception as exc:
        if is_last_attempt():
            logger.exception("task %s failed for good", task_id)
            ctx.tasks.finish(task_id, TaskStatus.failed, detail=f"{type(exc).__name__}: {exc}")
        else:
            logger.warning("task %s attempt failed, will retry: %s", task_id, exc)
        raise
    finished = ctx.tasks.finish(task_id, TaskStatus.done, result=result)
    logger.info("task %s %s", task_id, "done" if finished else "ended after cancel")
