"""Clickstream sessions and events over the document store (both adapters).

Guarantees, each backed by an atomic operation of the store:
- the same session id registers one session; registering it again returns it (and adds
  results it did not have yet, for a front end that pages within one session);
- a session is numbered into the open batch exactly once: numbers in a batch run
  1, 2, 3, ... without gaps, even under concurrent registrations (see clickstream_batches);
- an event is stored once per (session id, event id); a batch of events is validated as a
  whole before anything is written, and is written in one bulk insert;
- events for an unregistered session are refused (`NotFound` names the session).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from embedding_studio.core.errors import NotFound
from embedding_studio.data_access.clickstream_batches import SessionBatches
from embedding_studio.data_access.clickstream_results_cache import SessionResultsCache
from embedding_studio.data_access.clickstream_sessions import SESSIONS, SessionRegistry
from embedding_studio.data_access.documents import (
    CollectionSpec,
    Document,
    DocumentStore,
    GreaterThan,
)
from embedding_studio.models.clickstream.session_batches import SessionBatch, SessionBatchStatus
from embedding_studio.models.clickstream.session_events import NOT_IN_RESULTS, SessionEvent
from embedding_studio.models.clickstream.sessions import (
    RegisteredSession,
    Session,
    SessionWithEvents,
)
from embedding_studio.models.clickstream.time_window import TimeWindow

logger = logging.getLogger(__name__)

EVENTS = CollectionSpec(name="clickstream_events", indexed=("session_id", "created_at"))

POLL_S = 0.01


@dataclass(frozen=True)
class PushResult:
    """What a push did: `stored` new events; the rest of `received` were already stored
    (repeated event ids); `flagged` events name objects not among their session's results.
    `acted_on` holds, per session, the shown objects the pushed events name (stored now or
    before), which is all a click counter needs to tell whether its count can change."""

    received: int
    stored: int
    flagged: int
    acted_on: dict[str, frozenset[str]] = field(default_factory=dict)

    @property
    def duplicates(self) -> int:
        return self.received - self.stored


@dataclass(frozen=True)
class SessionClicks:
    """A session without its events, and the shown objects its events name (what
    `SessionWithEvents.clicked_object_ids` holds, as a set)."""

    session: Session
    clicked: frozenset[str]


def event_key(session_id: str, event_id: str) -> str:
    """The stored id of an event: unambiguous whatever characters the ids hold."""
    return f"{len(session_id)}:{session_id}:{event_id}"


class ClickstreamDao:
    """Sessions, events and batches. Plugins reach it as `context.clickstream_dao`.

    :param time_window: timestamps accepted for sessions and events (no bound by default)
    :param stale_after_s: a session still unnumbered this long after its registration
        (the registering process died) is numbered by the next reader
    :param release_wait_s: how long a release waits for registrations already numbered
        into the batch to finish writing
    :param durable_events: answer a push only once its events are on disk (see
        `CollectionSpec.durable_inserts`)
    """

    def __init__(
        self,
        store: DocumentStore,
        time_window: TimeWindow | None = None,
        stale_after_s: float = 10.0,
        release_wait_s: float = 5.0,
        durable_events: bool = True,
    ) -> None:
        self._sessions = store.collection(SESSIONS)
        self._events = store.collection(replace(EVENTS, durable_inserts=durable_events))
        self._batches = SessionBatches(store)
        self._registry = SessionRegistry(self._sessions, self._batches, stale_after_s)
        self._window = time_window or TimeWindow()
        self._results = SessionResultsCache()
        self._release_wait_s = release_wait_s

    # --- sessions --------------------------------------------------------------------

    def register_session(self, session: Session) -> RegisteredSession:
        """Store the session and number it into the open batch; idempotent by session id.

        :raises InvalidRequest: created_at outside the time window, or an object listed twice
        :raises Conflict: the id is registered with another query or user
        """
        self._window.check(session.created_at, f"session {session.session_id!r}")
        return self._registered(self._registry.register(session))

    def get_session(self, session_id: str) -> SessionWithEvents | None:
        """The session with all its events (oldest first), or None if not registered."""
        document = self._sessions.get(session_id)
        if document is None:
            return None
        document = self._registry.numbered(document)
        events = self._events_of([session_id]).get(session_id, [])
        return SessionWithEvents.model_validate({**document, "events": events})

    def get_session_clicks(self, session_id: str) -> SessionClicks | None:
        """The session and the shown objects its events name, or None if not registered.

        Reads the distinct objects of its events rather than the events: a click counter
        asks after pushes, and a busy session's events grow with every push."""
        document = self._sessions.get(session_id)
        if document is None:
            return None
        session = Session.model_validate(document)
        named = self._events.distinct("object_id", {"session_id": session_id})
        return SessionClicks(session, frozenset(named).intersection(session.result_ids))

    def mark_session_irrelevant(self, session_id: str) -> RegisteredSession:
        """Mark the whole session irrelevant (idempotent).

        :raises NotFound: the session is not registered
        """
        return self._registered(self._registry.mark_irrelevant(session_id))

    # --- events ----------------------------------------------------------------------

    def push_events(self, events: Sequence[SessionEvent]) -> PushResult:
        """Store new events; an event id already stored for its session is ignored.

        Every event is checked before anything is written. An event whose object is not
        among its session's results is stored with `meta.not_in_results = true`.

        :raises NotFound: an event names an unregistered session (nothing is written)
        :raises InvalidRequest: a timestamp is outside the time window (nothing is written)
        """
        if not events:
            return PushResult(received=0, stored=0, flagged=0)
        for event in events:
            self._window.check(
                event.created_at, f"event {event.event_id!r} of session {event.session_id!r}"
            )
        shown = self._shown_objects({event.session_id for event in events})
        outside = {e.session_id for e in events if e.object_id not in shown[e.session_id]}
        if outside:  # cached lists may predate results a repeated registration added
            shown.update(self._read_shown_objects(outside))
        rows: dict[str, Document] = {}
        acted_on: dict[str, set[str]] = {}
        flagged = 0
        for event in events:
            key = event_key(event.session_id, event.event_id)
            if key in rows:
                continue  # repeated within the request: the first one counts
            row = event.model_dump(mode="json")
            row["_id"] = key
            if event.object_id not in shown[event.session_id]:
                row["meta"] = {**(row["meta"] or {}), NOT_IN_RESULTS: True}
                flagged += 1
            else:
                acted_on.setdefault(event.session_id, set()).add(event.object_id)
            rows[key] = row
        stored = self._events.insert_many_new(list(rows.values()))
        return PushResult(
            received=len(events),
            stored=stored,
            flagged=flagged,
            acted_on={session_id: frozenset(ids) for session_id, ids in acted_on.items()},
        )

    def _shown_objects(self, session_ids: Iterable[str]) -> dict[str, frozenset[str]]:
        """The objects each session showed; `NotFound` if any session is unregistered."""
        shown: dict[str, frozenset[str]] = {}
        unknown: set[str] = set()
        for session_id in session_ids:
            cached = self._results.get(session_id)
            if cached is None:
                unknown.add(session_id)
            else:
                shown[session_id] = cached
        if unknown:
            shown.update(self._read_shown_objects(unknown))
        return shown

    def _read_shown_objects(self, session_ids: set[str]) -> dict[str, frozenset[str]]:
        wanted = sorted(session_ids)
        if len(wanted) == 1:
            document = self._sessions.get(wanted[0])
            documents = [document] if document else []
        else:
            documents = self._sessions.find({"_id": wanted})
        found: dict[str, frozenset[str]] = {}
        for document in documents:
            objects = frozenset(item["object_id"] for item in document.get("search_results", []))
            self._results.put(document["_id"], objects)
            found[document["_id"]] = objects
        missing = [session_id for session_id in wanted if session_id not in found]
        if missing:
            listed = ", ".join(repr(s) for s in missing[:5])
            more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            raise NotFound(
                f"session {listed}{more} is not registered; register a session before "
                "pushing its events (nothing was stored)"
            )
        return found

    def _events_of(
        self, session_ids: Sequence[str], limit: int | None = None
    ) -> dict[str, list[Document]]:
        if not session_ids:
            return {}
        where: dict[str, Any] = {
            "session_id": list(session_ids) if len(session_ids) > 1 else session_ids[0]
        }
        grouped: dict[str, list[Document]] = {}
        for document in self._events.find(where, sort=[("created_at", 1)]):
            events = grouped.setdefault(document["session_id"], [])
            if limit is None or len(events) < limit:
                events.append(document)
        return grouped

    # --- batches ---------------------------------------------------------------------

    def get_batch(self, batch_id: str) -> SessionBatch | None:
        return self._batches.get(batch_id)

    def get_open_batch(self) -> SessionBatch | None:
        """The batch new sessions go to (None before the first session)."""
        return self._batches.get_open()

    def get_batch_sessions(
        self,
        batch_id: str,
        after_number: int | None = None,
        limit: int | None = None,
        events_limit: int | None = None,
    ) -> list[SessionWithEvents]:
        """A page of the batch's sessions with their events, by session number.

        :param after_number: skip sessions numbered up to and including this
        :param limit: at most this many sessions (all when None)
        :param events_limit: at most this many events per session, oldest first (all when None)
        """
        documents = self._sessions.find(
            {"batch_id": batch_id, "session_number": GreaterThan(after_number or 0)},
            sort=[("session_number", 1)],
            limit=limit,
        )
        events = self._events_of([d["_id"] for d in documents], events_limit)
        return [
            SessionWithEvents.model_validate({**d, "events": events.get(d["_id"], [])})
            for d in documents
        ]

    def count_batch_sessions(self, batch_id: str) -> int:
        return self._sessions.count({"batch_id": batch_id})

    def release_batch(self, release_id: str) -> SessionBatch | None:
        """Close the open batch; idempotent by `release_id` (a repeated call returns the
        batch that release closed). Returns once every session numbered into the batch
        is written. None when no session was registered since the last release."""
        batch = self._batches.release(release_id)
        if batch is not None:
            self._await_members(batch)
        return batch

    def update_batch_status(self, batch_id: str, status: SessionBatchStatus) -> SessionBatch | None:
        return self._batches.set_status(batch_id, status)

    def _await_members(self, batch: SessionBatch) -> None:
        deadline = time.monotonic() + self._release_wait_s
        while (written := self.count_batch_sessions(batch.batch_id)) < batch.session_counter:
            if time.monotonic() >= deadline:
                logger.warning(
                    "batch %s: %d of %d sessions written after %.1f s",
                    batch.batch_id,
                    written,
                    batch.session_counter,
                    self._release_wait_s,
                )
                return
            time.sleep(POLL_S)

    @staticmethod
    def _registered(document: Document) -> RegisteredSession:
        return RegisteredSession.model_validate(document)
