"""`dramatiq embedding_studio.workers.upsertion.actors -Q upsertion_worker deletion_worker`"""

from __future__ import annotations

from embedding_studio.context.app_context import current_context
from embedding_studio.core.logging import configure_logging
from embedding_studio.models.tasks import TaskKind
from embedding_studio.workers.broker import task_actor
from embedding_studio.workers.task_runner import run_task
from embedding_studio.workers.upsertion.handler import delete_items, upsert_items

configure_logging()


@task_actor(queue_name="upsertion_worker")
def upsertion_worker(task_id: str) -> None:
    run_task(current_context(), task_id, TaskKind.upsertion, upsert_items)


@task_actor(queue_name="deletion_worker")
def deletion_worker(task_id: str) -> None:
    run_task(current_context(), task_id, TaskKind.deletion, delete_items)


@task_actor(queue_name="upsertion_worker", actor_name="categories_upsertion_worker")
def categories_upsertion_worker(task_id: str) -> None:
    ctx = current_context()
    run_task(
        ctx,
        task_id,
        TaskKind.categories_upsertion,
        lambda run: upsert_items(run, ctx.categories_vectordb),
    )


@task_actor(queue_name="deletion_worker", actor_name="categories_deletion_worker")
def categories_deletion_worker(task_id: str) -> None:
    ctx = current_context()
    run_task(
        ctx,
        task_id,
        TaskKind.categories_deletion,
        lambda run: delete_items(run, ctx.categories_vectordb),
    )
