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


FAILING_BOOTSTRAP_PLUGIN = """
from types import SimpleNamespace

from embedding_studio.core.plugin import FineTuningMethod
from embedding_studio.models.plugin import PluginMeta


class NoModel(FineTuningMethod):
    meta = PluginMeta(name="NoModel")

    def upload_initial_model(self):
        raise RuntimeError("model storage is misconfigured")

    def get_manager(self):
        return SimpleNamespace(get_initial_model_run_id=lambda: None)

    def get_query_retriever(self): ...
    def get_items_preprocessor(self): ...
    def get_data_loader(self): ...
    def get_inference_client_factory(self): ...
    def get_fine_tuning_builder(self, clickstream): ...
    def get_search_index_info(self): ...
    def get_vectors_adjuster(self): ...
    def get_vectordb_optimizations(self): ...
"""


def test_a_plugin_failing_its_bootstrap_is_reported_and_the_api_starts(
    fresh_database_url: str, redis_url: str, tmp_path
) -> None:
    (tmp_path / "no_model.py").write_text(FAILING_BOOTSTRAP_PLUGIN)
    config = Settings(
        POSTGRES_URL=fresh_database_url,
        REDIS_URL=redis_url,
        INFERENCE_USED_PLUGINS=["NoModel"],
        ES_PLUGINS_PATH=str(tmp_path),
    )
    ctx = build_context(config)
    ctx.plugin_manager.discover_plugins(tmp_path)
    with TestClient(create_app(config, ctx=ctx)) as test_client:
        plugins = test_client.get("/api/v1/health").json()["dependencies"]["plugins"]
    ctx.close()
    assert plugins["status"] == "error"
    assert "NoModel" in plugins["detail"]
    assert "model storage is misconfigured" in plugins["detail"]
