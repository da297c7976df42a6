"""The Dramatiq broker on Redis, configured once per process from settings.

Worker modules import `broker` before declaring actors; the API enqueues through
`enqueue()`, which sends a message by actor name without importing the actor."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import dramatiq
from dramatiq import Message
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import CurrentMessage

from embedding_studio.core.config import settings
from embedding_studio.core.errors import TaskCanceled, TaskRefused
from embedding_studio.workers.queues import ROUTES, TaskKind

logger = logging.getLogger(__name__)

# Failures that retrying cannot fix: the task already records why.
NOT_RETRIED = (TaskRefused, TaskCanceled)


@functools.cache
def get_broker() -> RedisBroker:
    """Build the broker (redis-py connects lazily, so this opens no connection)."""
    broker = RedisBroker(
        url=settings.REDIS_URL,
        heartbeat_timeout=settings.WORKER_HEARTBEAT_TIMEOUT_MS,
        maintenance_chance=settings.WORKER_MAINTENANCE_CHANCE,
    )
    broker.add_middleware(CurrentMessage())
    dramatiq.set_broker(broker)
    return broker


def task_actor(
    queue_name: str, actor_name: str | None = None
) -> Callable[[Callable[..., Any]], Any]:
    """Declare an actor that handles tasks by id: transient errors are retried with
    backoff, refusals and cancellations are not."""
    return dramatiq.actor(
        queue_name=queue_name,
        actor_name=actor_name,
        broker=get_broker(),
        throws=NOT_RETRIED,
        max_retries=settings.WORKER_MAX_RETRIES,
        min_backoff=settings.WORKER_MIN_BACKOFF_MS,
        max_backoff=settings.WORKER_MAX_BACKOFF_MS,
        time_limit=settings.WORKER_TIME_LIMIT_MS,
    )


def is_last_attempt() -> bool:
    """Whether the message being processed will not be retried if it fails now."""
    message = CurrentMessage.get_current_message()
    if message is None:
        return True
    return int(message.options.get("retries", 0)) >= settings.WORKER_MAX_RETRIES


def enqueue(kind: TaskKind, task_id: str) -> None:
    route = ROUTES[kind]
    message: Message[Any] = Message(
        queue_name=route.queue_name,
        actor_name=route.actor_name,
        args=(task_id,),
        kwargs={},
        options={},
    )
    get_broker().enqueue(message)
    logger.info("enqueued %s task %s on %s", kind.value, task_id, route.queue_name)
