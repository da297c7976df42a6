"""Leaf queries of the payload filter language (one condition on one field).

Each leaf names a payload `field` (a dotted path) and takes either the documented form
`{"field": "color", "value": "red"}` or the Elasticsearch shorthand `{"color": "red"}`
(`{"color": {"value": "red"}}`, `{"price": {"gte": 10}}`, `{"title": {"query": "...",
"operator": "and"}}`). Values keep their JSON type: `"5"` does not match `5`.

Matching rules shared by the leaves: a dotted path walks nested objects; when the value found
is an array, the leaf matches if any element matches (so `term` on a `tags` array is "has
tag"). `force_not_payload: true` targets a column of the object instead of the payload:
`object_id` (term, terms, wildcard, exists) or `created_at` (range, exists).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    model_validator,
)

from embedding_studio.models.payload.fields import FieldPath

Scalar = StrictStr | StrictInt | StrictFloat | StrictBool
RangeBound = StrictInt | StrictFloat | StrictStr
MAX_VALUES = 1000
MAX_TEXT = 2000


class LeafQuery(BaseModel):
    """Base of every leaf: the field it reads and whether that field is an object column."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    query_type: ClassVar[str]
    field: FieldPath
    force_not_payload: bool = False

    @model_validator(mode="before")
    @classmethod
    def _from_shorthand(cls, data: Any) -> Any:
        if isinstance(data, dict) and "field" not in data and len(data) == 1:
            ((name, spec),) = data.items()
            return {"field": name, **cls._shorthand_spec(spec)}
        return data

    @classmethod
    def _shorthand_spec(cls, spec: Any) -> dict[str, Any]:
        """The keys the Elasticsearch form `{field: spec}` stands for."""
        if isinstance(spec, dict):
            return spec
        return {"value": spec}


class MatchQuery(LeafQuery):
    """Full text: the field's words (PostgreSQL 'simple' configuration: lower-cased, no
    stemming) contain any (`operator: "or"`, the default) or all (`"and"`) of the words."""

    query_type: ClassVar[str] = "match"
    value: str = Field(..., min_length=1, max_length=MAX_TEXT)
    match_operator: Literal["or", "and"] = Field("or", alias="operator")
    model_config = ConfigDict(populate_by_name=True)

    @classmethod
    def _shorthand_spec(cls, spec: Any) -> dict[str, Any]:
        if isinstance(spec, dict) and "query" in spec:
            rest = {key: value for key, value in spec.items() if key != "query"}
            return {"value": spec["query"], **rest}
        return super()._shorthand_spec(spec)


class MatchPhraseQuery(LeafQuery):
    """Full text: the field contains the words of `value` next to each other, in order."""

    query_type: ClassVar[str] = "match_phrase"
    value: str = Field(..., min_length=1, max_length=MAX_TEXT)

    @classmethod
    def _shorthand_spec(cls, spec: Any) -> dict[str, Any]:
        return MatchQuery._shorthand_spec(spec)


class TermQuery(LeafQuery):
    """Exact value: the field equals `value` (or is an array holding it)."""

    query_type: ClassVar[str] = "term"
    value: Scalar


class TermsQuery(LeafQuery):
    """Exact values: the field equals one of `values` (or is an array holding one)."""

    query_type: ClassVar[str] = "terms"
    values: list[Scalar] = Field(..., min_length=1, max_length=MAX_VALUES)

    @classmethod
    def _shorthand_spec(cls, spec: Any) -> dict[str, Any]:
        return spec if isinstance(spec, dict) else {"values": spec}


class ListHasAnyQuery(TermsQuery):
    """Array field holding at least one of `values` (a scalar field equal to one matches too)."""

    query_type: ClassVar[str] = "any"


class ListHasAllQuery(TermsQuery):
    """Array field holding every one of `values`."""

    query_type: ClassVar[str] = "all"


class ExistsQuery(LeafQuery):
    """The field is present and not null (an empty array or only nulls do not count)."""

    query_type: ClassVar[str] = "exists"


class WildcardQuery(LeafQuery):
    """String pattern over the whole value: `*` any run of characters, `?` one character,
    `\\` escapes the next character; every other character is literal."""

    query_type: ClassVar[str] = "wildcard"
    value: str = Field(..., min_length=1, max_length=MAX_TEXT)
    case_insensitive: bool = False

    @classmethod
    def _shorthand_spec(cls, spec: Any) -> dict[str, Any]:
        if isinstance(spec, dict) and "wildcard" in spec:
            rest = {key: value for key, value in spec.items() if key != "wildcard"}
            return {"value": spec["wildcard"], **rest}
        return super()._shorthand_spec(spec)


def parse_datetime(value: str) -> datetime:
    """An ISO-8601 date or date-time; one without a zone is taken as UTC."""
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


class RangeQuery(LeafQuery):
    """Bounds on a number or an ISO-8601 date: give at least one of `gt`, `gte`, `lt`, `lte`,
    all numbers or all dates. A date bound matches string values that parse as dates."""

    query_type: ClassVar[str] = "range"
    gt: RangeBound | None = None
    gte: RangeBound | None = None
    lt: RangeBound | None = None
    lte: RangeBound | None = None

    @model_validator(mode="after")
    def _consistent_bounds(self) -> RangeQuery:
        given = self.bounds_as_given()
        if not given:
            raise ValueError(f"range on {self.field!r}: give at least one of gt, gte, lt, lte")
        kinds = {isinstance(value, str) for value in given.values()}
        if len(kinds) > 1:
            raise ValueError(f"range on {self.field!r}: bounds must be all numbers or all dates")
        for name, value in given.items():
            if isinstance(value, str):
                try:
                    parse_datetime(value)
                except ValueError as exc:
                    raise ValueError(
                        f"range on {self.field!r}: {name}={value!r} is neither a number nor "
                        "an ISO-8601 date (e.g. '2024-05-01' or '2024-05-01T12:00:00Z')"
                    ) from exc
        return self

    def bounds_as_given(self) -> dict[str, int | float | str]:
        bounds = {"gt": self.gt, "gte": self.gte, "lt": self.lt, "lte": self.lte}
        return {name: value for name, value in bounds.items() if value is not None}

    @property
    def is_datetime(self) -> bool:
        return any(isinstance(value, str) for value in self.bounds_as_given().values())

    def bounds(self) -> dict[str, float | datetime]:
        """The bounds, dates parsed to aware datetimes, numbers as floats."""
        return {
            name: parse_datetime(value) if isinstance(value, str) else float(value)
            for name, value in self.bounds_as_given().items()
        }
