"""`dramatiq embedding_studio.workers.reindex.actors -Q reindex_worker reindex_subworker`

`reindex_worker` runs a reindex task (plans, drives its subtasks, builds the index,
switches blue); `reindex_subworker` runs one subtask (a range of object ids), unless
another thread already runs it (then this message has nothing to do)."""

from __future__ import annotations

from embedding_studio.context.app_context import current_context
from embedding_studio.core.logging import configure_logging
from embedding_studio.models.tasks import TaskKind
from embedding_studio.workers.broker import task_actor
from embedding_studio.workers.reindex.claims import run_claimed_subtask
from embedding_studio.workers.reindex.handler import run_reindex
from embedding_studio.workers.task_runner import run_task

configure_logging()


@task_actor(queue_name="reindex_worker")
def reindex_worker(task_id: str) -> None:
    run_task(current_context(), task_id, TaskKind.reindex, run_reindex)


@task_actor(queue_name="reindex_subworker")
def reindex_subworker(task_id: str) -> None:
    run_claimed_subtask(current_context(), task_id)
