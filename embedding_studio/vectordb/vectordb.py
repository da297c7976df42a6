"""The vector database: collections of one (prefix, kind), their registry and blue pointer.

`context.vectordb` is `VectorDb(engine, prefix="es", kind="main")`; the categories plugin's
collections live in their own `VectorDb(engine, prefix=..., kind="categories")`. The schema
migrations run on first use (`run_migrations`, safe from concurrent processes).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine

from embedding_studio.core.errors import Conflict, InvalidRequest, NotFound
from embedding_studio.data_access.postgres.engine import autocommit_connection
from embedding_studio.models.embeddings.models import SearchIndexInfo
from embedding_studio.vectordb import registry, schema
from embedding_studio.vectordb.collection import Collection
from embedding_studio.vectordb.collection_info import CollectionInfo, CollectionState
from embedding_studio.vectordb.db_errors import translated_errors
from embedding_studio.vectordb.identifiers import checked_kind, checked_model_id, checked_prefix
from embedding_studio.vectordb.migration_runner import run_migrations
from embedding_studio.vectordb.similarity import install_session_defaults

logger = logging.getLogger(__name__)


def _same_schema(stored: SearchIndexInfo, wanted: SearchIndexInfo) -> bool:
    return (
        stored.dimensions == wanted.dimensions
        and stored.metric_type == wanted.metric_type
        and stored.metric_aggregation_type == wanted.metric_aggregation_type
    )


class VectorDb:
    """Collections (one per embedding model id) of one (prefix, kind).

    :param engine: SQLAlchemy engine on PostgreSQL with pgvector
    :param prefix: prefix of the collections' table names (^[a-z][a-z0-9_]{0,15}$)
    :param kind: which family of collections ("main", "categories"); one blue per kind
    """

    def __init__(self, engine: Engine, prefix: str = "es", kind: str = "main") -> None:
        self._engine = engine
        install_session_defaults(engine)
        self.prefix = checked_prefix(prefix)
        self.kind = checked_kind(kind)
        self._migrated = False
        self._migration_lock = threading.Lock()

    def _ensure_schema(self) -> None:
        if self._migrated:
            return
        with self._migration_lock:
            if not self._migrated:
                run_migrations(self._engine)
                self._migrated = True

    @contextmanager
    def _transaction(self, doing: str) -> Iterator[Connection]:
        self._ensure_schema()
        with translated_errors(doing), self._engine.begin() as connection:
            yield connection

    @contextmanager
    def _single_read(self, doing: str) -> Iterator[Connection]:
        """For ONE read statement, without a transaction: every search starts with it."""
        self._ensure_schema()
        with translated_errors(doing), autocommit_connection(self._engine) as connection:
            yield connection

    def _find(
        self, connection: Connection, embedding_model_id: str, lock: bool = False
    ) -> CollectionInfo:
        found = registry.find(
            connection,
            self.prefix,
            self.kind,
            checked_model_id(embedding_model_id),
            for_update=lock,
        )
        if not found:
            raise NotFound(
                f"no {self.kind} collection for embedding model {embedding_model_id!r}: "
                "create it first (bootstrap, or a deployment/reindex task does)"
            )
        return found[0]

    def list_collections(self) -> list[CollectionInfo]:
        """Every collection of this (prefix, kind), oldest first."""
        with self._transaction("listing collections") as connection:
            return registry.find(connection, self.prefix, self.kind)

    def get_or_create_collection(
        self,
        embedding_model_id: str,
        plugin_name: str,
        search_index_info: SearchIndexInfo,
        build_index: bool = True,
    ) -> Collection:
        """The model's collection, created (tables + indexes, one transaction) if missing.

        With `build_index=False` a new collection starts in BULK_LOADING state without its
        HNSW index; call `finish_bulk_load()` after loading. Conflict when the model already
        has a collection with other dimensions, metric or aggregation.
        """
        checked_model_id(embedding_model_id)
        if search_index_info.dimensions > schema.MAX_HNSW_DIMENSIONS:
            raise InvalidRequest(
                f"dimensions {search_index_info.dimensions}: pgvector's HNSW index takes at "
                f"most {schema.MAX_HNSW_DIMENSIONS}"
            )
        with self._transaction("creating a collection") as connection:
            info = self._get_or_insert(
                connection, embedding_model_id, plugin_name, search_index_info, build_index
            )
        if not _same_schema(info.search_index_info, search_index_info):
            raise Conflict(
                f"collection {embedding_model_id!r} exists with {info.search_index_info!r}, "
                f"not {search_index_info!r}: use a new embedding model id or delete it first"
            )
        return Collection(self._engine, info)

    def _get_or_insert(
        self,
        connection: Connection,
        embedding_model_id: str,
        plugin_name: str,
        search_index_info: SearchIndexInfo,
        build_index: bool,
    ) -> CollectionInfo:
        found = registry.find(connection, self.prefix, self.kind, embedding_model_id)
        if found:
            return found[0]
        state = CollectionState.READY if build_index else CollectionState.BULK_LOADING
        number = registry.insert_collection(
            connection,
            self.prefix,
            self.kind,
            embedding_model_id,
            plugin_name,
            search_index_info,
            state,
        )
        if number is not None:
            tables = schema.collection_tables(self.prefix, number, search_index_info)
            schema.create(connection, tables, build_index)
            logger.info(
                "created %s collection %s (%s)", self.kind, embedding_model_id, tables.objects.name
            )
        return registry.find(connection, self.prefix, self.kind, embedding_model_id)[0]

    def get_collection(self, embedding_model_id: str) -> Collection:
        """The model's collection; NotFound if it has none."""
        with self._transaction("reading the collection registry") as connection:
            return Collection(self._engine, self._find(connection, embedding_model_id))

    def get_blue_collection(self) -> Collection:
        """The collection searches use, read from the registry on every call; Conflict when
        none is blue yet."""
        with self._single_read("reading the blue collection") as connection:
            found = registry.find(connection, self.prefix, self.kind, blue_only=True)
        if not found:
            raise Conflict(
                f"no blue {self.kind} collection yet: start the platform so the bootstrap "
                "creates the default plugin's collection and makes it blue, or switch to a "
                "collection with set_blue(embedding_model_id)"
            )
        return Collection(self._engine, found[0])

    def set_blue(self, embedding_model_id: str) -> None:
        """Atomically make this model's collection the blue one (the previous blue turns
        green). Conflict while it is still bulk loading."""
        with self._transaction("switching the blue collection") as connection:
            registry.find(connection, self.prefix, self.kind, for_update=True)  # serialise switches
            info = self._find(connection, embedding_model_id)
            if info.state is not CollectionState.READY:
                raise Conflict(
                    f"collection {embedding_model_id!r} is {info.state.value}: finish the bulk "
                    "load (finish_bulk_load) before making it blue"
                )
            registry.switch_blue(connection, self.prefix, self.kind, info.number)
        logger.info("%s collection %s is now blue", self.kind, embedding_model_id)

    def delete_collection(self, embedding_model_id: str) -> None:
        """Drop the model's collection and its tables; Conflict if it is blue."""
        with self._transaction("deleting a collection") as connection:
            info = self._find(connection, embedding_model_id, lock=True)
            if info.is_blue:
                raise Conflict(
                    f"collection {embedding_model_id!r} is blue: make another collection blue "
                    "before deleting this one"
                )
            schema.drop(
                connection,
                schema.collection_tables(self.prefix, info.number, info.search_index_info),
            )
            registry.delete_collection(connection, info.number)
        logger.info("deleted %s collection %s", self.kind, embedding_model_id)
