"""The reindex subtask: copy one range of object ids from the source collection into the
destination, batch by batch, re-embedding each object with the destination model.

Resumable: after each committed batch the subtask records its cursor (the last id of the
batch window), so a retry continues after it; a batch written twice is replaced, not
duplicated. Only original objects are copied: personalised copies belong to the old
model's vector space and are left behind (users' adjustments start again in the new one).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from embedding_studio.core.errors import NotFound, TaskCanceled, TaskRefused
from embedding_studio.models.tasks import FailedItem, Task, TaskStatus
from embedding_studio.workers.reindex.guarded_write import (
    Window,
    list_range,
    read_source,
    write_if_unchanged,
)
from embedding_studio.workers.reindex.params import RangeParams
from embedding_studio.workers.reindex.reembed import reembed_objects
from embedding_studio.workers.task_runner import TaskRun

if TYPE_CHECKING:
    from embedding_studio.context.app_context import AppContext
    from embedding_studio.core.plugin import FineTuningMethod
    from embedding_studio.vectordb.collection import Collection

logger = logging.getLogger(__name__)

# Passes over objects that changed between our read and our write before giving up
# (the task is then retried); each pass only re-reads the objects that changed.
MAX_PASSES = 10
STOPPED_PARENT = {TaskStatus.canceled, TaskStatus.failed, TaskStatus.refused}


@dataclass
class Copier:
    ctx: AppContext
    source: Collection
    dest: Collection
    source_plugin: FineTuningMethod
    dest_plugin: FineTuningMethod
    failures: list[FailedItem] = field(default_factory=list)
    written: int = 0
    removed: int = 0

    def copy_batch(self, ids: list[str], window: Window) -> None:
        """Copy these source objects and drop the destination's strays in `window`."""
        pending: list[str] = ids
        for number in range(MAX_PASSES):
            read = read_source(self.ctx.postgres, self.source, pending)
            outcome = reembed_objects(
                self.source_plugin,
                self.dest_plugin,
                self.dest.info.embedding_model_id,
                read.objects,
            )
            written = write_if_unchanged(
                self.ctx.postgres,
                self.source,
                self.dest,
                read,
                outcome.objects,
                window if number == 0 else None,
            )
            changed = set(written.changed)
            self.failures.extend(f for f in outcome.failures if f.object_id not in changed)
            self.written += written.written
            self.removed += written.removed
            pending = written.changed
            if not pending:
                return
            logger.info("%d objects changed while being copied; copying them again", len(pending))
        raise RuntimeError(f"{len(pending)} objects kept changing during {MAX_PASSES} passes")


def _stop_if_parent_stopped(ctx: AppContext, task: Task) -> None:
    parent = ctx.tasks.get(task.parent_id) if task.parent_id else None
    if parent is None or parent.status in STOPPED_PARENT:
        state = parent.status.value if parent else "deleted"
        ctx.tasks.cancel(task.task_id)
        raise TaskCanceled(f"reindex task {task.parent_id} is {state}")


def _copier(ctx: AppContext, params: RangeParams) -> Copier:
    try:
        source = ctx.vectordb.get_collection(params.source_model_id)
        dest = ctx.vectordb.get_collection(params.dest_model_id)
    except NotFound as exc:
        raise TaskRefused(str(exc)) from exc
    return Copier(
        ctx=ctx,
        source=source,
        dest=dest,
        source_plugin=ctx.plugin_manager.require(source.info.plugin_name),
        dest_plugin=ctx.plugin_manager.require(dest.info.plugin_name),
    )


def copy_range(run: TaskRun, on_batch: Callable[[], None] | None = None) -> dict[str, Any]:
    """The subtask's handler; `on_batch` is called after each committed batch (the parent
    running it inline refreshes its own progress there)."""
    ctx, task = run.ctx, run.task
    params = RangeParams.model_validate(task.parameters)
    if task.result.get("complete"):
        return task.result
    copier = _copier(ctx, params)
    copier.failures = list(task.failed_items)
    copier.written = int(task.result.get("written", 0))
    copier.removed = int(task.result.get("removed", 0))
    cursor: str | None = task.result.get("cursor", params.after)
    done, batch_size = task.progress.done, ctx.settings.UPSERTION_BATCH_SIZE
    while True:
        _stop_if_parent_stopped(ctx, run.task)
        rest = Window(after=cursor, last=params.last)
        ids = list_range(ctx.postgres, copier.source, rest, batch_size)
        complete = len(ids) < batch_size
        window = rest if complete else Window(after=cursor, last=ids[-1])
        copier.copy_batch(ids, window)
        done += len(ids)
        result: dict[str, Any] = {
            "written": copier.written,
            "removed": copier.removed,
            "complete": complete,
            "cursor": window.last,
        }
        message = f"{copier.written} copied, {len(copier.failures)} failed"
        run.report(done, max(done, params.planned), message, copier.failures, result)
        logger.info("subtask %s: %d/%d objects, %s", task.task_id, done, params.planned, message)
        if on_batch is not None:
            on_batch()
        if complete:
            logger.info("subtask %s: %s", task.task_id, message)
            return result
        cursor = window.last
