"""Hybrid search and boosts through the REST API (real worker, model and PostgreSQL):
a rare exact term wins in hybrid mode, boosts reorder, bad options are 422s naming the
field. Assertions are scoped to this module's documents (the stack is shared)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.stack import Stack

GROUP = {"term": {"group": "hybrid-api"}}
DOCS = {
    "hy-kettle": ("An electric kettle boils water for tea in minutes.", {"views": 5}),
    "hy-teapot": ("A porcelain teapot keeps tea warm; model XK-42 has a strainer.", {}),
    "hy-stove": ("A gas stove heats pots and pans for cooking.", {"views": 5000}),
}


def _search(stack: Stack, expect: int = 200, **body: Any) -> dict[str, Any]:
    with stack.client() as client:
        response = client.post("/api/v1/embeddings/similarity-search", json=body)
    assert response.status_code == expect, response.text
    return response.json()


def _ids(found: dict[str, Any]) -> list[str]:
    return [item["object_id"] for item in found["search_results"]]


@pytest.fixture(scope="module")
def docs(stack: Stack) -> None:
    items = [
        {"object_id": key, "data": text, "payload": {"group": "hybrid-api", **extra}}
        for key, (text, extra) in DOCS.items()
    ]
    with stack.client() as client:
        response = client.post(
            "/api/v1/embeddings/upsertion-tasks/run",
            json={"items": items, "idempotency_key": "hybrid-api-docs"},
        )
    assert response.status_code == 200, response.text
    task = stack.wait_task("embeddings/upsertion-tasks", response.json()["task_id"])
    assert task["status"] == "done", task


def test_hybrid_search_fuses_full_text_and_reports_scores(stack: Stack, docs: None) -> None:
    query = "XK-42 boiling water"
    vector = _search(stack, search_query=query, filter=GROUP, limit=3)
    assert vector["search_results"][0]["score"] is None
    lexical = _search(
        stack,
        search_query=query,
        filter=GROUP,
        limit=1,
        hybrid={"vector_weight": 0, "text_query": "XK-42"},
    )
    assert _ids(lexical) == ["hy-teapot"]
    hybrid = _search(
        stack, search_query=query, filter=GROUP, limit=3, hybrid={"mode": "rrf", "rrf_k": 1}
    )
    scores = [item["score"] for item in hybrid["search_results"]]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0
    assert set(_ids(hybrid)) == set(DOCS)
    assert "data" not in hybrid["search_results"][0]["meta"]


def test_popularity_boost_reorders(stack: Stack, docs: None) -> None:
    body: dict[str, Any] = {"search_query": "boiling water for tea", "filter": GROUP, "limit": 3}
    assert _ids(_search(stack, **body))[0] == "hy-kettle"
    boost = {"type": "popularity", "field": "views", "weight": 1}
    boosted = _search(stack, **body, boosts=[boost])
    assert _ids(boosted)[0] == "hy-stove"  # ln(5001) = 8.5 beats the closer texts
    teapot = next(i for i in boosted["search_results"] if i["object_id"] == "hy-teapot")
    assert teapot["score"] == pytest.approx(1 - teapot["distance"] / 2)  # no field: no boost


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"hybrid": {"vector_weight": -1}}, "vector_weight"),
        ({"hybrid": {"text_weight": "heavy"}}, "text_weight"),
        ({"hybrid": {"text_weight": True}}, "text_weight"),
        ({"hybrid": {"vector_weight": 0, "text_weight": 0}}, "vector_weight"),
        ({"hybrid": {"mode": "bm25"}}, "mode"),
        ({"hybrid": {"rrf_k": 0}}, "rrf_k"),
        ({"hybrid": {"rrf_weight": 1}}, "rrf_weight"),
        ({"boosts": [{"type": "numeric", "field": "views", "weight": -2}]}, "weight"),
        ({"boosts": [{"type": "recency", "field": "at", "half_life_days": 0}]}, "half_life_days"),
        ({"boosts": [{"type": "numeric", "field": "no spaces"}]}, "field"),
        ({"boosts": [{"type": "random", "field": "views"}]}, "boosts"),
        ({"hybrid": {}, "sort_by": {"field": "views", "order": "desc"}}, "sort_by"),
        ({"candidates": 0}, "candidates"),
    ],
)
def test_bad_ranking_options_are_422_naming_the_field(
    stack: Stack, extra: dict[str, Any], field: str
) -> None:
    found = _search(stack, expect=422, search_query="tea", **extra)
    assert field in str(found["detail"])


def test_hybrid_needs_a_query(stack: Stack) -> None:
    found = _search(stack, expect=422, search_query="", filter=GROUP, hybrid={})
    assert "hybrid" in str(found["detail"])
