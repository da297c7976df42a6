"""Parsing and validation of the payload filter language (no database)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from embedding_studio.models.payload.models import (
    BoolQuery,
    PayloadFilter,
    RangeQuery,
    SortByOptions,
    TermQuery,
)
from embedding_studio.vectordb.payload_conditions import like_pattern


def parse(data: dict) -> PayloadFilter:
    return PayloadFilter.model_validate(data)


def condition(data: dict) -> Any:
    """The root clause's condition (a leaf query or a BoolQuery), untyped for brevity."""
    return parse(data).query.condition


def test_documented_form_and_elasticsearch_shorthand_parse_to_the_same_filter() -> None:
    documented = parse({"query": {"term": {"field": "color", "value": "red"}}})
    shorthand = parse({"term": {"color": "red"}})
    value_object = parse({"query": {"term": {"color": {"value": "red"}}}})
    assert documented == shorthand == value_object
    assert documented.query.condition == TermQuery(field="color", value="red")


def test_bool_accepts_single_clauses_and_lists() -> None:
    parsed = parse(
        {
            "bool": {
                "must": {"terms": {"tags": ["a", "b"]}},
                "should": [{"match": {"title": {"query": "usb cable", "operator": "and"}}}],
                "must_not": [{"exists": {"field": "gone"}}],
                "filter": [{"range": {"price": {"gte": 1, "lt": 9.5}}}],
            }
        }
    )
    root = parsed.query.condition
    assert isinstance(root, BoolQuery)
    assert len(root.must) == len(root.should) == len(root.filter) == 1
    match: Any = root.should[0].condition
    assert match.match_operator == "and"
    assert root.required_should == 0  # must/filter present: should only ranks in ES


def test_should_alone_requires_one_match_unless_told_otherwise() -> None:
    alone = condition({"bool": {"should": [{"term": {"a": 1}}, {"term": {"b": 2}}]}})
    assert alone.required_should == 1
    two = condition({"bool": {"should": [{"term": {"a": 1}}], "minimum_should_match": 2}})
    assert two.required_should == 2


def test_values_keep_their_json_type() -> None:
    assert condition({"term": {"n": 5}}).value == 5
    assert condition({"term": {"n": "5"}}).value == "5"
    assert condition({"term": {"flag": True}}).value is True


@pytest.mark.parametrize(
    ("data", "location"),
    [
        ({"query": {"fuzzy": {"field": "a", "value": 1}}}, "query"),
        ({"query": {"term": {"field": "a", "value": [1, 2]}}}, "query.term.term.value"),
        ({"query": {"term": {"field": "a", "value": 1, "boost": 2}}}, "query.term.term.boost"),
        ({"query": {"terms": {"field": "a", "values": []}}}, "query.terms.terms.values"),
        ({"query": {"range": {"field": "price"}}}, "query.range.range"),
        ({"query": {"range": {"field": "price", "gte": 1, "lt": "2024-01-01"}}}, "query.range"),
        ({"query": {"range": {"field": "d", "gte": "yesterday"}}}, "query.range.range"),
        ({"query": {"match": {"field": "a", "value": ""}}}, "query.match.match.value"),
        ({"query": {"bool": {"must": [{"term": {"a": 1}, "terms": {"b": [1]}}]}}}, "must.0"),
        ({"query": {"bool": {"must": [], "sometimes": []}}}, "query.bool.bool.sometimes"),
    ],
)
def test_invalid_filters_raise_a_validation_error_naming_the_place(
    data: dict, location: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        parse(data)
    locations = [".".join(str(part) for part in error["loc"]) for error in raised.value.errors()]
    assert any(location in found for found in locations), locations


@pytest.mark.parametrize(
    "field",
    [
        "name'; DROP TABLE es_c1_objects; --",
        "a b",
        "a..b",
        "",
        "payload->>'x'",
        "a.b.c.d.e.f.g.h.i",  # more than 8 keys
        "x" * 65,
    ],
)
def test_malformed_or_hostile_field_names_are_rejected(field: str) -> None:
    with pytest.raises(ValidationError, match="not a valid payload path"):
        parse({"term": {"field": field, "value": 1}})
    with pytest.raises(ValidationError, match="not a valid payload path"):
        SortByOptions(field=field)


def test_nested_and_unicode_field_paths_are_allowed() -> None:
    assert condition({"term": {"specs.color-code": "r"}}).field == "specs.color-code"
    assert condition({"exists": {"field": "größe"}}).field == "größe"


def test_range_bounds_parse_numbers_and_dates() -> None:
    numbers = RangeQuery(field="p", gt=1, lte=2.5)
    assert not numbers.is_datetime
    assert numbers.bounds() == {"gt": 1.0, "lte": 2.5}
    dates = RangeQuery(field="d", gte="2024-05-01", lt="2024-05-02T12:00:00+02:00")
    assert dates.is_datetime
    assert dates.bounds()["gte"] == datetime(2024, 5, 1, tzinfo=UTC)
    assert dates.bounds()["lt"] == datetime(2024, 5, 2, 10, 0, tzinfo=UTC)


def test_filters_have_a_size_limit() -> None:
    clauses = [{"term": {"a": index}} for index in range(300)]
    with pytest.raises(ValidationError, match="at most 256"):
        parse({"bool": {"should": clauses}})
    nested: dict = {"term": {"a": 1}}
    for _ in range(9):
        nested = {"bool": {"must": [nested]}}
    with pytest.raises(ValidationError, match="deeper than"):
        parse(nested)


def test_sort_options_default_to_descending() -> None:
    assert SortByOptions(field="price").order == "desc"
    with pytest.raises(ValidationError):
        SortByOptions.model_validate({"field": "price", "order": "up"})


@pytest.mark.parametrize(
    ("wildcard", "pattern"),
    [
        ("smart*", "smart%"),
        ("?at", "_at"),
        ("100%", "100\\%"),
        ("snake_case", "snake\\_case"),
        ("a\\*b", "a*b"),
        ("back\\\\slash", "back\\\\slash"),
        ("trailing\\", "trailing\\\\"),
    ],
)
def test_wildcards_translate_to_escaped_like_patterns(wildcard: str, pattern: str) -> None:
    assert like_pattern(wildcard) == pattern
