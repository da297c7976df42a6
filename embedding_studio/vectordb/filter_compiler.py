"""Compiles a `PayloadFilter` and a `SortByOptions` into SQLAlchemy expressions over a
collection's objects table. The one place filters become SQL (see `payload_conditions`)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import Table, and_, case, false, func, not_, or_, true
from sqlalchemy.sql.elements import ColumnElement

from embedding_studio.core.errors import InvalidRequest
from embedding_studio.models.payload.fields import field_path_keys
from embedding_studio.models.payload.models import BoolQuery, Clause, PayloadFilter, SortByOptions
from embedding_studio.models.payload.queries import (
    ExistsQuery,
    LeafQuery,
    RangeQuery,
    TermQuery,
    TermsQuery,
    WildcardQuery,
)
from embedding_studio.vectordb.payload_conditions import (
    COMPARATORS,
    Condition,
    like_pattern,
    payload_condition,
    value_at,
)

COLUMN_FIELDS = ("object_id", "created_at")


def as_payload_filter(value: PayloadFilter | dict[str, Any] | None) -> PayloadFilter | None:
    """Accept a parsed filter or its JSON; InvalidRequest naming the bad field otherwise."""
    if value is None or isinstance(value, PayloadFilter):
        return value
    try:
        return PayloadFilter.model_validate(value)
    except ValidationError as exc:
        raise InvalidRequest(f"invalid payload filter: {exc}") from exc


def as_sort_by(value: SortByOptions | dict[str, Any] | None) -> SortByOptions | None:
    """Accept parsed sort options or their JSON; InvalidRequest naming the bad field otherwise."""
    if value is None or isinstance(value, SortByOptions):
        return value
    try:
        return SortByOptions.model_validate(value)
    except ValidationError as exc:
        raise InvalidRequest(f"invalid sort_by: {exc}") from exc


def compile_filter(payload_filter: PayloadFilter | None, objects: Table) -> Condition:
    """The WHERE condition selecting the objects `payload_filter` matches (all when None)."""
    if payload_filter is None:
        return true()
    return _clause(payload_filter.query, objects)


def _clause(clause: Clause, objects: Table) -> Condition:
    condition = clause.condition
    if isinstance(condition, BoolQuery):
        return _bool(condition, objects)
    if condition.force_not_payload:
        return _column_condition(condition, objects)
    return payload_condition(objects.c.payload, condition)


def _bool(query: BoolQuery, objects: Table) -> Condition:
    required = [_clause(part, objects) for part in (*query.must, *query.filter)]
    # NOT of a NULL is NULL: coalesce so that "field absent" counts as "did not match".
    excluded = [not_(func.coalesce(_clause(part, objects), false())) for part in query.must_not]
    should = [_clause(part, objects) for part in query.should]
    needed = query.required_should
    if needed > len(should):
        return false()
    if needed == 1:
        required.append(or_(*should))
    elif needed > 1:
        counts = [case((part, 1), else_=0) for part in should]
        matched: ColumnElement[int] = counts[0]
        for count in counts[1:]:
            matched = matched + count
        required.append(matched >= needed)
    return and_(true(), *required, *excluded)


def reported_id(objects: Table) -> ColumnElement[str]:
    """The id results are reported under: the original's id for a personalised copy."""
    return func.coalesce(objects.c.original_id, objects.c.object_id)


def _column_condition(query: LeafQuery, objects: Table) -> Condition:
    if query.field not in COLUMN_FIELDS:
        raise InvalidRequest(
            f"field {query.field!r} with force_not_payload: only {', '.join(COLUMN_FIELDS)} "
            "are object columns; drop force_not_payload to read the payload"
        )
    if isinstance(query, ExistsQuery):
        return true()
    if query.field == "created_at" and isinstance(query, RangeQuery) and query.is_datetime:
        bounds = query.bounds()
        return and_(
            *(COMPARATORS[name](objects.c.created_at, bound) for name, bound in bounds.items())
        )
    if query.field == "object_id":
        object_id = reported_id(objects)
        if isinstance(query, TermQuery) and isinstance(query.value, str):
            return object_id == query.value
        if isinstance(query, TermsQuery) and all(isinstance(v, str) for v in query.values):
            return object_id.in_([str(value) for value in query.values])
        if isinstance(query, WildcardQuery):
            pattern = like_pattern(query.value)
            if query.case_insensitive:
                return object_id.ilike(pattern, escape="\\")
            return object_id.like(pattern, escape="\\")
    raise InvalidRequest(
        f"{query.query_type} on column {query.field!r} is not supported: object_id takes "
        "term/terms (strings), wildcard, exists; created_at takes range (dates), exists"
    )


def sort_key(sort_by: SortByOptions, objects: Table) -> ColumnElement[Any]:
    """The expression results are ordered by (a JSONB value, or a column)."""
    if sort_by.force_not_payload:
        if sort_by.field not in COLUMN_FIELDS:
            raise InvalidRequest(
                f"sort field {sort_by.field!r} with force_not_payload: use one of "
                f"{', '.join(COLUMN_FIELDS)}, or drop force_not_payload to sort by the payload"
            )
        return reported_id(objects) if sort_by.field == "object_id" else objects.c.created_at
    return value_at(objects.c.payload, field_path_keys(sort_by.field))


def sort_field_present(sort_by: SortByOptions, objects: Table) -> Condition:
    """Objects holding a non-null value of the sort field (GIN-served on the first key)."""
    if sort_by.force_not_payload:
        return true()
    keys = field_path_keys(sort_by.field)
    value = value_at(objects.c.payload, keys)
    return and_(objects.c.payload.has_key(keys[0]), func.jsonb_typeof(value) != "null")


def ordered(expression: ColumnElement[Any], order: str) -> ColumnElement[Any]:
    direction = expression.asc() if order == "asc" else expression.desc()
    return direction.nulls_last()
