"""A reindex's subtasks: planned as ranges of object ids, created once (ids derived from
the parent's), enqueued on `reindex_subworker`, and driven by the parent until all are
done. The parent runs any subtask nobody has claimed itself, so the reindex finishes
even with a single worker thread; subtasks already done are never run again."""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from embedding_studio.core.errors import Conflict, TaskCanceled
from embedding_studio.models.tasks import FailedItem, Task, TaskKind, TaskStatus
from embedding_studio.workers.reindex.claims import run_claimed_subtask
from embedding_studio.workers.reindex.locking import keep_alive
from embedding_studio.workers.reindex.params import RangeParams, ReindexParams
from embedding_studio.workers.task_runner import TaskRun

if TYPE_CHECKING:
    from embedding_studio.context.app_context import AppContext
    from embedding_studio.vectordb.collection import Collection

logger = logging.getLogger(__name__)

POLL_S = 0.5
MAX_REPORTED_FAILURES = 1000
RERUNNABLE = {TaskStatus.failed, TaskStatus.canceled, TaskStatus.refused}

# A planned range: (after, last, objects planned), ids `after < id <= last`.
PlannedRange = tuple[str | None, str | None, int]


def plan_ranges(source: Collection, size: int) -> list[PlannedRange]:
    """Cut the source's original object ids into ranges of `size` ids; the last range is
    open-ended, so objects added after planning fall in some range too."""
    ranges: list[PlannedRange] = []
    after: str | None = None
    while True:
        ids = source.list_object_ids(after=after, limit=size)
        if len(ids) < size:
            ranges.append((after, None, len(ids)))
            return ranges
        ranges.append((after, ids[-1], size))
        after = ids[-1]


def subtask_id(parent_id: str, index: int) -> str:
    return f"{parent_id}.{index:05d}"


def list_subtasks(ctx: AppContext, parent_id: str) -> list[Task]:
    found, total = ctx.tasks.list_by_kind(TaskKind.reindex_subtask, parent_id=parent_id, limit=500)
    skip = len(found)
    while skip < total:
        more, total = ctx.tasks.list_by_kind(
            TaskKind.reindex_subtask, parent_id=parent_id, skip=skip, limit=500
        )
        if not more:
            break
        found.extend(more)
        skip += len(more)
    return sorted(found, key=lambda t: t.task_id)


def create_subtasks(
    ctx: AppContext, parent_id: str, params: ReindexParams, plan: list[Any]
) -> None:
    """Create (and enqueue) the planned subtasks that do not exist yet."""
    existing = {t.task_id for t in list_subtasks(ctx, parent_id)}
    for index, (after, last, planned) in enumerate(plan):
        task_id = subtask_id(parent_id, index)
        if task_id in existing:
            continue
        parameters = RangeParams(
            source_model_id=params.source_model_id,
            dest_model_id=params.dest_model_id,
            index=index,
            after=after,
            last=last,
            planned=planned,
        ).model_dump(mode="json")
        task = Task(
            task_id=task_id,
            kind=TaskKind.reindex_subtask,
            parent_id=parent_id,
            parameters=parameters,
        )
        _, created = ctx.tasks.create_once(task)
        if created:
            ctx.enqueue(TaskKind.reindex_subtask, task_id)


def delete_subtasks(ctx: AppContext, parent_id: str) -> None:
    for task in list_subtasks(ctx, parent_id):
        ctx.tasks.delete(task.task_id)


@dataclass
class Totals:
    done: int
    written: int
    removed: int
    failures: list[FailedItem]


def totals(subtasks: list[Task]) -> Totals:
    failures = [f for t in subtasks for f in t.failed_items]
    return Totals(
        done=sum(t.progress.done for t in subtasks),
        written=sum(int(t.result.get("written", 0)) for t in subtasks),
        removed=sum(int(t.result.get("removed", 0)) for t in subtasks),
        failures=failures,
    )


def _rerun(ctx: AppContext, task: Task) -> None:
    """A subtask that stopped for good (retries spent, canceled) runs again."""
    try:
        ctx.tasks.reset_for_restart(task.task_id)
    except Conflict:
        pass  # restarted meanwhile


def _report(run: TaskRun, planned: int, state: dict[str, Any]) -> list[Task]:
    subtasks = list_subtasks(run.ctx, run.task_id)
    now = totals(subtasks)
    finished = sum(t.status is TaskStatus.done for t in subtasks)
    message = f"{finished}/{len(subtasks)} subtasks done, {now.written} objects copied"
    failures = now.failures[:MAX_REPORTED_FAILURES]
    run.report(now.done, max(now.done, planned), message, failures, state)
    return subtasks


def _report_quietly(run: TaskRun, planned: int, state: dict[str, Any]) -> None:
    """Progress from inside a subtask the parent runs: a cancel is noticed by the
    subtask's own checkpoint and then by the parent's loop, not here."""
    try:
        _report(run, planned, state)
    except TaskCanceled:
        pass


def drive(run: TaskRun, planned: int, lock_names: list[str], state: dict[str, Any]) -> Totals:
    """Wait until every subtask is done, running unclaimed ones here; report progress."""
    ctx = run.ctx
    on_batch = functools.partial(_report_quietly, run, planned, state)
    while True:
        keep_alive(ctx.locks, lock_names, run.task_id)
        subtasks = _report(run, planned, state)
        todo = [t for t in subtasks if t.status is not TaskStatus.done]
        if not todo:
            return totals(subtasks)
        for task in todo:
            if task.status in RERUNNABLE:
                _rerun(ctx, task)
            if run_claimed_subtask(ctx, task.task_id, on_batch):
                break
        else:
            time.sleep(POLL_S)
