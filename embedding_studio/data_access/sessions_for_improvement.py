"""The queue of sessions to use for improvement, over the document store.

At most one record per session is pending at a time (a unique `pending_key` that only a
pending record holds), so marking a session twice before the worker runs queues it once;
marking it again after the worker took it queues it again (it may have new events).
Workers take records with an atomic claim, so two workers never process the same one.
"""

from __future__ import annotations

import builtins
from typing import Any

from embedding_studio.core.errors import DuplicateKey, InvalidRequest
from embedding_studio.data_access.documents import CollectionSpec, Document, DocumentStore
from embedding_studio.models.common import to_iso
from embedding_studio.models.improvement import (
    SessionForImprovement,
    SessionForImprovementCreateSchema,
)
from embedding_studio.models.tasks import TaskStatus, new_id, utc_now

SESSIONS_FOR_IMPROVEMENT = CollectionSpec(
    name="sessions_for_improvement",
    unique=("pending_key",),
    indexed=("status", "session_id", "created_at"),
)

PENDING = TaskStatus.pending.value
PROCESSING = TaskStatus.processing.value
ATTEMPTS = 10


def _to_model(document: Document) -> SessionForImprovement:
    return SessionForImprovement.model_validate({**document, "id": document["_id"]})


class SessionsForImprovementRepository:
    """`context.sessions_for_improvement`."""

    def __init__(self, store: DocumentStore) -> None:
        self._records = store.collection(SESSIONS_FOR_IMPROVEMENT)

    def create(self, schema: SessionForImprovementCreateSchema) -> SessionForImprovement:
        """Queue the session; returns the pending record when it is already queued.
        (The caller checks that the session exists.)"""
        for _ in range(ATTEMPTS):
            record = SessionForImprovement(session_id=schema.session_id)
            document = record.model_dump(mode="json", exclude={"id"})
            document.update(_id=record.id, pending_key=schema.session_id)
            try:
                self._records.insert(document)
                return record
            except DuplicateKey:
                pending = self._records.find_one({"pending_key": schema.session_id})
                if pending is not None:
                    return _to_model(pending)
                # claimed between our insert and our read: queue it again
        raise InvalidRequest(f"session {schema.session_id!r} could not be queued; retry")

    def get(self, record_id: str) -> SessionForImprovement | None:
        document = self._records.get(record_id)
        return _to_model(document) if document else None

    def list(
        self,
        status: TaskStatus | None = None,
        session_id: str | None = None,
        skip: int = 0,
        limit: int = 100,
    ) -> builtins.list[SessionForImprovement]:
        """Records, oldest first."""
        documents = self._records.find(
            self._where(status, session_id), sort=[("created_at", 1)], skip=skip, limit=limit
        )
        return [_to_model(d) for d in documents]

    def count(self, status: TaskStatus | None = None, session_id: str | None = None) -> int:
        return self._records.count(self._where(status, session_id))

    def claim_pending(self, limit: int) -> builtins.list[SessionForImprovement]:
        """Atomically move up to `limit` pending records (oldest first) to processing and
        return them; concurrent callers never get the same record."""
        claimed: builtins.list[SessionForImprovement] = []
        while len(claimed) < limit:
            now = to_iso(utc_now())
            document = self._records.claim(
                {"status": PENDING},
                {
                    "status": PROCESSING,
                    "pending_key": f"claimed:{new_id()}",
                    "started_at": now,
                    "updated_at": now,
                },
                sort=[("created_at", 1)],
            )
            if document is None:
                break
            claimed.append(_to_model(document))
        return claimed

    def finish(
        self, record_id: str, status: TaskStatus, detail: str | None = None
    ) -> SessionForImprovement | None:
        """Record the outcome of a processing record; None if it is not processing."""
        if not status.is_final:
            raise InvalidRequest(f"finish a record with a final status, not {status.value!r}")
        document = self._records.update(
            record_id,
            {"status": status.value, "detail": detail, "updated_at": to_iso(utc_now())},
            where={"status": PROCESSING},
        )
        return _to_model(document) if document else None

    @staticmethod
    def _where(status: TaskStatus | None, session_id: str | None) -> dict[str, Any]:
        where: dict[str, Any] = {}
        if status is not None:
            where["status"] = status.value
        if session_id is not None:
            where["session_id"] = session_id
        return where
