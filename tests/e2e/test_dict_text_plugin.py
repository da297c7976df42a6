"""The built-in dict plugin (HFDictTextFineTuningMethod) through the API: JSON-object
items split by field, found by string and object queries."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from embedding_studio.core.config import Settings
from tests.e2e.inline_platform import inline_platform
from tests.e2e.stack import REPO_ROOT

PRODUCTS: dict[str, dict[str, Any]] = {
    "jacket": {
        "title": "Storm shell jacket",
        "description": "A waterproof and breathable jacket for hiking in heavy rain.",
        "tags": ["outdoor", "rainwear"],
        "price": 180,
    },
    "kettle": {
        "title": "Electric kettle",
        "description": "Boils a litre of water for tea in two minutes.",
        "tags": ["kitchen"],
    },
    "novel": {
        "title": "The Silent Harbour",
        "description": "A detective novel set in a fishing village on a foggy coast.",
        "tags": ["books", "crime fiction"],
    },
    "manual": {
        "title": "Bicycle repair manual",
        # Long enough to be split into several parts of at most 256 tokens.
        "description": " ".join(
            f"Step {n}: check the chain, the brakes and the tyre pressure of the bike."
            for n in range(60)
        ),
        "tags": ["cycling"],
    },
}


@pytest.fixture
def api(
    fresh_database_url: str, redis_url: str, mlflow_uri: str, tmp_path: Path
) -> Iterator[TestClient]:
    config = Settings(
        POSTGRES_URL=fresh_database_url,
        REDIS_URL=redis_url,
        MLFLOW_TRACKING_URI=mlflow_uri,
        MODEL_CACHE_DIR=str(tmp_path / "models"),
        ES_PLUGINS_PATH=str(REPO_ROOT / "plugins"),
        INFERENCE_USED_PLUGINS=["HFDictTextFineTuningMethod"],
    )
    with inline_platform(config) as client:
        yield client


def search(api: TestClient, query: str | dict[str, Any]) -> list[str]:
    response = api.post("/api/v1/embeddings/similarity-search", json={"search_query": query})
    assert response.status_code == 200, response.text
    return [r["object_id"] for r in response.json()["search_results"]]


def test_json_items_are_split_by_field_and_found_by_meaning(api: TestClient) -> None:
    items = [{"object_id": key, "data": data} for key, data in PRODUCTS.items()]
    items.append({"object_id": "empty", "data": {}})
    submitted = api.post("/api/v1/embeddings/upsertion-tasks/run", json={"items": items})
    assert submitted.status_code == 200, submitted.text
    task_id = submitted.json()["task_id"]
    task = api.get("/api/v1/embeddings/upsertion-tasks/info", params={"task_id": task_id}).json()
    assert task["status"] == "done", task
    assert task["result"]["written"] == len(PRODUCTS)
    assert [(f["object_id"], f["stage"]) for f in task["failed_items"]] == [("empty", "split")]

    assert search(api, "rain gear for a hike")[0] == "jacket"
    assert search(api, "something to make tea")[0] == "kettle"
    assert search(api, "a mystery book")[0] == "novel"
    assert search(api, {"title": "fixing bike brakes"})[0] == "manual"

    ctx = api.app.state.context  # type: ignore[attr-defined]
    [manual] = ctx.vectordb.get_blue_collection().find_by_ids(["manual"], with_vectors=False)
    assert len(manual.parts) >= 2
