"""Query parsing into categories through the API: a 32-category product tree upserted
through the categories task endpoints into the built-in categories plugin's collection;
queries get their category and its ancestors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from embedding_studio.context.app_context import build_context
from embedding_studio.core.config import Settings
from embedding_studio.main import create_app
from tests.e2e.category_tree import CATEGORIES, QUERIES, ancestors
from tests.e2e.stack import Stack

UPSERTION = "categories/upsertion-tasks"
DELETION = "categories/deletion-tasks"


def post(stack: Stack, path: str, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
    with stack.client() as client:
        response = client.post(f"/api/v1/{path}", json=body)
    assert response.status_code == status, response.text
    return response.json()


def category_item(category_id: str, parent: str | None, text: str) -> dict[str, Any]:
    return {
        "object_id": category_id,
        "data": text,
        "payload": {"name": text.split(":")[0], "parent_id": parent},
    }


def parse(stack: Stack, query: str, **extra: Any) -> list[dict[str, Any]]:
    return post(stack, "parse-query/categories", {"query": query, **extra})["categories"]


@pytest.fixture(scope="module")
def category_tree(sdk_stack: Stack) -> dict[str, Any]:
    items = [category_item(c, parent, text) for c, (parent, text) in CATEGORIES.items()]
    task = post(sdk_stack, f"{UPSERTION}/run", {"items": items})
    return sdk_stack.wait_task(UPSERTION, task["task_id"], timeout_s=300)


def test_categories_are_upserted_through_their_own_task(category_tree: dict[str, Any]) -> None:
    assert category_tree["status"] == "done", category_tree
    assert category_tree["kind"] == "categories_upsertion"
    assert category_tree["result"]["written"] == len(CATEGORIES)


@pytest.mark.parametrize(("query", "leaf"), list(QUERIES.items()))
def test_a_query_gets_its_category_and_the_ancestors(
    sdk_stack: Stack, category_tree: dict[str, Any], query: str, leaf: str
) -> None:
    assert category_tree["status"] == "done"
    found = parse(sdk_stack, query)
    assert {c["object_id"] for c in found} == {leaf, *ancestors(leaf)}, found
    assert found[0]["object_id"] == leaf  # the closest of the equally confident
    assert all(c["confidence"] > 0.5 for c in found)
    assert found[0]["payload"]["parent_id"] == CATEGORIES[leaf][0]


def test_the_plugin_can_be_named_and_the_response_says_which_model_answered(
    sdk_stack: Stack, category_tree: dict[str, Any]
) -> None:
    assert category_tree["status"] == "done"
    response = post(
        sdk_stack,
        "parse-query/categories",
        {
            "query": "noise cancelling wireless earbuds",
            "plugin_name": "HFCategoriesTextFineTuningMethod",
        },
    )
    assert response["plugin_name"] == "HFCategoriesTextFineTuningMethod"
    assert response["embedding_model_id"]
    assert response["categories"][0]["object_id"] == "headphones"


def test_a_plugin_without_categories_is_a_404_naming_it(sdk_stack: Stack) -> None:
    body = {"query": "earbuds", "plugin_name": "CustomTextPlugin"}
    detail = post(sdk_stack, "parse-query/categories", body, status=404)["detail"]
    assert "CustomTextPlugin" in detail


def test_an_unrelated_query_gets_no_category(
    sdk_stack: Stack, category_tree: dict[str, Any]
) -> None:
    assert category_tree["status"] == "done"
    assert parse(sdk_stack, "the history of the roman senate") == []


def test_a_deleted_category_is_no_longer_predicted(
    sdk_stack: Stack, category_tree: dict[str, Any]
) -> None:
    assert category_tree["status"] == "done"
    watch = category_item(
        "smartwatches",
        "electronics",
        "Smartwatches: smart watches and fitness trackers worn on the wrist",
    )
    task = post(sdk_stack, f"{UPSERTION}/run", {"items": [watch]})
    assert sdk_stack.wait_task(UPSERTION, task["task_id"])["status"] == "done"
    query = "wrist fitness tracker with heart rate"
    assert {c["object_id"] for c in parse(sdk_stack, query)} == {"smartwatches", "electronics"}

    task = post(sdk_stack, f"{DELETION}/run", {"object_ids": ["smartwatches"]})
    deleted = sdk_stack.wait_task(DELETION, task["task_id"])
    assert deleted["status"] == "done" and deleted["result"] == {"deleted": 1}
    assert "smartwatches" not in {c["object_id"] for c in parse(sdk_stack, query)}


@pytest.fixture
def bare_api(fresh_database_url: str, redis_url: str) -> Iterator[TestClient]:
    config = Settings(
        POSTGRES_URL=fresh_database_url,
        REDIS_URL=redis_url,
        MLFLOW_TRACKING_URI="http://127.0.0.1:9",
        INFERENCE_USED_PLUGINS=[],
    )
    ctx = build_context(config)
    with TestClient(create_app(config, ctx=ctx)) as client:
        yield client
    ctx.close()


def test_parsing_before_any_categories_collection_is_a_409_saying_what_to_do(
    bare_api: TestClient,
) -> None:
    response = bare_api.post("/api/v1/parse-query/categories", json={"query": "shoes"})
    assert response.status_code == 409
    assert "blue categories collection" in response.json()["detail"]
    blank = bare_api.post("/api/v1/parse-query/categories", json={"query": "  "})
    assert blank.status_code == 422 and "non-empty" in blank.text
    response = bare_api.post(
        "/api/v1/categories/upsertion-tasks/run",
        json={"items": [{"object_id": "a", "data": "A"}]},
    )
    assert response.status_code == 409
