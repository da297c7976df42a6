"""`dramatiq embedding_studio.workers.improvement.actors -Q improvement_worker`

This module is the improvement worker process's entry point: importing it declares the
`improvement_worker` actor and installs the periodic trigger, which only acts when a
Dramatiq worker boots (see `scheduler.py`). Triggers come from the clickstream service
when a session is marked for improvement (`trigger.request_improvement`) and from the
timer every `IMPROVEMENT_SECONDS_INTERVAL` seconds.
"""

from __future__ import annotations

import logging

from embedding_studio.context.app_context import current_context
from embedding_studio.core.config import settings
from embedding_studio.core.logging import configure_logging
from embedding_studio.workers.broker import get_broker, task_actor
from embedding_studio.workers.improvement.handler import improve_pending_sessions
from embedding_studio.workers.improvement.scheduler import PeriodicTrigger
from embedding_studio.workers.improvement.warm_up import warm_up

configure_logging()
logger = logging.getLogger(__name__)
broker = get_broker()


@task_actor(queue_name="improvement_worker")
def improvement_worker(reason: str = "periodic") -> None:
    """Process every pending session marked for improvement (safe to run twice)."""
    logger.info("improvement run (%s) starting", reason)
    outcome = improve_pending_sessions(current_context())
    if outcome:
        logger.info("improvement run (%s): %s", reason, dict(outcome))


broker.add_middleware(
    PeriodicTrigger(
        send=lambda: improvement_worker.send("periodic"),
        interval_s=settings.IMPROVEMENT_SECONDS_INTERVAL,
        warm_up=lambda: warm_up(current_context()),
    )
)
