"""The clickstream batch a fine-tuning task trains on: released (or taken as given),
held through a lock so one task at a time trains on it, and read page by page."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from embedding_studio.context.app_context import AppContext
from embedding_studio.core.errors import TaskRefused
from embedding_studio.models.clickstream.session_batches import SessionBatch, SessionBatchStatus
from embedding_studio.models.clickstream.sessions import SessionWithEvents

logger = logging.getLogger(__name__)

LOCK_TTL_S = 600.0
RENEW_EVERY_S = 30.0
WAIT_POLL_S = 2.0
SESSIONS_PAGE = 500
USED = {SessionBatchStatus.archiving, SessionBatchStatus.archived}


def lock_name(batch_id: str) -> str:
    return f"fine_tuning_batch:{batch_id}"


def release_id(task_id: str) -> str:
    """The release id a task closes the open batch with (a retry finds the same batch)."""
    return f"fine_tuning:{task_id}"


def resolve_batch(
    ctx: AppContext, task_id: str, requested: str | None, recorded: str | None
) -> SessionBatch:
    """The batch to train on: the one an earlier attempt recorded, the requested one
    (released now if it is the open batch), or the open batch, released now.

    :raises TaskRefused: unknown batch, nothing to release, or a batch already used
    """
    dao = ctx.clickstream_dao
    batch_id = recorded or requested
    if batch_id is None:
        batch = dao.release_batch(release_id(task_id))
        if batch is None:
            raise TaskRefused(
                "no clickstream session was recorded since the last release: nothing to "
                "fine-tune on"
            )
        return batch
    batch = dao.get_batch(batch_id)
    if batch is None:
        raise TaskRefused(f"clickstream batch {batch_id!r} does not exist")
    if batch.status is SessionBatchStatus.collecting:
        released = dao.release_batch(release_id(task_id))
        batch = dao.get_batch(batch_id) if released is None else released
        if batch is None or batch.batch_id != batch_id:
            raise TaskRefused(f"clickstream batch {batch_id!r} could not be released")
    if batch.status in USED and recorded is None:
        raise TaskRefused(
            f"clickstream batch {batch_id!r} was already used by a fine-tuning task "
            f"(status {batch.status.value}); fine-tune on a newer batch"
        )
    if batch.session_counter == 0:
        raise TaskRefused(f"clickstream batch {batch_id!r} has no session")
    return batch


def check_still_unused(ctx: AppContext, batch_id: str, outcome: object | None) -> None:
    """After waiting for the batch: refuse if the task that held it trained on it."""
    batch = ctx.clickstream_dao.get_batch(batch_id)
    if outcome is None and batch is not None and batch.status in USED:
        raise TaskRefused(
            f"clickstream batch {batch_id!r} was already used by the fine-tuning task this "
            "one waited for; fine-tune on a newer batch"
        )


class BatchLease:
    """The lock on a batch held by one task (owner = task id), renewed while it trains.

    :param wait: when another task holds the batch, wait for it instead of refusing
    :param waiting: called with the holder's id while waiting; raises to stop waiting
    """

    def __init__(self, ctx: AppContext, batch_id: str, task_id: str) -> None:
        self._locks = ctx.locks
        self.name = lock_name(batch_id)
        self.batch_id = batch_id
        self.task_id = task_id
        self._renewed = 0.0

    def acquire(self, wait: bool, waiting: Callable[[str], None]) -> None:
        while not self._locks.acquire(self.name, self.task_id, LOCK_TTL_S):
            holder = self._locks.holder(self.name) or "another task"
            if not wait:
                raise TaskRefused(
                    f"clickstream batch {self.batch_id} is being fine-tuned by task {holder}; "
                    "send wait_on_conflict=true to wait for it"
                )
            waiting(holder)
            time.sleep(WAIT_POLL_S)
        self._renewed = time.monotonic()

    def renew(self) -> None:
        if time.monotonic() - self._renewed >= RENEW_EVERY_S:
            self._locks.acquire(self.name, self.task_id, LOCK_TTL_S)
            self._renewed = time.monotonic()

    def release(self) -> None:
        self._locks.release(self.name, self.task_id)


def load_sessions(ctx: AppContext, batch_id: str) -> list[SessionWithEvents]:
    """Every session of the batch with all its events, by session number."""
    sessions: list[SessionWithEvents] = []
    after = 0
    while True:
        page = ctx.clickstream_dao.get_batch_sessions(
            batch_id, after_number=after, limit=SESSIONS_PAGE
        )
        if not page:
            return sessions
        sessions.extend(page)
        after = page[-1].session_number
