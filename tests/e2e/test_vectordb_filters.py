"""The payload filter language compiled to SQL, against real PostgreSQL: each operator and
the bool semantics on hand-made payloads (exact result sets), sorting, paging, injection."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from embedding_studio.core.errors import InvalidRequest
from embedding_studio.data_access.postgres.engine import create_postgres_engine
from embedding_studio.models.payload.models import PayloadFilter, SortByOptions
from embedding_studio.vectordb.collection import Collection
from embedding_studio.vectordb.vectordb import VectorDb
from tests.e2e.vectordb_support import ids, index_info, make_object, unique_prefix

PAYLOADS: dict[str, dict[str, Any] | None] = {
    "p1": {
        "title": "Red USB cable, 2 meters",
        "color": "red",
        "price": 5,
        "tags": ["usb", "cable"],
        "specs": {"length": 2, "color": "red"},
        "released": "2023-01-15",
        "stock": None,
    },
    "p2": {
        "title": "Blue HDMI cable",
        "color": "blue",
        "price": 12.5,
        "tags": ["hdmi", "cable"],
        "specs": {"length": 1},
        "released": "2024-03-01T10:00:00Z",
    },
    "p3": {
        "title": "Wireless mouse (red edition)",
        "color": "red",
        "price": 25,
        "tags": ["wireless"],
        "released": "2024-06-30",
        "discontinued": True,
    },
    "p4": {
        "title": "USB-C charger 100% fast",
        "color": "white",
        "price": "30",
        "tags": [],
        "sku": "CH_100",
    },
    "p5": {
        "title": "Keyboard",
        "color": "Black",
        "price": 45,
        "tags": ["wireless", "usb"],
        "specs": {"color": "black"},
        "released": "not a date",
        "NULL": "a key, not SQL NULL",
    },
    "p6": {},
    "p7": None,
}
ALL = set(PAYLOADS)


@pytest.fixture(scope="module")
def collection(postgres_url: str) -> Iterator[Collection]:
    engine = create_postgres_engine(postgres_url)
    db = VectorDb(engine, prefix=unique_prefix())
    created = db.get_or_create_collection("filters", "TestPlugin", index_info(3))
    created.upsert(
        [
            make_object(object_id, [[1.0, float(n), 0.5]], payload)
            for n, (object_id, payload) in enumerate(PAYLOADS.items())
        ]
    )
    yield created
    engine.dispose()


def matching(collection: Collection, query: dict[str, Any]) -> set[str]:
    payload_filter = PayloadFilter.model_validate({"query": query})
    found = collection.find_by_payload_filter(payload_filter, limit=100)
    assert collection.count_by_payload_filter(payload_filter) == len(found.found_objects)
    assert all(item.distance == 0.0 for item in found.found_objects)
    return set(ids(found))


CASES = [
    # term: exact JSON value; an array field matches when it holds the value
    ({"term": {"field": "color", "value": "red"}}, {"p1", "p3"}),
    ({"term": {"color": "Red"}}, set()),
    ({"term": {"price": 5}}, {"p1"}),
    ({"term": {"price": 5.0}}, {"p1"}),
    ({"term": {"price": "30"}}, {"p4"}),
    ({"term": {"price": 30}}, set()),
    ({"term": {"tags": "usb"}}, {"p1", "p5"}),
    ({"term": {"specs.color": "red"}}, {"p1"}),
    ({"term": {"discontinued": True}}, {"p3"}),
    ({"term": {"missing.field": "x"}}, set()),
    ({"exists": {"field": "NULL"}}, {"p5"}),
    ({"wildcard": {"NULL": "a key*"}}, {"p5"}),
    # terms / any / all
    ({"terms": {"field": "color", "values": ["red", "white"]}}, {"p1", "p3", "p4"}),
    ({"any": {"field": "tags", "values": ["hdmi", "wireless"]}}, {"p2", "p3", "p5"}),
    ({"all": {"field": "tags", "values": ["wireless", "usb"]}}, {"p5"}),
    ({"all": {"tags": ["cable"]}}, {"p1", "p2"}),
    # exists: present and not null; an empty array does not count
    ({"exists": {"field": "stock"}}, set()),
    ({"exists": {"field": "specs.length"}}, {"p1", "p2"}),
    ({"exists": {"field": "tags"}}, {"p1", "p2", "p3", "p5"}),
    ({"exists": {"field": "discontinued"}}, {"p3"}),
    # wildcard: * and ?, everything else literal (LIKE's % and _ too)
    ({"wildcard": {"field": "title", "value": "*cable*"}}, {"p1", "p2"}),
    ({"wildcard": {"title": "*Cable*"}}, set()),
    ({"wildcard": {"title": {"value": "*Cable*", "case_insensitive": True}}}, {"p1", "p2"}),
    ({"wildcard": {"sku": "CH_1?0"}}, {"p4"}),
    ({"wildcard": {"sku": "CH%"}}, set()),
    ({"wildcard": {"title": "*100%*"}}, {"p4"}),
    ({"wildcard": {"tags": "wire*"}}, {"p3", "p5"}),
    # range: numbers compare with numbers only, dates with date strings only
    ({"range": {"field": "price", "gte": 10, "lt": 30}}, {"p2", "p3"}),
    ({"range": {"price": {"gt": 40}}}, {"p5"}),
    ({"range": {"released": {"gte": "2024-01-01"}}}, {"p2", "p3"}),
    ({"range": {"released": {"lt": "2024-03-01T10:00:01Z", "gt": "2023-01-15"}}}, {"p2"}),
    # match: any word ('simple' configuration: case-insensitive, no stemming)
    ({"match": {"field": "title", "value": "usb keyboard"}}, {"p1", "p4", "p5"}),
    ({"match": {"title": {"query": "usb cable", "operator": "and"}}}, {"p1"}),
    ({"match": {"title": "cables"}}, set()),
    ({"match_phrase": {"title": "USB cable"}}, {"p1"}),
    ({"match_phrase": {"title": "cable usb"}}, set()),
    # bool
    (
        {
            "bool": {
                "must": [{"term": {"color": "red"}}],
                "must_not": [{"exists": {"field": "discontinued"}}],
            }
        },
        {"p1"},
    ),
    (
        {"bool": {"should": [{"term": {"color": "blue"}}, {"term": {"color": "white"}}]}},
        {"p2", "p4"},
    ),
    (
        {"bool": {"must": [{"term": {"color": "red"}}], "should": [{"term": {"price": 999}}]}},
        {"p1", "p3"},
    ),
    ({"bool": {"must_not": [{"term": {"color": "red"}}]}}, ALL - {"p1", "p3"}),
    ({"bool": {"must_not": [{"range": {"price": {"gt": 10}}}]}}, {"p1", "p4", "p6", "p7"}),
    ({"bool": {"must_not": [{"match": {"title": "cable"}}]}}, ALL - {"p1", "p2"}),
    (
        {
            "bool": {
                "should": [
                    {"term": {"color": "red"}},
                    {"term": {"tags": "usb"}},
                    {"range": {"price": {"lt": 10}}},
                ],
                "minimum_should_match": 2,
            }
        },
        {"p1"},
    ),
    ({"bool": {}}, ALL),
    (
        {
            "bool": {
                "filter": [{"exists": {"field": "tags"}}],
                "must": [
                    {
                        "bool": {
                            "should": [{"term": {"tags": "wireless"}}, {"term": {"color": "blue"}}]
                        }
                    }
                ],
                "must_not": [{"term": {"color": "Black"}}],
            }
        },
        {"p2", "p3"},
    ),
    # object columns instead of the payload
    ({"term": {"field": "object_id", "value": "p3", "force_not_payload": True}}, {"p3"}),
    ({"wildcard": {"field": "object_id", "value": "p?", "force_not_payload": True}}, ALL),
    ({"range": {"field": "created_at", "gte": "2000-01-01", "force_not_payload": True}}, ALL),
]


@pytest.mark.parametrize(("query", "expected"), CASES)
def test_filter_matches_exactly_the_expected_objects(
    collection: Collection, query: dict[str, Any], expected: set[str]
) -> None:
    assert matching(collection, query) == expected


def test_no_filter_matches_everything(collection: Collection) -> None:
    assert set(ids(collection.find_by_payload_filter(None, limit=100))) == ALL
    assert collection.count_by_payload_filter(None) == len(ALL)


def test_filter_json_is_accepted_and_errors_become_invalid_request(collection: Collection) -> None:
    assert set(ids(collection.find_by_payload_filter({"term": {"color": "blue"}}, limit=5))) == {
        "p2"
    }
    with pytest.raises(InvalidRequest, match="query"):
        collection.find_by_payload_filter(
            {"query": {"regexp": {"field": "a", "value": "x"}}}, limit=5
        )


def test_unsupported_column_filters_are_refused_with_a_hint(collection: Collection) -> None:
    with pytest.raises(InvalidRequest, match="object_id, created_at"):
        matching(
            collection, {"term": {"field": "user_id", "value": "u", "force_not_payload": True}}
        )
    with pytest.raises(InvalidRequest, match="not supported"):
        matching(
            collection, {"match": {"field": "object_id", "value": "p", "force_not_payload": True}}
        )


@pytest.mark.parametrize(
    "query",
    [
        {"term": {"color": "red' OR '1'='1"}},
        {"term": {"color": "red\"}' OR true --"}},
        {"terms": {"color": ["x'); DROP TABLE vectordb_collections; --"]}},
        {"match": {"title": "'); DROP TABLE vectordb_collections; --"}},
        {"match_phrase": {"title": "\\'; SELECT pg_sleep(5); --"}},
        {"wildcard": {"title": "%' OR 1=1 --"}},
        {"wildcard": {"title": "*\\"}},
        {"term": {"field": "object_id", "value": "p1' OR 'a'='a", "force_not_payload": True}},
    ],
)
def test_injection_strings_in_values_are_literal_no_matches(
    collection: Collection, query: dict[str, Any]
) -> None:
    assert matching(collection, query) == set()
    assert collection.count() == len(ALL)


def test_injection_strings_in_field_names_and_sort_fields_are_client_errors(
    collection: Collection,
) -> None:
    with pytest.raises(InvalidRequest, match="not a valid payload path"):
        collection.find_by_payload_filter({"term": {"a') OR 1=1 --": "x"}}, limit=5)
    with pytest.raises(InvalidRequest, match="not a valid payload path"):
        collection.find_by_payload_filter(None, limit=5, sort_by={"field": "price; DROP TABLE x"})
    with pytest.raises(ValidationError):
        SortByOptions(field="price desc, (SELECT 1)")


def test_injection_strings_in_user_ids_change_nothing(collection: Collection) -> None:
    hostile = collection.find_by_payload_filter(None, limit=100, user_id="u' OR '1'='1")
    assert set(ids(hostile)) == ALL


def test_sorting_by_a_payload_field_orders_json_values_then_missing_last(
    collection: Collection,
) -> None:
    ascending = collection.find_by_payload_filter(
        None, limit=100, sort_by=SortByOptions(field="price", order="asc")
    )
    # JSONB order: strings before numbers, numbers numerically; no value: last, by id
    assert ids(ascending) == ["p4", "p1", "p2", "p3", "p5", "p6", "p7"]
    descending = collection.find_by_payload_filter(None, limit=100, sort_by={"field": "price"})
    assert ids(descending) == ["p5", "p3", "p2", "p1", "p4", "p6", "p7"]
    by_nested = collection.find_by_payload_filter(
        {"exists": {"field": "specs"}}, limit=100, sort_by={"field": "specs.length", "order": "asc"}
    )
    assert ids(by_nested) == ["p2", "p1", "p5"]


def test_sorting_by_a_field_no_object_has_is_a_client_error(collection: Collection) -> None:
    with pytest.raises(InvalidRequest, match="sort field 'prise'"):
        collection.find_by_payload_filter(None, limit=5, sort_by={"field": "prise"})
    with pytest.raises(InvalidRequest, match="sort field 'stock'"):  # only nulls
        collection.find_by_payload_filter(None, limit=5, sort_by={"field": "stock"})


def test_payload_search_pages_partition_the_ordering(collection: Collection) -> None:
    pages: list[list[str]] = []
    offset: int | None = 0
    while offset is not None:
        page = collection.find_by_payload_filter(None, limit=3, offset=offset)
        pages.append(ids(page))
        offset = page.next_offset
    assert pages == [["p1", "p2", "p3"], ["p4", "p5", "p6"], ["p7"]]


def test_bad_limits_are_client_errors(collection: Collection) -> None:
    with pytest.raises(InvalidRequest, match="limit"):
        collection.find_by_payload_filter(None, limit=0)
    with pytest.raises(InvalidRequest, match="offset"):
        collection.find_by_payload_filter(None, limit=1, offset=-1)
