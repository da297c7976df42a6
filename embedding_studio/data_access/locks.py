"""Named locks with an owner and an expiry, kept in the document store so every
process (API and workers, on any host) sees the same lock."""

from __future__ import annotations

from datetime import timedelta

from embedding_studio.core.errors import DuplicateKey
from embedding_studio.data_access.documents import CollectionSpec, DocumentStore
from embedding_studio.models.common import to_iso
from embedding_studio.models.tasks import utc_now

LOCKS = CollectionSpec(name="locks")


def _iso(offset_s: float = 0.0) -> str:
    return to_iso(utc_now() + timedelta(seconds=offset_s))


class LockRepository:
    def __init__(self, store: DocumentStore) -> None:
        self._locks = store.collection(LOCKS)

    def acquire(self, name: str, owner: str, ttl_s: float) -> bool:
        """Take the lock for `owner`, or re-take it if `owner` holds it or it expired."""
        document = {"_id": name, "owner": owner, "expires_at": _iso(ttl_s)}
        try:
            self._locks.insert(document)
            return True
        except DuplicateKey:
            pass
        current = self._locks.get(name)
        if current is None:
            return self.acquire(name, owner, ttl_s)
        if current["owner"] != owner and current["expires_at"] > _iso():
            return False
        taken = self._locks.update(
            name,
            {"owner": owner, "expires_at": _iso(ttl_s)},
            where={"owner": current["owner"], "expires_at": current["expires_at"]},
        )
        return taken is not None

    def holder(self, name: str) -> str | None:
        current = self._locks.get(name)
        if current is None or current["expires_at"] <= _iso():
            return None
        return str(current["owner"])

    def release(self, name: str, owner: str) -> bool:
        current = self._locks.get(name)
        if current is None or current["owner"] != owner:
            return False
        return self._locks.delete(name)
