"""A plugin's `get_vectordb_optimizations()` is applied once per collection by the
bootstrap and recorded in the registry, so a restart (a new context over the same
database) does not apply it again."""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import Connection, Engine, create_engine, select, text

from embedding_studio.context.app_context import AppContext, build_context
from embedding_studio.core.config import settings
from embedding_studio.core.plugin import FineTuningMethod
from embedding_studio.data_access.postgres.engine import sqlalchemy_url
from embedding_studio.models.embeddings.models import SearchIndexInfo
from embedding_studio.models.plugin import PluginMeta
from embedding_studio.services.bootstrap import bootstrap
from embedding_studio.vectordb.optimization import (
    CreateFullTextIndexOptimization,
    CreatePayloadIndexOptimization,
    Optimization,
    OptimizationTarget,
)

MODEL_ID = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


class CountingTitleIndex(Optimization):
    """A payload index on `title` that counts how often it really runs."""

    name = "counting_title_index"
    runs: ClassVar[int] = 0

    def apply(self, connection: Connection, target: OptimizationTarget) -> None:
        type(self).runs += 1
        CreatePayloadIndexOptimization("title").apply(connection, target)


class _Manager:
    def get_initial_model_run_id(self) -> str:
        return MODEL_ID  # as if the initial model were already logged to MLflow


class OptimizedPlugin(FineTuningMethod):
    meta = PluginMeta(name="OptimizedPlugin", version="0.0.1", description="tests")

    def upload_initial_model(self) -> None:
        raise AssertionError("the initial model is already logged")

    def get_query_retriever(self) -> Any: ...
    def get_items_preprocessor(self) -> Any: ...
    def get_data_loader(self) -> Any: ...
    def get_inference_client_factory(self) -> Any: ...
    def get_fine_tuning_builder(self, clickstream: list[Any]) -> Any: ...
    def get_vectors_adjuster(self) -> Any: ...

    def get_manager(self) -> Any:
        return _Manager()

    def get_search_index_info(self) -> SearchIndexInfo:
        return SearchIndexInfo(dimensions=4)

    def get_vectordb_optimizations(self) -> list[Optimization]:
        return [CountingTitleIndex(), CreateFullTextIndexOptimization("body")]


def start(database_url: str) -> AppContext:
    """What a process start does: a new context, the plugin registered, the bootstrap."""
    config = settings.model_copy(
        update={
            "POSTGRES_URL": database_url,
            "DOCUMENT_STORE_URL": None,
            "INFERENCE_USED_PLUGINS": ["OptimizedPlugin"],
        }
    )
    ctx = build_context(config)
    ctx.plugin_manager.register(OptimizedPlugin)
    bootstrap(ctx)
    return ctx


def index_names(engine: Engine, table: str) -> set[str]:
    stmt = (
        select(text("indexname")).select_from(text("pg_indexes")).where(text("tablename = :table"))
    )
    with engine.connect() as connection:
        return set(connection.execute(stmt, {"table": table}).scalars())


def test_optimizations_are_applied_once_and_survive_a_restart(fresh_database_url: str) -> None:
    CountingTitleIndex.runs = 0
    first = start(fresh_database_url)
    collection = first.vectordb.get_blue_collection()
    assert collection.info.applied_optimizations == [
        "counting_title_index",
        "full_text_index:body",
    ]
    objects_table = collection.tables.objects.name
    engine = create_engine(sqlalchemy_url(fresh_database_url))
    created = index_names(engine, objects_table)
    first.close()

    restarted = start(fresh_database_url)
    assert CountingTitleIndex.runs == 1
    info = restarted.vectordb.get_blue_collection().info
    assert info.applied_optimizations == ["counting_title_index", "full_text_index:body"]
    assert index_names(engine, objects_table) == created
    assert any("_px_" in name for name in created), created  # the payload index
    assert any("_ft_" in name for name in created), created  # the full-text index
    restarted.close()
    engine.dispose()


def test_each_collection_gets_its_optimizations_once_even_with_the_same_number(
    fresh_database_url: str, postgres_url: str
) -> None:
    from tests.e2e.sdk_stack import create_database

    CountingTitleIndex.runs = 0
    first = start(fresh_database_url)  # collection number 1 in this database...
    second = start(create_database(postgres_url))  # ...and in another one, same process
    assert CountingTitleIndex.runs == 2
    for ctx in (first, second):
        info = ctx.vectordb.get_blue_collection().info
        assert info.number == 1
        assert info.applied_optimizations == ["counting_title_index", "full_text_index:body"]
        ctx.close()
