"""The document store on MongoDB (pymongo; tests also run it on mongomock)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import BulkWriteError, DuplicateKeyError, PyMongoError

from embedding_studio.core.errors import DuplicateKey, StorageUnavailable
from embedding_studio.data_access.documents import (
    CollectionSpec,
    Document,
    GreaterThan,
    SortSpec,
)


def _query(where: Mapping[str, Any] | None) -> dict[str, Any]:
    query: dict[str, Any] = {}
    for path, expected in (where or {}).items():
        if isinstance(expected, GreaterThan):
            query[path] = {"$gt": expected.value}
        elif isinstance(expected, list | tuple | set):
            query[path] = {"$in": list(expected)}
        else:
            query[path] = expected
    return query


def _sort(sort: SortSpec) -> list[tuple[str, int]]:
    return [(path, direction) for path, direction in sort] + [("_id", ASCENDING)]


class MongoDocumentCollection:
    def __init__(self, collection: Collection, spec: CollectionSpec) -> None:
        self._collection = collection
        self._spec = spec

    def _prepared(self, document: Document) -> Document:
        # Sparse unique indexes skip documents without the field, so a None key is dropped
        # instead of being stored as a value that two documents would share.
        return {k: v for k, v in document.items() if not (k in self._spec.unique and v is None)}

    def insert(self, document: Document) -> None:
        try:
            self._collection.insert_one(self._prepared(document))
        except DuplicateKeyError as exc:
            raise DuplicateKey(
                f"{self._spec.name}: {document['_id']} or a unique key is taken"
            ) from exc
        except PyMongoError as exc:
            raise StorageUnavailable(f"MongoDB rejected a write to {self._spec.name}") from exc

    def insert_many_new(self, documents: Sequence[Document]) -> int:
        if not documents:
            return 0
        try:
            result = self._collection.insert_many(
                [self._prepared(d) for d in documents], ordered=False
            )
            return len(result.inserted_ids)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(e.get("code") != 11000 for e in errors):
                raise StorageUnavailable(f"MongoDB rejected a write to {self._spec.name}") from exc
            return int(exc.details.get("nInserted", len(documents) - len(errors)))
        except PyMongoError as exc:
            raise StorageUnavailable(f"MongoDB rejected a write to {self._spec.name}") from exc

    def get(self, document_id: str) -> Document | None:
        return self._collection.find_one({"_id": document_id})

    def find_one(self, where: Mapping[str, Any]) -> Document | None:
        found = self.find(where, limit=1)
        return found[0] if found else None

    def find(
        self,
        where: Mapping[str, Any] | None = None,
        sort: SortSpec = (),
        skip: int = 0,
        limit: int | None = None,
    ) -> list[Document]:
        try:
            cursor = self._collection.find(_query(where)).sort(_sort(sort))
            if skip:
                cursor = cursor.skip(skip)
            if limit is not None:
                cursor = cursor.limit(limit)
            return list(cursor)
        except PyMongoError as exc:
            raise StorageUnavailable(f"MongoDB failed to read {self._spec.name}") from exc

    def count(self, where: Mapping[str, Any] | None = None) -> int:
        return self._collection.count_documents(_query(where))

    def distinct(self, field: str, where: Mapping[str, Any] | None = None) -> list[Any]:
        try:
            return list(self._collection.distinct(field, _query(where)))
        except PyMongoError as exc:
            raise StorageUnavailable(f"MongoDB failed to read {self._spec.name}") from exc

    def update(
        self, document_id: str, changes: Mapping[str, Any], where: Mapping[str, Any] | None = None
    ) -> Document | None:
        query = {**_query(where), "_id": document_id}
        return self._find_and_set(query, changes, sort=None)

    def claim(
        self, where: Mapping[str, Any], changes: Mapping[str, Any], sort: SortSpec = ()
    ) -> Document | None:
        return self._find_and_set(_query(where), changes, sort=_sort(sort))

    def _find_and_set(
        self, query: dict[str, Any], changes: Mapping[str, Any], sort: list[tuple[str, int]] | None
    ) -> Document | None:
        try:
            return self._collection.find_one_and_update(
                query, {"$set": dict(changes)}, sort=sort, return_document=ReturnDocument.AFTER
            )
        except DuplicateKeyError as exc:
            raise DuplicateKey(
                f"{self._spec.name}: a unique key in {list(changes)} is taken"
            ) from exc
        except PyMongoError as exc:
            raise StorageUnavailable(f"MongoDB rejected a write to {self._spec.name}") from exc

    def increment(self, where: Mapping[str, Any], field: str, amount: int = 1) -> Document | None:
        try:
            return self._collection.find_one_and_update(
                _query(where),
                {"$inc": {field: amount}},
                sort=_sort(()),
                return_document=ReturnDocument.AFTER,
            )
        except PyMongoError as exc:
            raise StorageUnavailable(f"MongoDB rejected a write to {self._spec.name}") from exc

    def update_many(self, where: Mapping[str, Any], changes: Mapping[str, Any]) -> int:
        return self._collection.update_many(_query(where), {"$set": dict(changes)}).modified_count

    def delete(self, document_id: str) -> bool:
        return self._collection.delete_one({"_id": document_id}).deleted_count > 0

    def delete_many(self, where: Mapping[str, Any]) -> int:
        return self._collection.delete_many(_query(where)).deleted_count


class MongoDocumentStore:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._collections: dict[str, MongoDocumentCollection] = {}

    def collection(self, spec: CollectionSpec) -> MongoDocumentCollection:
        if spec.name not in self._collections:
            collection = self._database[spec.name]
            for field in spec.unique:
                collection.create_index([(field, ASCENDING)], unique=True, sparse=True)
            for field in spec.indexed:
                collection.create_index([(field, ASCENDING)])
            self._collections[spec.name] = MongoDocumentCollection(collection, spec)
        return self._collections[spec.name]

    def next_value(self, counter: str) -> int:
        document = self._database["counters"].find_one_and_update(
            {"_id": counter},
            {"$inc": {"value": 1}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        if document is None:  # upsert=True with AFTER always returns the document
            raise StorageUnavailable(f"MongoDB did not return counter {counter}")
        return int(document["value"])

    def ping(self) -> None:
        try:
            self._database.client.admin.command("ping")
        except PyMongoError as exc:
            raise StorageUnavailable(f"MongoDB is unreachable: {exc}") from exc

    def close(self) -> None:
        self._database.client.close()
