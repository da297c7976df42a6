"""The API against real PostgreSQL and Redis, with no plugin registered."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from embedding_studio.context.app_context import build_context
from embedding_studio.core.config import Settings
from embedding_studio.main import create_app


@pytest.fixture
def client(fresh_database_url: str, redis_url: str) -> Iterator[TestClient]:
    config = Settings(
        POSTGRES_URL=fresh_database_url,
        REDIS_URL=redis_url,
        MLFLOW_TRACKING_URI="http://127.0.0.1:9",  # nothing listens: health must say so
        INFERENCE_USED_PLUGINS=[],
        ADMIN_API_KEY="secret",
    )
    ctx = build_context(config)
    with TestClient(create_app(config, ctx=ctx)) as test_client:
        yield test_client
    ctx.close()


def test_ping(client: TestClient) -> None:
    assert client.get("/api/v1/ping").json() == {"status": "ok"}


def test_health_reports_each_dependency_with_the_reason(client: TestClient) -> None:
    response = client.get("/api/v1/health")
    assert response.status_code == 503
    dependencies = response.json()["dependencies"]
    assert dependencies["postgres"]["status"] == "ok"
    assert dependencies["document_store"] == {"status": "ok", "detail": "postgresql"}
    assert dependencies["redis"]["status"] == "ok"
    assert (
        dependencies["mlflow"]["status"] == "error"
        and "ConnectError" in dependencies["mlflow"]["detail"]
    )
    assert dependencies["blue_collection"]["status"] == "error"


def test_search_before_any_collection_is_a_409_saying_what_to_do(client: TestClient) -> None:
    response = client.post("/api/v1/embeddings/similarity-search", json={"search_query": "hello"})
    assert response.status_code == 409
    assert "blue" in response.json()["detail"]


def test_unknown_task_is_a_404(client: TestClient) -> None:
    response = client.get("/api/v1/embeddings/upsertion-tasks/info", params={"task_id": "nope"})
    assert response.status_code == 404
    assert "nope" in response.json()["detail"]


def test_openapi_lists_the_public_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/embeddings/upsertion-tasks/run",
        "/api/v1/embeddings/similarity-search",
        "/api/v1/embeddings/payload-search",
        "/api/v1/health",
    ):
        assert path in paths


def test_internal_routes_need_the_admin_key(client: TestClient) -> None:
    path = "/api/v1/internal/collections"
    refused = client.get(path)
    assert refused.status_code == 401
    assert "X-Admin-Key" in refused.json()["detail"]
    assert client.get(path, headers={"X-Admin-Key": "wrong"}).status_code == 401
    assert client.get(path, headers={"X-Admin-Key": "secret"}).status_code == 200


def test_internal_routes_are_not_mounted_when_disabled(
    fresh_database_url: str, redis_url: str
) -> None:
    config = Settings(
        POSTGRES_URL=fresh_database_url,
        REDIS_URL=redis_url,
        INFERENCE_USED_PLUGINS=[],
        INTERNAL_API_ENABLED=False,
    )
    ctx = build_context(config)
    with TestClient(create_app(config, ctx=ctx)) as test_client:
        assert test_client.get("/api/v1/internal/clickstream/batch").status_code == 404
        assert test_client.get("/api/v1/ping").status_code == 200
    ctx.close()
