"""The batches clickstream sessions accumulate in.

Exactly one batch is open (`collecting`) at a time: the store enforces it with a unique
`open_key` that only the open batch holds. A session takes its number by atomically
incrementing the open batch's `session_counter`, so numbering and "the batch is still
open" are one operation: once a batch is released its counter is final, and its sessions
are numbered exactly 1..session_counter.
"""

from __future__ import annotations

import logging
from typing import Any

from embedding_studio.core.errors import (
    Conflict,
    DuplicateKey,
    InvalidRequest,
    StorageUnavailable,
)
from embedding_studio.data_access.documents import CollectionSpec, DocumentStore
from embedding_studio.models.clickstream.session_batches import SessionBatch, SessionBatchStatus
from embedding_studio.models.common import to_iso
from embedding_studio.models.tasks import new_id, utc_now

logger = logging.getLogger(__name__)

BATCHES = CollectionSpec(
    name="clickstream_batches", unique=("open_key", "release_id"), indexed=("status", "created_at")
)

OPEN_KEY = "open"
COLLECTING = SessionBatchStatus.collecting.value
CLOSED = [s.value for s in SessionBatchStatus if s is not SessionBatchStatus.collecting]
ATTEMPTS = 50


def to_batch(document: dict[str, Any]) -> SessionBatch:
    return SessionBatch.model_validate({**document, "batch_id": document["_id"]})


class SessionBatches:
    def __init__(self, store: DocumentStore) -> None:
        self._batches = store.collection(BATCHES)

    def get(self, batch_id: str) -> SessionBatch | None:
        document = self._batches.get(batch_id)
        return to_batch(document) if document else None

    def get_open(self) -> SessionBatch | None:
        document = self._batches.find_one({"status": COLLECTING})
        return to_batch(document) if document else None

    def by_release(self, release_id: str) -> SessionBatch | None:
        document = self._batches.find_one({"release_id": release_id})
        return to_batch(document) if document else None

    def ensure_open(self) -> None:
        """Create the open batch unless one exists (concurrent callers create one)."""
        if self._batches.find_one({"status": COLLECTING}) is not None:
            return
        batch_id = new_id()
        try:
            self._batches.insert(
                {
                    "_id": batch_id,
                    "status": COLLECTING,
                    "open_key": OPEN_KEY,
                    "session_counter": 0,
                    "created_at": to_iso(utc_now()),
                    "release_id": None,
                    "released_at": None,
                }
            )
            logger.info("clickstream batch %s is open", batch_id)
        except DuplicateKey:
            pass  # another caller opened it first

    def take_number(self) -> tuple[str, int]:
        """Number one more session into the open batch: (batch id, session number)."""
        for _ in range(ATTEMPTS):
            document = self._batches.increment({"status": COLLECTING}, "session_counter")
            if document is not None:
                return document["_id"], int(document["session_counter"])
            self.ensure_open()
        raise StorageUnavailable("could not number a session: the open batch kept changing")

    def release(self, release_id: str) -> SessionBatch | None:
        """Close the open batch under `release_id`; the batch this release id closed
        before, if any. None when the open batch has no session (nothing to release)."""
        for _ in range(ATTEMPTS):
            released = self.by_release(release_id)
            if released is not None:
                return released
            current = self._batches.find_one({"status": COLLECTING})
            if current is None or not current.get("session_counter"):
                return None
            now = to_iso(utc_now())
            try:
                document = self._batches.update(
                    current["_id"],
                    {
                        "status": SessionBatchStatus.released.value,
                        "open_key": f"released:{current['_id']}",
                        "release_id": release_id,
                        "released_at": now,
                    },
                    where={"status": COLLECTING},
                )
            except DuplicateKey:
                continue  # the same release id closed a batch meanwhile: found next pass
            if document is None:
                continue  # another release closed it first; look again
            logger.info(
                "clickstream batch %s released by %s with %d sessions",
                document["_id"],
                release_id,
                document["session_counter"],
            )
            self.ensure_open()
            return to_batch(document)
        raise StorageUnavailable(
            f"could not release a batch for {release_id!r}: too much contention"
        )

    def set_status(self, batch_id: str, status: SessionBatchStatus) -> SessionBatch | None:
        """Move a released batch on (fine_tuning, archiving, ...); None if unknown.
        A batch is never reopened, and the open batch only closes by a release."""
        if status is SessionBatchStatus.collecting:
            raise InvalidRequest("a batch cannot be reopened; sessions go to the open batch")
        document = self._batches.update(
            batch_id, {"status": status.value}, where={"status": CLOSED}
        )
        if document is None and self._batches.get(batch_id) is not None:
            raise Conflict(f"batch {batch_id!r} is open; release it before changing its status")
        return to_batch(document) if document else None
