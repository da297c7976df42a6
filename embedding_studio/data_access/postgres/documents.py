"""The document store on PostgreSQL: one JSONB table per collection.

Equality filters compile to JSONB containment (`doc @> :filter`, a bound parameter served
by a GIN index); unique fields get unique expression indexes, so the database enforces
idempotency keys. Updates lock the row (`SELECT ... FOR UPDATE`) and rewrite the document,
which keeps compare-and-set and claims atomic.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Index,
    MetaData,
    String,
    Table,
    bindparam,
    delete,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.sql.elements import ColumnElement

from embedding_studio.core.errors import DuplicateKey, StorageUnavailable
from embedding_studio.data_access.documents import (
    CollectionSpec,
    Document,
    GreaterThan,
    SortSpec,
)
from embedding_studio.data_access.postgres.engine import autocommit_connection

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def _checked_field(path: str) -> list[str]:
    if not _FIELD.match(path):
        raise ValueError(f"invalid document field name {path!r}")
    return path.split(".")


def _nested(path: list[str], value: Any) -> dict[str, Any]:
    result: Any = value
    for part in reversed(path):
        result = {part: result}
    return result


def _get_path(document: Document, path: list[str]) -> Any:
    value: Any = document
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _set_path(document: Document, path: list[str], value: Any) -> None:
    target = document
    for part in path[:-1]:
        target = target.setdefault(part, {})
    target[path[-1]] = value


class PostgresDocumentCollection:
    def __init__(self, engine: Engine, table: Table, durable_inserts: bool = True) -> None:
        self._engine = engine
        self._table = table
        self._durable_inserts = durable_inserts

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        try:
            with self._engine.begin() as conn:
                yield conn
        except OperationalError as exc:
            raise StorageUnavailable(f"PostgreSQL document store failed: {exc}") from exc

    @contextmanager
    def _one_statement(self) -> Iterator[Connection]:
        try:
            with autocommit_connection(self._engine) as conn:
                yield conn
        except OperationalError as exc:
            raise StorageUnavailable(f"PostgreSQL document store failed: {exc}") from exc

    def _where(self, where: Mapping[str, Any] | None) -> list[ColumnElement[bool]]:
        doc = self._table.c.doc
        clauses: list[ColumnElement[bool]] = []
        for path, expected in (where or {}).items():
            parts = _checked_field(path)
            if isinstance(expected, GreaterThan):
                # jsonb orders numbers numerically and strings by collation; a missing
                # field is SQL NULL and does not match.
                bound = bindparam(None, expected.value, type_=JSONB)
                clauses.append(doc[tuple(parts)] > bound)
            elif isinstance(expected, list | tuple | set):
                options = [doc.contains(_nested(parts, v)) for v in expected]
                clauses.append(or_(*options) if options else doc.is_(None))
            elif expected is None:
                clauses.append(doc[tuple(parts)].astext.is_(None))
            else:
                clauses.append(doc.contains(_nested(parts, expected)))
        return clauses

    def _order(self, sort: SortSpec) -> list[Any]:
        order = []
        for path, direction in sort:
            expr = self._table.c.doc[tuple(_checked_field(path))]
            order.append(expr.asc() if direction == 1 else expr.desc())
        order.append(self._table.c.id.asc())
        return order

    def insert(self, document: Document) -> None:
        try:
            with self._one_statement() as conn:
                conn.execute(insert(self._table).values(id=document["_id"], doc=document))
        except IntegrityError as exc:
            raise DuplicateKey(
                f"{self._table.name}: {document['_id']} or a unique key is taken"
            ) from exc

    def insert_many_new(self, documents: Sequence[Document]) -> int:
        if not documents:
            return 0
        rows = [{"id": d["_id"], "doc": d} for d in documents]
        # executemany with RETURNING: SQLAlchemy sends one multi-row INSERT per page of
        # rows ("insertmanyvalues") from a statement compiled once and cached.
        stmt = insert(self._table).on_conflict_do_nothing().returning(self._table.c.id)
        if not self._durable_inserts:
            with self._begin() as conn:
                # Checked at COMMIT: this transaction does not wait for the WAL flush.
                conn.execute(select(func.set_config("synchronous_commit", "off", True)))
                return len(conn.execute(stmt, rows).all())
        one_page = len(rows) <= self._engine.dialect.insertmanyvalues_page_size
        with self._one_statement() if one_page else self._begin() as conn:
            return len(conn.execute(stmt, rows).all())

    def get(self, document_id: str) -> Document | None:
        with self._one_statement() as conn:
            row = conn.execute(
                select(self._table.c.doc).where(self._table.c.id == document_id)
            ).first()
        return row[0] if row else None

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
        stmt = select(self._table.c.doc).where(*self._where(where)).order_by(*self._order(sort))
        if skip:
            stmt = stmt.offset(skip)
        if limit is not None:
            stmt = stmt.limit(limit)
        with self._one_statement() as conn:
            return [row[0] for row in conn.execute(stmt)]

    def count(self, where: Mapping[str, Any] | None = None) -> int:
        stmt = select(func.count()).select_from(self._table).where(*self._where(where))
        with self._one_statement() as conn:
            return int(conn.execute(stmt).scalar_one())

    def distinct(self, field: str, where: Mapping[str, Any] | None = None) -> list[Any]:
        value = self._table.c.doc[tuple(_checked_field(field))]
        stmt = select(value).where(value.is_not(None), *self._where(where)).distinct()
        with self._one_statement() as conn:
            return [row[0] for row in conn.execute(stmt)]

    def _rewrite(
        self, conn: Connection, document: Document, changes: Mapping[str, Any]
    ) -> Document:
        updated = copy.deepcopy(document)
        for path, value in changes.items():
            _set_path(updated, _checked_field(path), value)
        try:
            with conn.begin_nested():
                conn.execute(
                    update(self._table)
                    .where(self._table.c.id == document["_id"])
                    .values(doc=updated)
                )
        except IntegrityError as exc:
            raise DuplicateKey(
                f"{self._table.name}: a unique key in {list(changes)} is taken"
            ) from exc
        return updated

    def update(
        self, document_id: str, changes: Mapping[str, Any], where: Mapping[str, Any] | None = None
    ) -> Document | None:
        stmt = (
            select(self._table.c.doc)
            .where(self._table.c.id == document_id, *self._where(where))
            .with_for_update()
        )
        with self._begin() as conn:
            row = conn.execute(stmt).first()
            return self._rewrite(conn, row[0], changes) if row else None

    def claim(
        self, where: Mapping[str, Any], changes: Mapping[str, Any], sort: SortSpec = ()
    ) -> Document | None:
        stmt = (
            select(self._table.c.doc)
            .where(*self._where(where))
            .order_by(*self._order(sort))
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        with self._begin() as conn:
            row = conn.execute(stmt).first()
            return self._rewrite(conn, row[0], changes) if row else None

    def increment(self, where: Mapping[str, Any], field: str, amount: int = 1) -> Document | None:
        parts = _checked_field(field)
        stmt = (
            select(self._table.c.doc)
            .where(*self._where(where))
            .order_by(self._table.c.id.asc())
            .limit(1)
            .with_for_update()
        )
        with self._begin() as conn:
            row = conn.execute(stmt).first()
            if row is None:
                return None
            current = _get_path(row[0], parts) or 0
            return self._rewrite(conn, row[0], {field: int(current) + amount})

    def update_many(self, where: Mapping[str, Any], changes: Mapping[str, Any]) -> int:
        stmt = select(self._table.c.doc).where(*self._where(where)).with_for_update()
        with self._begin() as conn:
            rows = conn.execute(stmt).all()
            for row in rows:
                self._rewrite(conn, row[0], changes)
            return len(rows)

    def delete(self, document_id: str) -> bool:
        with self._begin() as conn:
            return (
                conn.execute(delete(self._table).where(self._table.c.id == document_id)).rowcount
                > 0
            )

    def delete_many(self, where: Mapping[str, Any]) -> int:
        with self._begin() as conn:
            return conn.execute(delete(self._table).where(*self._where(where))).rowcount


class PostgresDocumentStore:
    """Collections live in tables named `doc_<collection>` in the given database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._metadata = MetaData()
        self._tables: dict[str, Table] = {}
        self._collections: dict[CollectionSpec, PostgresDocumentCollection] = {}
        self._counters = Table(
            "doc_counters",
            self._metadata,
            Column("name", String, primary_key=True),
            Column("value", BigInteger, nullable=False),
        )
        self._counters_ready = False

    def collection(self, spec: CollectionSpec) -> PostgresDocumentCollection:
        if spec not in self._collections:
            if spec.name not in self._tables:
                self._tables[spec.name] = self._create_table(spec)
            self._collections[spec] = PostgresDocumentCollection(
                self._engine, self._tables[spec.name], spec.durable_inserts
            )
        return self._collections[spec]

    def _create_table(self, spec: CollectionSpec) -> Table:
        if not _NAME.match(spec.name):
            raise ValueError(f"invalid collection name {spec.name!r}")
        table = Table(
            f"doc_{spec.name}",
            self._metadata,
            Column("id", String, primary_key=True),
            Column("doc", JSONB, nullable=False),
        )
        # fastupdate off: with it on, inserts append to a pending list that some insert
        # then merges into the index, stalling itself and every writer behind it for
        # 100-200 ms (the clickstream's events table fills it every few seconds).
        gin = Index(
            f"ix_doc_{spec.name}_gin",
            table.c.doc,
            postgresql_using="gin",
            postgresql_ops={"doc": "jsonb_path_ops"},
            postgresql_with={"fastupdate": "off"},
        )
        for field in spec.unique:
            Index(
                f"ux_doc_{spec.name}_{field.replace('.', '_')}",
                table.c.doc[tuple(_checked_field(field))].astext,
                unique=True,
            )
        for field in spec.indexed:
            Index(
                f"ix_doc_{spec.name}_{field.replace('.', '_')}",
                table.c.doc[tuple(_checked_field(field))],
            )
        try:
            with self._engine.begin() as conn:
                # Concurrent processes create the same tables at start; serialize them.
                conn.execute(text("SELECT pg_advisory_xact_lock(7219001)"))
                table.create(conn, checkfirst=True)
                for index in table.indexes:
                    index.create(conn, checkfirst=True)
                # An index created before fastupdate was turned off (a no-op otherwise).
                conn.execute(text(f'ALTER INDEX "{gin.name}" SET (fastupdate = off)'))
        except OperationalError as exc:
            raise StorageUnavailable(f"PostgreSQL document store failed: {exc}") from exc
        return table

    def next_value(self, counter: str) -> int:
        if not self._counters_ready:
            with self._engine.begin() as conn:
                conn.execute(text("SELECT pg_advisory_xact_lock(7219001)"))
                self._counters.create(conn, checkfirst=True)
            self._counters_ready = True
        stmt = (
            insert(self._counters)
            .values(name=counter, value=1)
            .on_conflict_do_update(
                index_elements=[self._counters.c.name], set_={"value": self._counters.c.value + 1}
            )
            .returning(self._counters.c.value)
        )
        with self._engine.begin() as conn:
            return int(conn.execute(stmt).scalar_one())

    def ping(self) -> None:
        try:
            with self._engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except OperationalError as exc:
            raise StorageUnavailable(f"PostgreSQL is unreachable: {exc}") from exc

    def close(self) -> None:
        self._engine.dispose()
