"""The seed tutorial's plugin, written from the tutorial's own code into a plugin folder,
enabled by name, loads articles from PostgreSQL through its custom query generator and
serves upsertion and search through the API with a real worker."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.sdk_stack import ARTICLES
from tests.e2e.seed_tutorial import CHECKED_IN_COPY, PYTHON_BLOCK, SEEDS_DIR, tutorial_blocks
from tests.e2e.stack import Stack

UPSERTION = "embeddings/upsertion-tasks"


def post(stack: Stack, path: str, body: dict[str, Any]) -> dict[str, Any]:
    with stack.client() as client:
        response = client.post(f"/api/v1/{path}", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def search(stack: Stack, query: str, limit: int = 3) -> list[dict[str, Any]]:
    found = post(stack, "embeddings/similarity-search", {"search_query": query, "limit": limit})
    return found["search_results"]


@pytest.fixture(scope="module")
def indexed(sdk_stack: Stack) -> dict[str, Any]:
    items = [
        {
            "object_id": f"article-{row_id}",
            "item_info": {"object_id": str(row_id)},
            "payload": {"title": title},
        }
        for row_id, (title, *_) in ARTICLES.items()
    ]
    items.append({"object_id": "article-999", "item_info": {"object_id": "999"}})
    task = post(sdk_stack, f"{UPSERTION}/run", {"items": items})
    return sdk_stack.wait_task(UPSERTION, task["task_id"], timeout_s=300)


def test_the_checked_in_copy_of_the_tutorial_code_is_current() -> None:
    copy = PYTHON_BLOCK.findall(CHECKED_IN_COPY.read_text(encoding="utf-8"))
    assert len(copy) > 5
    if SEEDS_DIR.is_dir():
        assert copy == tutorial_blocks(), "update tests/e2e/data/seed_001_python_blocks.txt"


def test_the_tutorial_plugin_is_registered_and_serves_the_blue_collection(
    sdk_stack: Stack,
) -> None:
    with sdk_stack.client() as client:
        health = client.get("/api/v1/health").json()["dependencies"]
    assert health["plugins"]["status"] == "ok", health["plugins"]
    registered = health["plugins"]["detail"].removeprefix("registered: ").split(", ")
    assert sorted(registered) == ["CustomTextPlugin", "HFCategoriesTextFineTuningMethod"]
    assert health["blue_collection"]["detail"].startswith("CustomTextPlugin /")


def test_items_are_loaded_from_postgres_by_item_info(indexed: dict[str, Any]) -> None:
    assert indexed["status"] == "done", indexed
    assert indexed["result"]["written"] == len(ARTICLES)
    [failed] = indexed["failed_items"]
    assert failed["object_id"] == "article-999" and failed["stage"] == "load"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("how do I bake bread with a starter", "article-1"),
        ("preparing to run 42 km", "article-2"),
        ("gravitational lensing of light", "article-3"),
        ("which GPU to buy for video games", "article-4"),
        ("cutting back dormant rose bushes", "article-5"),
    ],
)
def test_search_finds_the_article_by_meaning(
    sdk_stack: Stack, indexed: dict[str, Any], query: str, expected: str
) -> None:
    assert indexed["status"] == "done"
    results = search(sdk_stack, query)
    assert results[0]["object_id"] == expected, results
    row_id = expected.removeprefix("article-")
    assert results[0]["payload"] == {"title": ARTICLES[int(row_id)][0]}
    assert results[0]["meta"]["object_id"] == row_id  # the PgsqlFileMeta it was loaded by


def test_the_author_and_category_joined_by_the_query_generator_are_embedded(
    sdk_stack: Stack, indexed: dict[str, Any]
) -> None:
    assert indexed["status"] == "done"
    by_maria = [r["object_id"] for r in search(sdk_stack, "articles written by Maria Rossi", 2)]
    assert sorted(by_maria) == ["article-1", "article-5"]
