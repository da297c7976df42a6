"""The locks of a reindex: one per source and one per destination collection (so two
reindexes never copy from, or into, the same collection at once), owned by the reindex
task's id; and one claim per subtask, so a subtask runs in one place at a time (the
subworker actor or the parent itself). A `Heartbeat` thread extends them while their
holder works: a holder that dies lets them expire within their short TTL."""

from __future__ import annotations

import logging
import os
import socket
import threading
from types import TracebackType

from embedding_studio.core.errors import EmbeddingStudioError
from embedding_studio.data_access.locks import LockRepository

logger = logging.getLogger(__name__)

LOCK_TTL_S = 60.0
CLAIM_TTL_S = 15.0


class LockLost(RuntimeError):
    """Another reindex took a lock this one held (it expired): stop and retry later."""


def source_lock(model_id: str) -> str:
    return f"reindex:source:{model_id}"


def dest_lock(model_id: str) -> str:
    return f"reindex:dest:{model_id}"


def subtask_claim(subtask_id: str) -> str:
    return f"reindex:subtask:{subtask_id}"


def lock_names(source_model_id: str, dest_model_id: str) -> list[str]:
    return [source_lock(source_model_id), dest_lock(dest_model_id)]


def claim_owner() -> str:
    """This thread of this process."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def try_acquire(locks: LockRepository, names: list[str], owner: str) -> str | None:
    """Take every lock for `owner`; on failure release those taken and return the holder
    of the busy one (its task id)."""
    taken: list[str] = []
    for name in names:
        if not locks.acquire(name, owner, LOCK_TTL_S):
            for held in taken:
                locks.release(held, owner)
            return locks.holder(name) or "another reindex"
        taken.append(name)
    return None


def keep_alive(locks: LockRepository, names: list[str], owner: str) -> None:
    """Extend `owner`'s locks; LockLost when one was taken over meanwhile."""
    for name in names:
        if not locks.acquire(name, owner, LOCK_TTL_S):
            raise LockLost(f"lock {name} was taken by {locks.holder(name)} while {owner} ran")


def release_all(locks: LockRepository, names: list[str], owner: str) -> None:
    for name in names:
        locks.release(name, owner)


class Heartbeat:
    """While the `with` block runs, a daemon thread re-takes `names` for `owner` every
    third of `ttl_s` (a holder busy in one long call keeps its locks)."""

    def __init__(self, locks: LockRepository, names: list[str], owner: str, ttl_s: float) -> None:
        self._locks, self._names, self._owner, self._ttl_s = locks, names, owner, ttl_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{owner}", daemon=True)

    def _beat(self) -> None:
        while not self._stop.wait(self._ttl_s / 3):
            for name in self._names:
                try:
                    if not self._locks.acquire(name, self._owner, self._ttl_s):
                        logger.warning("lock %s is held by %s now", name, self._locks.holder(name))
                except EmbeddingStudioError as exc:  # the store is down: try again next beat
                    logger.warning("could not extend lock %s: %s", name, exc)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=self._ttl_s)
