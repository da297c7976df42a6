"""Registering clickstream sessions: idempotent by session id, numbered exactly once.

A registration inserts the session unnumbered, then takes the next number of the open
batch (an atomic increment, see clickstream_batches) and records it with a
compare-and-set on "still unnumbered". A concurrent registration of the same id finds the
stored session and waits for its number; if the registering process died in between,
the first reader numbers it. Numbers in a batch therefore run 1, 2, 3, ... without gaps,
except when a process dies between taking a number and recording it (a window of a few
milliseconds): that number stays unused.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

from embedding_studio.core.errors import Conflict, DuplicateKey, InvalidRequest, NotFound
from embedding_studio.data_access.clickstream_batches import SessionBatches
from embedding_studio.data_access.documents import CollectionSpec, Document, DocumentCollection
from embedding_studio.models.clickstream.sessions import Session
from embedding_studio.models.common import to_iso
from embedding_studio.models.tasks import utc_now

logger = logging.getLogger(__name__)

SESSIONS = CollectionSpec(
    name="clickstream_sessions",
    indexed=("batch_id", "session_number", "user_id", "created_at"),
)

POLL_S = 0.01
MERGE_ATTEMPTS = 20


def from_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _session_document(session: Session) -> Document:
    document = session.model_dump(mode="json")
    document.update(
        _id=session.session_id,
        batch_id=None,
        session_number=None,
        results_count=len(session.search_results),
        registered_at=to_iso(utc_now()),
    )
    return document


def _check_results(session: Session) -> None:
    seen: set[str] = set()
    for item in session.search_results:
        if item.object_id in seen:
            raise InvalidRequest(
                f"session {session.session_id!r}: object {item.object_id!r} appears twice "
                "in search_results; list each shown object once"
            )
        seen.add(item.object_id)


class SessionRegistry:
    def __init__(
        self, sessions: DocumentCollection, batches: SessionBatches, stale_after_s: float
    ) -> None:
        self.documents = sessions
        self._batches = batches
        self._stale_after_s = stale_after_s

    def register(self, session: Session) -> Document:
        """The stored, numbered session (registered now, or before with the same id)."""
        _check_results(session)
        existing = self.documents.get(session.session_id)
        if existing is None:
            try:
                self.documents.insert(_session_document(session))
            except DuplicateKey:
                existing = self.documents.get(session.session_id)
            else:
                return self._number(session.session_id)
        if existing is None:
            raise Conflict(f"session {session.session_id!r} was deleted while registering")
        return self.numbered(self._reconcile(existing, session))

    def mark_irrelevant(self, session_id: str) -> Document:
        document = self.documents.update(session_id, {"is_irrelevant": True})
        if document is None:
            raise NotFound(f"session {session_id!r} is not registered")
        return self.numbered(document)

    def _number(self, session_id: str) -> Document:
        batch_id, number = self._batches.take_number()
        document = self.documents.update(
            session_id,
            {"batch_id": batch_id, "session_number": number},
            where={"session_number": None},
        )
        if document is None:
            # Only when a reader numbered an apparently abandoned session concurrently.
            logger.warning("session %s: number %d of batch %s unused", session_id, number, batch_id)
            document = self.documents.get(session_id)
            if document is None:
                raise NotFound(f"session {session_id!r} was deleted while registering")
        return document

    def numbered(self, document: Document) -> Document:
        """The session once numbered. A concurrent registration numbers it within
        milliseconds; a session still unnumbered `stale_after_s` after its registration
        (the registering process died) is numbered here."""
        while document.get("session_number") is None:
            registered_at = document.get("registered_at")
            age = (utc_now() - from_iso(registered_at)).total_seconds() if registered_at else None
            if age is None or age >= self._stale_after_s:
                logger.warning("session %s was never numbered; numbering it", document["_id"])
                return self._number(document["_id"])
            time.sleep(POLL_S)
            document = self.documents.get(document["_id"]) or document
        return document

    def _reconcile(self, existing: Document, session: Session) -> Document:
        """Check a repeated registration matches the stored one; add new results."""
        incoming = session.model_dump(mode="json")
        if (
            existing.get("search_query") != incoming["search_query"]
            or existing.get("user_id") != session.user_id
        ):
            raise Conflict(
                f"session {session.session_id!r} is already registered with another query "
                "or user; use a new session id for a new search"
            )
        for _ in range(MERGE_ATTEMPTS):
            known = {item["object_id"] for item in existing.get("search_results", [])}
            added = [item for item in incoming["search_results"] if item["object_id"] not in known]
            if not added:
                return existing
            results = existing.get("search_results", []) + added
            updated = self.documents.update(
                session.session_id,
                {"search_results": results, "results_count": len(results)},
                where={"results_count": existing.get("results_count", 0)},
            )
            if updated is not None:
                return updated
            existing = self.documents.get(session.session_id) or existing
        raise Conflict(f"session {session.session_id!r} is being updated concurrently; retry")
