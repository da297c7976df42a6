"""plugins/custom/example_text_plugin.py works as its README says: enabled by name, it
loads products from PostgreSQL through its custom query generator, and they are found
by meaning through the API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from embedding_studio.core.config import Settings
from embedding_studio.data_access.postgres.engine import create_postgres_engine
from tests.e2e.inline_platform import inline_platform
from tests.e2e.sdk_stack import create_database
from tests.e2e.stack import REPO_ROOT

SCHEMA = """
CREATE TABLE brands (id integer PRIMARY KEY, name text NOT NULL);
CREATE TABLE products (
    id integer PRIMARY KEY,
    title text NOT NULL,
    description text,
    brand_id integer REFERENCES brands (id),
    in_stock boolean NOT NULL DEFAULT true
);
"""
BRANDS = [{"id": 1, "name": "Northwind"}, {"id": 2, "name": "Fjordline"}]
PRODUCTS = [
    (1, "Trail running shoes", "Light shoes with a grippy sole for muddy trails.", 1, True),
    (2, "Espresso machine", "Pulls rich espresso shots and steams milk for lattes.", 2, True),
    (3, "Down sleeping bag", "Keeps you warm on winter camping trips below zero.", 1, True),
    (4, "Mechanical keyboard", "Tactile switches for fast typing and gaming.", 2, True),
    (5, "Old rain jacket", "A waterproof shell, discontinued.", 1, False),
]


@pytest.fixture
def products_url(fresh_database_url: str) -> str:
    engine = create_postgres_engine(fresh_database_url)
    with engine.begin() as connection:
        for statement in SCHEMA.split(";"):
            if statement.strip():
                connection.execute(text(statement))
        connection.execute(text("INSERT INTO brands (id, name) VALUES (:id, :name)"), BRANDS)
        connection.execute(
            text(
                "INSERT INTO products (id, title, description, brand_id, in_stock) "
                "VALUES (:id, :title, :description, :brand_id, :in_stock)"
            ),
            [
                dict(zip(("id", "title", "description", "brand_id", "in_stock"), row, strict=True))
                for row in PRODUCTS
            ],
        )
    engine.dispose()
    return fresh_database_url


@pytest.fixture
def api(
    products_url: str,
    postgres_url: str,
    redis_url: str,
    mlflow_uri: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[TestClient]:
    monkeypatch.setenv("EXAMPLE_PRODUCTS_POSTGRES_URL", products_url)
    config = Settings(
        POSTGRES_URL=create_database(postgres_url),
        REDIS_URL=redis_url,
        MLFLOW_TRACKING_URI=mlflow_uri,
        MODEL_CACHE_DIR=str(tmp_path / "models"),
        ES_PLUGINS_PATH=str(REPO_ROOT / "plugins" / "custom"),
        INFERENCE_USED_PLUGINS=["ExampleTextPlugin"],
    )
    with inline_platform(config) as client:
        yield client


def search(api: TestClient, query: str) -> list[dict[str, Any]]:
    response = api.post("/api/v1/embeddings/similarity-search", json={"search_query": query})
    assert response.status_code == 200, response.text
    return response.json()["search_results"]


def test_the_example_plugin_loads_products_from_postgres_and_finds_them(api: TestClient) -> None:
    health = api.get("/api/v1/health").json()["dependencies"]
    assert health["plugins"] == {"status": "ok", "detail": "registered: ExampleTextPlugin"}

    items = [
        {"object_id": f"product-{row[0]}", "item_info": {"object_id": str(row[0])}}
        for row in PRODUCTS
    ]
    submitted = api.post("/api/v1/embeddings/upsertion-tasks/run", json={"items": items})
    assert submitted.status_code == 200, submitted.text
    task_id = submitted.json()["task_id"]
    task = api.get("/api/v1/embeddings/upsertion-tasks/info", params={"task_id": task_id}).json()
    assert task["status"] == "done", task
    assert task["result"]["written"] == 4
    # the query generator keeps products in stock: the discontinued one is not found
    assert [(f["object_id"], f["stage"]) for f in task["failed_items"]] == [("product-5", "load")]

    assert search(api, "shoes for running in the mud")[0]["object_id"] == "product-1"
    assert search(api, "coffee maker for cappuccino")[0]["object_id"] == "product-2"
    assert search(api, "staying warm in a tent in the snow")[0]["object_id"] == "product-3"
    assert search(api, "Fjordline keyboard")[0]["object_id"] == "product-4"  # brand joined in


def test_the_example_plugin_gets_its_payload_index_once(api: TestClient) -> None:
    ctx = api.app.state.context  # type: ignore[attr-defined]
    info = ctx.vectordb.get_blue_collection().info
    assert info.plugin_name == "ExampleTextPlugin"
    assert info.applied_optimizations == ["payload_index:brand"]
