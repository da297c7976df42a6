"""Ask the improvement worker to run now (rather than at its next periodic run).

The clickstream service calls `request_improvement` after it marks a session for
improvement. A trigger that cannot be sent is logged and dropped: the session stays
pending, and the worker's periodic run (every `IMPROVEMENT_SECONDS_INTERVAL`) takes it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from redis.exceptions import RedisError

from embedding_studio.core.errors import StorageUnavailable
from embedding_studio.models.tasks import TaskKind

if TYPE_CHECKING:
    from embedding_studio.context.app_context import AppContext

logger = logging.getLogger(__name__)


def request_improvement(ctx: AppContext, reason: str = "requested") -> bool:
    """Enqueue one `improvement_worker` message; return whether it was sent.

    :param reason: recorded in the message and the worker's log (e.g. the session id)
    """
    try:
        ctx.enqueue(TaskKind.improvement, reason)
    except (RedisError, StorageUnavailable, OSError) as exc:
        logger.warning("improvement trigger (%s) not sent, the periodic run will: %s", reason, exc)
        return False
    return True
