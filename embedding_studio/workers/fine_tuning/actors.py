"""`dramatiq embedding_studio.workers.fine_tuning.actors -Q fine_tuning_worker`

Declares the `fine_tuning_worker` actor: it runs fine-tuning tasks by id (see
`handler.py`). Refused and canceled tasks are not retried; a worker killed mid-training
has its message redelivered, and the task resumes from what it recorded.
"""

from __future__ import annotations

from embedding_studio.context.app_context import current_context
from embedding_studio.core.logging import configure_logging
from embedding_studio.models.tasks import TaskKind
from embedding_studio.workers.broker import get_broker, task_actor
from embedding_studio.workers.fine_tuning.handler import fine_tune
from embedding_studio.workers.task_runner import run_task

configure_logging()
broker = get_broker()


@task_actor(queue_name="fine_tuning_worker")
def fine_tuning_worker(task_id: str) -> None:
    run_task(current_context(), task_id, TaskKind.fine_tuning, fine_tune)
