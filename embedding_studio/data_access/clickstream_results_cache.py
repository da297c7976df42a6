"""A per-process, bounded cache of a set of object ids per session: which objects each
session showed (the clickstream repository), which clicked objects a count was recorded
for (suggestions learning).

Sessions are never deleted and their result lists only grow (a repeated registration
appends), so a cached set can only be missing objects, never hold wrong ones: a reader
that finds an object missing re-reads the session before concluding anything.
"""

from __future__ import annotations

import threading
from collections import OrderedDict


class SessionResultsCache:
    def __init__(self, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._items: OrderedDict[str, frozenset[str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, session_id: str) -> frozenset[str] | None:
        with self._lock:
            found = self._items.get(session_id)
            if found is not None:
                self._items.move_to_end(session_id)
            return found

    def discard(self, session_id: str) -> None:
        with self._lock:
            self._items.pop(session_id, None)

    def put(self, session_id: str, object_ids: frozenset[str]) -> None:
        with self._lock:
            self._items[session_id] = object_ids
            self._items.move_to_end(session_id)
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)
