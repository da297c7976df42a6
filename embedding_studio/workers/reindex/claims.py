"""Running one reindex subtask under its claim, wherever it runs: in the subworker actor
or inline in the parent, which runs every subtask nobody else has claimed (so a reindex
finishes even when every other worker thread is busy or dead)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING

from embedding_studio.models.tasks import TaskKind
from embedding_studio.workers.reindex.copy_range import copy_range
from embedding_studio.workers.reindex.locking import (
    CLAIM_TTL_S,
    Heartbeat,
    claim_owner,
    subtask_claim,
)
from embedding_studio.workers.task_runner import run_task

if TYPE_CHECKING:
    from embedding_studio.context.app_context import AppContext


def run_claimed_subtask(
    ctx: AppContext, subtask_id: str, on_batch: Callable[[], None] | None = None
) -> bool:
    """Run the subtask if nobody else runs it; False when it is claimed elsewhere."""
    name, owner = subtask_claim(subtask_id), claim_owner()
    if not ctx.locks.acquire(name, owner, CLAIM_TTL_S):
        return False
    try:
        with Heartbeat(ctx.locks, [name], owner, CLAIM_TTL_S):
            handler = functools.partial(copy_range, on_batch=on_batch)
            run_task(ctx, subtask_id, TaskKind.reindex_subtask, handler)
    finally:
        ctx.locks.release(name, owner)
    return True
