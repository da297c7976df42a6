"""The process's index of the phrase pool, kept in step with PostgreSQL.

The first query loads every live phrase and builds a snapshot. Each later query first
asks the store for rows newer than the last revision seen (one indexed query, usually
returning nothing) and folds them into the delta, so a query always sees every write
committed before it started, whichever process made it. When the delta grows past
`rebuild_after` phrases, a new snapshot is built in a background thread while queries
go on with the old snapshot and the growing delta; after a bulk write (a delta several
times larger) the query that sees it rebuilds first.
"""

from __future__ import annotations

import logging
import threading
import time

from embedding_studio.suggesting.feed import Change, PhraseFeed
from embedding_studio.suggesting.models import PhraseEntry
from embedding_studio.suggesting.snapshot import Snapshot
from embedding_studio.suggesting.view import IndexView

logger = logging.getLogger(__name__)

DEFAULT_REBUILD_AFTER = 2_000
"""Changed phrases held beside the snapshot before it is rebuilt."""

_SYNCHRONOUS_FACTOR = 5
"""A delta this many times `rebuild_after` (a bulk write) is folded in before the query
goes on: matching that many phrases one by one would be slower than rebuilding."""


def _merged(view: IndexView) -> list[PhraseEntry]:
    """Every live phrase of the view."""
    entries = [entry for entry in view.snapshot.entries() if entry.phrase_id not in view.delta]
    return entries + view.delta_entries


class LiveIndex:
    """A view of the pool that follows the store; safe to use from many threads."""

    def __init__(self, feed: PhraseFeed, rebuild_after: int = DEFAULT_REBUILD_AFTER) -> None:
        self._feed = feed
        self._rebuild_after = rebuild_after
        self._lock = threading.Lock()
        self._view: IndexView | None = None
        self._rebuilding: threading.Thread | None = None

    def view(self) -> IndexView:
        """The current view, with every write committed before this call."""
        with self._lock:
            if self._view is None:
                self._view = self._load()
            else:
                self._view = self._follow(self._view)
            return self._view

    def _load(self) -> IndexView:
        started = time.perf_counter()
        revision, entries = self._feed.load()
        view = IndexView(Snapshot.build(entries, revision), {}, revision)
        logger.info(
            "suggestion index: %d phrases at revision %d built in %.2f s",
            len(entries),
            revision,
            time.perf_counter() - started,
        )
        return view

    def _follow(self, view: IndexView) -> IndexView:
        changes = self._feed.changes_since(view.revision)
        if not changes:
            return view
        delta = dict(view.delta)
        delta.update(_as_delta(changes))
        current = IndexView(view.snapshot, delta, changes[-1].revision)
        if len(delta) > _SYNCHRONOUS_FACTOR * self._rebuild_after:  # a bulk write
            return IndexView(
                Snapshot.build(_merged(current), current.revision), {}, current.revision
            )
        if len(delta) > self._rebuild_after and self._rebuilding is None:
            self._rebuilding = threading.Thread(
                target=self._rebuild, args=(current,), name="suggestion-index", daemon=True
            )
            self._rebuilding.start()
        return current

    def _rebuild(self, base: IndexView) -> None:
        """Build a snapshot of `base` and swap it in, keeping the changes made since."""
        try:
            snapshot = Snapshot.build(_merged(base), base.revision)
        except Exception:  # a thread boundary: log it, queries go on with the delta
            logger.exception("suggestion index: rebuilding the snapshot failed")
            with self._lock:
                self._rebuilding = None
            return
        with self._lock:
            current = self._view if self._view is not None else base
            if current.snapshot is not base.snapshot:  # rebuilt meanwhile (a bulk write)
                self._rebuilding = None
                return
            newer = {
                phrase_id: entry
                for phrase_id, entry in current.delta.items()
                if base.delta.get(phrase_id, _MISSING) is not entry
            }
            self._view = IndexView(snapshot, newer, current.revision)
            self._rebuilding = None
        logger.info(
            "suggestion index: snapshot of %d phrases at revision %d", len(snapshot), base.revision
        )

    def wait_for_rebuild(self, timeout_s: float = 60.0) -> None:
        """Block until a background rebuild (if any) has finished (tests, benchmarks)."""
        thread = self._rebuilding
        if thread is not None:
            thread.join(timeout_s)


_MISSING = object()


def _as_delta(changes: list[Change]) -> dict[str, PhraseEntry | None]:
    return {change.phrase_id: change.entry for change in changes}
