"""The payload filter a client sends with a search, and the sort option.

A filter is `{"query": CLAUSE}` (a bare `CLAUSE` is accepted too). A clause is an object with
exactly one operator key: `match`, `match_phrase`, `term`, `terms`, `any`, `all`, `exists`,
`wildcard`, `range` (leaves, see `queries.py`) or `bool`:

    {"query": {"bool": {
        "must": [{"term": {"field": "color", "value": "red"}}],
        "should": [{"range": {"price": {"lt": 10}}}, {"match": {"title": "usb cable"}}],
        "must_not": [{"exists": {"field": "discontinued"}}]}}}

`bool` follows Elasticsearch: `must` and `filter` clauses must all match; `must_not` clauses
must not match (an object lacking the field passes); `should` clauses need at least
`minimum_should_match` matches, which defaults to 1 when there is no `must`/`filter` clause and
to 0 otherwise. An empty `bool` matches everything. Unknown operators, unknown keys and values
of the wrong type raise a pydantic `ValidationError` whose location names the offending field.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from embedding_studio.models.payload.fields import FieldPath
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

MAX_CLAUSES = 256
MAX_DEPTH = 8

__all__ = [
    "BoolQuery",
    "ExistsQuery",
    "LeafQuery",
    "ListHasAllQuery",
    "ListHasAnyQuery",
    "MatchPhraseQuery",
    "MatchQuery",
    "PayloadFilter",
    "QueryPart",
    "RangeQuery",
    "SortByOptions",
    "TermQuery",
    "TermsQuery",
    "WildcardQuery",
]


class Clause(BaseModel):
    """A one-key wrapper `{operator: condition}`; `condition` is the leaf or the BoolQuery."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    tag: ClassVar[str]

    @property
    def condition(self) -> LeafQuery | BoolQuery:
        return getattr(self, self.tag)


class MatchClause(Clause):
    tag: ClassVar[str] = "match"
    match: MatchQuery


class MatchPhraseClause(Clause):
    tag: ClassVar[str] = "match_phrase"
    match_phrase: MatchPhraseQuery


class TermClause(Clause):
    tag: ClassVar[str] = "term"
    term: TermQuery


class TermsClause(Clause):
    tag: ClassVar[str] = "terms"
    terms: TermsQuery


class AnyClause(Clause):
    tag: ClassVar[str] = "any"
    any: ListHasAnyQuery


class AllClause(Clause):
    tag: ClassVar[str] = "all"
    all: ListHasAllQuery


class ExistsClause(Clause):
    tag: ClassVar[str] = "exists"
    exists: ExistsQuery


class WildcardClause(Clause):
    tag: ClassVar[str] = "wildcard"
    wildcard: WildcardQuery


class RangeClause(Clause):
    tag: ClassVar[str] = "range"
    range: RangeQuery


class BoolClause(Clause):
    tag: ClassVar[str] = "bool"
    bool: BoolQuery


OPERATORS = (
    "match",
    "match_phrase",
    "term",
    "terms",
    "any",
    "all",
    "exists",
    "wildcard",
    "range",
    "bool",
)


def _clause_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        return next(iter(value)) if len(value) == 1 else None
    return getattr(value, "tag", None)


QueryPart = Annotated[
    Annotated[MatchClause, Tag("match")]
    | Annotated[MatchPhraseClause, Tag("match_phrase")]
    | Annotated[TermClause, Tag("term")]
    | Annotated[TermsClause, Tag("terms")]
    | Annotated[AnyClause, Tag("any")]
    | Annotated[AllClause, Tag("all")]
    | Annotated[ExistsClause, Tag("exists")]
    | Annotated[WildcardClause, Tag("wildcard")]
    | Annotated[RangeClause, Tag("range")]
    | Annotated[BoolClause, Tag("bool")],
    Discriminator(
        _clause_tag,
        custom_error_type="invalid_filter_clause",
        custom_error_message=(
            "a filter clause must be an object with exactly one operator key, one of: "
            + ", ".join(OPERATORS)
        ),
    ),
]


class BoolQuery(BaseModel):
    """Combines clauses with Elasticsearch `bool` semantics (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    must: list[QueryPart] = Field(default_factory=list)
    should: list[QueryPart] = Field(default_factory=list)
    filter: list[QueryPart] = Field(default_factory=list)
    must_not: list[QueryPart] = Field(default_factory=list)
    minimum_should_match: int | None = Field(None, ge=0)

    @field_validator("must", "should", "filter", "must_not", mode="before")
    @classmethod
    def _one_clause_as_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value

    @property
    def required_should(self) -> int:
        """How many `should` clauses must match."""
        if self.minimum_should_match is not None:
            return self.minimum_should_match
        return 0 if (self.must or self.filter) else min(1, len(self.should))


def iter_clauses(part: Clause, depth: int = 1) -> Iterator[tuple[Clause, int]]:
    """Every clause of a filter tree with its depth (the root is 1)."""
    yield part, depth
    condition = part.condition
    if isinstance(condition, BoolQuery):
        for child in (*condition.must, *condition.should, *condition.filter, *condition.must_not):
            yield from iter_clauses(child, depth + 1)


class PayloadFilter(BaseModel):
    """A client's payload filter: `{"query": CLAUSE}`; compiled to SQL with bound values."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    query: QueryPart

    @model_validator(mode="before")
    @classmethod
    def _bare_clause(cls, data: Any) -> Any:
        if isinstance(data, dict) and "query" not in data and len(data) == 1:
            return {"query": data}
        return data

    @model_validator(mode="after")
    def _bounded_size(self) -> PayloadFilter:
        clauses = list(iter_clauses(self.query))
        if len(clauses) > MAX_CLAUSES:
            raise ValueError(f"filter has {len(clauses)} clauses; at most {MAX_CLAUSES} allowed")
        if max(depth for _, depth in clauses) > MAX_DEPTH:
            raise ValueError(f"filter nests bool clauses deeper than {MAX_DEPTH} levels")
        return self


class SortByOptions(BaseModel):
    """Order results by a payload field (`force_not_payload: true`: the `object_id` or
    `created_at` column), then by distance. Values compare in JSONB order (null < strings <
    numbers < booleans < arrays < objects; numbers numerically, strings by collation) and
    objects lacking the field come last in either direction."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    field: FieldPath
    order: Literal["asc", "desc"] = "desc"
    force_not_payload: bool = False


BoolClause.model_rebuild()
BoolQuery.model_rebuild()
PayloadFilter.model_rebuild()
