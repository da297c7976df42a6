"""SQL conditions for the leaf queries on the payload JSONB column.

Paths and values are bound parameters; the only literal SQL here is fixed text (the text
search configuration, the JSON types to index). `term`, `terms`, `any` and `all` compile to
JSONB containment (`payload @> :doc`), which the GIN index serves; the others read the value
at the path (`payload #> :path`), treating an array as "any element matches".
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    Text,
    and_,
    bindparam,
    case,
    cast,
    column,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TIMESTAMP, TSQUERY
from sqlalchemy.sql.elements import ColumnElement

from embedding_studio.models.payload.fields import field_path_keys
from embedding_studio.models.payload.queries import (
    ExistsQuery,
    LeafQuery,
    ListHasAllQuery,
    ListHasAnyQuery,
    MatchPhraseQuery,
    MatchQuery,
    RangeQuery,
    TermQuery,
    TermsQuery,
    WildcardQuery,
)

# Fixed SQL fragments (no client data): the same expressions `CreateFullTextIndexOptimization`
# indexes, so the planner can match them.
TEXT_SEARCH_CONFIG: ColumnElement[Any] = literal_column("'simple'::regconfig")
TEXT_VALUE_TYPES: ColumnElement[Any] = literal_column("""'["string", "numeric"]'::jsonb""")
_AS_TEXT: ColumnElement[Any] = literal_column("'{}'::text[]")
_DATE_PREFIX = r"^\d{4}-\d{2}-\d{2}"
COMPARATORS: dict[str, Callable[[Any, Any], ColumnElement[bool]]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}

Condition = ColumnElement[bool]


def value_at(payload: ColumnElement[Any], keys: list[str]) -> ColumnElement[Any]:
    """`payload #> :path`: the JSONB value at the path, SQL NULL when absent. The path is a
    real `text[]` parameter (each key quoted by the driver, so a key like "null" is a key)."""
    path = bindparam(None, list(keys), type_=ARRAY(Text))
    return payload.op("#>", return_type=JSONB)(path)


def text_search_vector(payload: ColumnElement[Any], keys: list[str]) -> ColumnElement[Any]:
    """The words of the strings and numbers at the path ('simple' configuration)."""
    return func.jsonb_to_tsvector(TEXT_SEARCH_CONFIG, value_at(payload, keys), TEXT_VALUE_TYPES)


def _nested(keys: list[str], value: Any) -> dict[str, Any]:
    document: Any = value
    for key in reversed(keys):
        document = {key: document}
    return document


def _has(payload: ColumnElement[Any], keys: list[str], value: Any) -> Condition:
    """The value at the path equals `value`, or is an array holding it (GIN-served)."""
    return or_(
        payload.contains(_nested(keys, value)),
        payload.contains(_nested(keys, [value])),
    )


def _any_element(value: ColumnElement[Any], predicate: Callable[[Any], Condition]) -> Condition:
    """True when `predicate` holds for the value, or for any element when it is an array."""
    items = case((func.jsonb_typeof(value) == "array", value), else_=func.jsonb_build_array(value))
    elements = func.jsonb_array_elements(items).table_valued(column("value", JSONB))
    return exists(select(literal(1)).select_from(elements).where(predicate(elements.c.value)))


def _as_text(element: ColumnElement[Any]) -> ColumnElement[str]:
    return element.op("#>>")(_AS_TEXT)


def _term(payload: ColumnElement[Any], query: TermQuery) -> Condition:
    return _has(payload, field_path_keys(query.field), query.value)


def _terms(payload: ColumnElement[Any], query: TermsQuery) -> Condition:
    keys = field_path_keys(query.field)
    return or_(*(_has(payload, keys, value) for value in query.values))


def _all(payload: ColumnElement[Any], query: ListHasAllQuery) -> Condition:
    keys = field_path_keys(query.field)
    return and_(*(_has(payload, keys, value) for value in query.values))


def _exists(payload: ColumnElement[Any], query: ExistsQuery) -> Condition:
    keys = field_path_keys(query.field)
    present = _any_element(value_at(payload, keys), lambda e: func.jsonb_typeof(e) != "null")
    return and_(payload.has_key(keys[0]), present)


def _wildcard(payload: ColumnElement[Any], query: WildcardQuery) -> Condition:
    keys = field_path_keys(query.field)
    pattern = like_pattern(query.value)

    def matches(element: ColumnElement[Any]) -> Condition:
        text = _as_text(element)
        like = (
            text.ilike(pattern, escape="\\")
            if query.case_insensitive
            else text.like(pattern, escape="\\")
        )
        return and_(func.jsonb_typeof(element) == "string", like)

    return and_(payload.has_key(keys[0]), _any_element(value_at(payload, keys), matches))


def _range(payload: ColumnElement[Any], query: RangeQuery) -> Condition:
    keys = field_path_keys(query.field)
    bounds = query.bounds()

    def in_range(element: ColumnElement[Any]) -> Condition:
        if query.is_datetime:
            text = _as_text(element)
            is_date = and_(
                func.jsonb_typeof(element) == "string",
                text.regexp_match(_DATE_PREFIX),
                func.pg_input_is_valid(text, "timestamptz"),
            )
            subject: ColumnElement[Any] = case(
                (is_date, cast(text, TIMESTAMP(timezone=True))), else_=None
            )
            checks = [COMPARATORS[name](subject, bound) for name, bound in bounds.items()]
            return and_(is_date, *checks)
        number = case((func.jsonb_typeof(element) == "number", cast(element, Float)), else_=None)
        checks = [COMPARATORS[name](number, bound) for name, bound in bounds.items()]
        return and_(func.jsonb_typeof(element) == "number", *checks)

    return and_(payload.has_key(keys[0]), _any_element(value_at(payload, keys), in_range))


def _text_query(query: MatchQuery | MatchPhraseQuery) -> ColumnElement[Any]:
    if isinstance(query, MatchPhraseQuery):
        return func.phraseto_tsquery(TEXT_SEARCH_CONFIG, query.value)
    words = func.plainto_tsquery(TEXT_SEARCH_CONFIG, query.value)
    if query.match_operator == "and":
        return words
    any_word = func.replace(cast(words, Text), " & ", " | ")
    return cast(any_word, TSQUERY)


def _match(payload: ColumnElement[Any], query: MatchQuery | MatchPhraseQuery) -> Condition:
    keys = field_path_keys(query.field)
    vector = text_search_vector(payload, keys)
    return vector.op("@@", return_type=Boolean)(_text_query(query))


def like_pattern(wildcard: str) -> str:
    """Translate `*` / `?` (with `\\` escaping the next character) into a LIKE pattern whose
    escape character is `\\`; LIKE's own `%` and `_` stay literal."""
    out: list[str] = []
    characters = iter(wildcard)
    for character in characters:
        if character == "\\":
            out.append(_like_literal(next(characters, "\\")))
        elif character == "*":
            out.append("%")
        elif character == "?":
            out.append("_")
        else:
            out.append(_like_literal(character))
    return "".join(out)


def _like_literal(character: str) -> str:
    return "\\" + character if character in "%_\\" else character


_COMPILERS: dict[type[LeafQuery], Callable[[ColumnElement[Any], Any], Condition]] = {
    MatchQuery: _match,
    MatchPhraseQuery: _match,
    TermQuery: _term,
    TermsQuery: _terms,
    ListHasAnyQuery: _terms,
    ListHasAllQuery: _all,
    ExistsQuery: _exists,
    WildcardQuery: _wildcard,
    RangeQuery: _range,
}


def payload_condition(payload: ColumnElement[Any], query: LeafQuery) -> Condition:
    """The SQL condition for one leaf query on the payload column."""
    return _COMPILERS[type(query)](payload, query)
