"""Sync links between two collections: while a link exists, every upsertion or deletion
written to one of them is also applied to the other (embedded with its own model).

A reindex opens the link of (source, destination) before it copies anything and keeps it
after it ends, until its retention passes: upsertions submitted before a blue switch still
reach the new blue, and the previous blue stays complete for a rollback. A link is
mirrored one step only (no chains): a write to A reaches B when (A, B) is linked, not C
when (B, C) is linked too. Links live in the document store, so every process sees them.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from embedding_studio.core.errors import DuplicateKey
from embedding_studio.data_access.documents import CollectionSpec, Document, DocumentStore
from embedding_studio.models.common import UtcDatetime, to_iso
from embedding_studio.models.tasks import new_id, utc_now

REINDEX_LINKS = CollectionSpec(name="reindex_links")


class ReindexLink(BaseModel):
    """A pair of collections kept in sync, named by their embedding model ids.

    :param generation: new at every `open`: a copy that finds another generation at its
        end knows the link was closed meanwhile (writes may have missed the destination)
    :param copying: True while a reindex copies `source` into `dest`
    :param expires_at: after this time the next reindex to finish removes the link
        (None while copying)
    :param retire: the model whose collection is deleted when the link is removed (the
        blue replaced by a switch), unless it is blue again by then
    """

    source: str
    dest: str
    task_id: str
    generation: str = Field(default_factory=new_id)
    copying: bool
    expires_at: UtcDatetime | None = None
    retire: str | None = None
    updated_at: UtcDatetime

    @property
    def link_id(self) -> str:
        return pair_id(self.source, self.dest)

    def other(self, model_id: str) -> str | None:
        """The other end of the link when `model_id` is one end, else None."""
        if model_id == self.source:
            return self.dest
        if model_id == self.dest:
            return self.source
        return None

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


def pair_id(first: str, second: str) -> str:
    """One id per unordered pair: a later reindex back (B to A) reuses A and B's link."""
    return "|".join(sorted((first, second)))


def _from_document(document: Document) -> ReindexLink:
    return ReindexLink.model_validate(document)


class ReindexLinkRepository:
    def __init__(self, store: DocumentStore) -> None:
        self._links = store.collection(REINDEX_LINKS)

    def open(self, source: str, dest: str, task_id: str) -> ReindexLink:
        """Link the pair for a reindex of `source` into `dest` (re-opening it if linked),
        with a new generation."""
        link = ReindexLink(
            source=source, dest=dest, task_id=task_id, copying=True, updated_at=utc_now()
        )
        document = {"_id": link.link_id, **link.model_dump(mode="json")}
        try:
            self._links.insert(document)
        except DuplicateKey:
            self._links.update(link.link_id, link.model_dump(mode="json"))
        return link

    def close(
        self, source: str, dest: str, expires_at: datetime, retire: str | None
    ) -> ReindexLink | None:
        """The copy is over: keep syncing until `expires_at`, then retire `retire`."""
        changes = {
            "copying": False,
            "expires_at": to_iso(expires_at),
            "retire": retire,
            "updated_at": to_iso(utc_now()),
        }
        document = self._links.update(pair_id(source, dest), changes)
        return _from_document(document) if document else None

    def get(self, first: str, second: str) -> ReindexLink | None:
        document = self._links.get(pair_id(first, second))
        return _from_document(document) if document else None

    def remove(self, first: str, second: str) -> bool:
        return self._links.delete(pair_id(first, second))

    def all(self) -> list[ReindexLink]:
        return [_from_document(d) for d in self._links.find(sort=[("updated_at", 1)])]

    def linked_to(self, model_id: str) -> list[str]:
        """The models whose collections mirror `model_id`'s writes."""
        return [other for link in self.all() if (other := link.other(model_id)) is not None]
