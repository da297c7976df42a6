"""The document store as a set of named collections of JSON documents.

Both adapters (MongoDB, PostgreSQL JSONB) implement `DocumentStore`. The repositories
(tasks, locks, clickstream, sessions for improvement) are written once against this
interface, so the guarantees they need (unique keys, compare-and-set updates, atomic
claims, gap-free counters) are each implemented by the store itself, once per adapter.

Documents are plain dicts whose values are JSON types; datetimes are stored as ISO-8601
strings in UTC so they sort the same way in both stores. Every document has a string `_id`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

Document = dict[str, Any]
SortSpec = Sequence[tuple[str, Literal[1, -1]]]


@dataclass(frozen=True)
class GreaterThan:
    """A filter value meaning "strictly greater than": `{"session_number": GreaterThan(10)}`.

    Compare like with like: numbers with numbers, ISO timestamps (strings) with strings.
    A document without the field does not match."""

    value: int | float | str


@dataclass(frozen=True)
class CollectionSpec:
    """A collection's name and the fields whose values must be unique.

    `unique` lists single fields; a document without the field (or with null) is not
    constrained. `indexed` lists fields that are filtered or sorted on often.
    `durable_inserts=False` lets `insert_many_new` return before its documents reach the
    disk (PostgreSQL: `synchronous_commit` off for that write; a crash of the database
    server can lose the last fraction of a second of them, never corrupt them). MongoDB
    writes with the client's write concern either way.
    """

    name: str
    unique: tuple[str, ...] = ()
    indexed: tuple[str, ...] = ()
    durable_inserts: bool = True


class DocumentCollection(Protocol):
    """Atomic operations on one collection. Filters are equality matches on top-level or
    dotted fields (`{"status": "pending", "meta.user_id": "u1"}`); a list value means
    "any of" (`{"status": ["pending", "processing"]}`); a `GreaterThan` value is a strict
    lower bound."""

    def insert(self, document: Document) -> None:
        """Store a new document; raise `DuplicateKey` if its `_id` or a unique field is taken."""

    def insert_many_new(self, documents: Sequence[Document]) -> int:
        """Store the documents whose `_id`/unique keys are free; return how many were stored."""

    def get(self, document_id: str) -> Document | None: ...

    def find_one(self, where: Mapping[str, Any]) -> Document | None: ...

    def find(
        self,
        where: Mapping[str, Any] | None = None,
        sort: SortSpec = (),
        skip: int = 0,
        limit: int | None = None,
    ) -> list[Document]: ...

    def count(self, where: Mapping[str, Any] | None = None) -> int: ...

    def distinct(self, field: str, where: Mapping[str, Any] | None = None) -> list[Any]:
        """The distinct values of `field` among the documents matching `where`, in no
        particular order; documents without the field add nothing."""

    def update(
        self, document_id: str, changes: Mapping[str, Any], where: Mapping[str, Any] | None = None
    ) -> Document | None:
        """Set `changes` on the document if it also matches `where`; return it updated,
        or None when it does not exist or does not match (compare-and-set)."""

    def claim(
        self, where: Mapping[str, Any], changes: Mapping[str, Any], sort: SortSpec = ()
    ) -> Document | None:
        """Atomically pick the first document matching `where` (in `sort` order), set
        `changes` on it and return it updated; None when nothing matches. Two concurrent
        callers never get the same document."""

    def increment(self, where: Mapping[str, Any], field: str, amount: int = 1) -> Document | None:
        """Atomically add `amount` to the integer `field` (a missing field counts as 0) of
        one document matching `where`, and return it updated; None when nothing matches.
        Concurrent increments are never lost: N calls that match add exactly N * amount."""

    def update_many(self, where: Mapping[str, Any], changes: Mapping[str, Any]) -> int: ...

    def delete(self, document_id: str) -> bool: ...

    def delete_many(self, where: Mapping[str, Any]) -> int: ...


class DocumentStore(Protocol):
    def collection(self, spec: CollectionSpec) -> DocumentCollection:
        """The collection, created with its indexes on first use."""

    def next_value(self, counter: str) -> int:
        """Atomically increment a named counter and return the new value (1, 2, 3, ...)."""

    def ping(self) -> None:
        """Raise `StorageUnavailable` when the store cannot be reached."""

    def close(self) -> None: ...


def matches(document: Mapping[str, Any], where: Mapping[str, Any]) -> bool:
    """Python reference of the filter semantics (used by tests and small in-memory checks)."""
    for path, expected in where.items():
        value: Any = document
        for part in path.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if isinstance(expected, GreaterThan):
            if value is None or not value > expected.value:
                return False
        elif isinstance(expected, list | tuple | set):
            if value not in expected:
                return False
        elif value != expected:
            return False
    return True
