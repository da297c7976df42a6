"""One improvement run at a time across every worker process and thread.

Runs are serialised so that a user's sessions are applied one after another, each
starting from the copies the previous one wrote (two runs at once could both start
from the same copy, and the later write would drop the other's adjustment). A waiting
run goes on once the lock is free and takes whatever is pending then, so no marked
session waits for the next periodic run. The lock expires after `ttl_s` if its holder
dies; a live holder refreshes it before every batch.
"""

from __future__ import annotations

import logging
import time

from embedding_studio.data_access.locks import LockRepository
from embedding_studio.models.tasks import new_id

logger = logging.getLogger(__name__)


class ExclusiveRun:
    def __init__(self, locks: LockRepository, name: str, ttl_s: float, poll_s: float = 0.1):
        self.locks = locks
        self.name = name
        self.ttl_s = ttl_s
        self.poll_s = poll_s
        self.owner = new_id()

    def acquire(self, wait_s: float) -> bool:
        """Take the lock, waiting up to `wait_s` seconds; whether it was taken."""
        deadline = time.monotonic() + wait_s
        if self.locks.acquire(self.name, self.owner, self.ttl_s):
            return True
        # Said once: a run waiting minutes on a holder that died is otherwise silent.
        logger.info(
            "waiting up to %g s for lock %r held by %r",
            wait_s,
            self.name,
            self.locks.holder(self.name),
        )
        while not self.locks.acquire(self.name, self.owner, self.ttl_s):
            if time.monotonic() >= deadline:
                return False
            time.sleep(self.poll_s)
        return True

    def refresh(self) -> bool:
        """Extend the lock; False if it expired and another run took it."""
        return self.locks.acquire(self.name, self.owner, self.ttl_s)

    def release(self) -> None:
        self.locks.release(self.name, self.owner)
