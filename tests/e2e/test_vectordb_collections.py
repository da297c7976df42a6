"""Collections on real PostgreSQL: migrations, registry, blue switch, bulk loads, writes,
optimizations applied once, and errors."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, MetaData, Table, func, inspect, select, text

from embedding_studio.core.errors import (
    Conflict,
    InvalidRequest,
    NotFound,
    PluginError,
    StorageUnavailable,
)
from embedding_studio.data_access.postgres.engine import create_postgres_engine
from embedding_studio.models.embeddings.models import MetricType
from embedding_studio.vectordb.collection_info import CollectionState
from embedding_studio.vectordb.migration_runner import run_migrations
from embedding_studio.vectordb.optimization import (
    CreateFullTextIndexOptimization,
    CreatePayloadIndexOptimization,
    Optimization,
    OptimizationTarget,
)
from embedding_studio.vectordb.vectordb import VectorDb
from tests.e2e.vectordb_support import ids, index_info, make_object, unique_prefix

MODEL_A = "a" * 32
MODEL_B = "b" * 32


@pytest.fixture(scope="module")
def engine(postgres_url: str) -> Iterator[Engine]:
    created = create_postgres_engine(postgres_url)
    yield created
    created.dispose()


@pytest.fixture
def db(engine: Engine) -> VectorDb:
    return VectorDb(engine, prefix=unique_prefix())


def index_names(engine: Engine, table: str) -> set[str]:
    return {str(index["name"]) for index in inspect(engine).get_indexes(table)}


def test_migrations_apply_once_even_from_concurrent_callers(engine: Engine, tmp_path: Path) -> None:
    suffix = uuid.uuid4().hex[:8]
    (tmp_path / "0001_create.py").write_text(
        "from sqlalchemy import text\n"
        "def upgrade(connection):\n"
        f"    connection.execute(text('CREATE TABLE mig_{suffix} (n INT)'))\n"
    )
    (tmp_path / "0002_fill.py").write_text(
        "from sqlalchemy import text\n"
        "def upgrade(connection):\n"
        f"    connection.execute(text('INSERT INTO mig_{suffix} VALUES (1)'))\n"
    )
    results: list[list[int]] = []
    errors: list[BaseException] = []

    def migrate() -> None:
        try:
            results.append(run_migrations(engine, tmp_path, history_table=f"mig_history_{suffix}"))
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=migrate) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results) == [[], [], [], [1, 2]]
    with engine.connect() as connection:
        assert connection.execute(text(f"SELECT count(*) FROM mig_{suffix}")).scalar() == 1
        history = Table(f"mig_history_{suffix}", MetaData(), autoload_with=connection)
        assert connection.execute(
            select(history.c.version).order_by(history.c.version)
        ).scalars().all() == [1, 2]
    run_migrations(engine)  # the real migrations: applied once...
    assert run_migrations(engine) == []  # ...then nothing left to do


def test_get_or_create_is_idempotent_and_checks_the_schema(db: VectorDb, engine: Engine) -> None:
    created = db.get_or_create_collection(MODEL_A, "PluginA", index_info(4))
    again = db.get_or_create_collection(MODEL_A, "PluginA", index_info(4))
    assert again.info.number == created.info.number
    assert [info.embedding_model_id for info in db.list_collections()] == [MODEL_A]
    assert created.info.state is CollectionState.READY and not created.info.is_blue
    assert f"{db.prefix}_c{created.info.number}_parts_hnsw" in index_names(
        engine, created.tables.parts.name
    )
    with pytest.raises(Conflict, match="exists with"):
        db.get_or_create_collection(MODEL_A, "PluginA", index_info(8))
    with pytest.raises(Conflict):
        db.get_or_create_collection(MODEL_A, "PluginA", index_info(4, metric=MetricType.DOT))


def test_concurrent_creators_get_one_collection(db: VectorDb) -> None:
    numbers: list[int] = []

    def create() -> None:
        numbers.append(db.get_or_create_collection(MODEL_B, "P", index_info(4)).info.number)

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(numbers) == 4 and len(set(numbers)) == 1


@pytest.mark.parametrize(
    "model_id", ["", "a b", "x" * 129, "id'; DROP TABLE vectordb_collections; --"]
)
def test_invalid_model_ids_are_client_errors(db: VectorDb, model_id: str) -> None:
    with pytest.raises(InvalidRequest, match="embedding_model_id"):
        db.get_or_create_collection(model_id, "P", index_info(4))
    with pytest.raises(InvalidRequest):
        db.get_collection(model_id)


def test_unknown_collection_is_not_found(db: VectorDb) -> None:
    with pytest.raises(NotFound, match="create it first"):
        db.get_collection(MODEL_A)


def test_blue_switch_is_atomic_and_read_fresh(db: VectorDb, engine: Engine) -> None:
    with pytest.raises(Conflict, match="no blue main collection yet"):
        db.get_blue_collection()
    db.get_or_create_collection(MODEL_A, "P", index_info(4))
    db.get_or_create_collection(MODEL_B, "P", index_info(4))
    other_process = VectorDb(engine, prefix=db.prefix)  # another process, same registry
    db.set_blue(MODEL_A)
    assert other_process.get_blue_collection().info.embedding_model_id == MODEL_A
    other_process.set_blue(MODEL_B)
    assert db.get_blue_collection().info.embedding_model_id == MODEL_B
    assert [info.is_blue for info in db.list_collections()] == [False, True]
    with pytest.raises(Conflict, match="is blue"):
        db.delete_collection(MODEL_B)
    categories = VectorDb(engine, prefix=db.prefix, kind="categories")
    with pytest.raises(Conflict, match="no blue categories collection"):
        categories.get_blue_collection()


def test_concurrent_blue_switches_leave_exactly_one_blue(db: VectorDb) -> None:
    models = [f"{index:032x}" for index in range(4)]
    for model in models:
        db.get_or_create_collection(model, "P", index_info(4))
    errors: list[BaseException] = []

    def switch(model: str) -> None:
        try:
            for _ in range(5):
                db.set_blue(model)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=switch, args=(model,)) for model in models]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(info.is_blue for info in db.list_collections()) == 1


def test_delete_collection_drops_its_tables(db: VectorDb, engine: Engine) -> None:
    collection = db.get_or_create_collection(MODEL_A, "P", index_info(4))
    collection.upsert([make_object("x", [[1.0, 0.0, 0.0, 0.0]])])
    db.delete_collection(MODEL_A)
    assert not inspect(engine).has_table(collection.tables.objects.name)
    with pytest.raises(NotFound):
        db.get_collection(MODEL_A)
    with pytest.raises(NotFound):
        collection.count()  # a stale handle says so instead of failing with a 500


def test_bulk_load_drops_and_rebuilds_the_hnsw_index(db: VectorDb, engine: Engine) -> None:
    collection = db.get_or_create_collection(MODEL_A, "P", index_info(4), build_index=False)
    hnsw = collection.tables.hnsw.name
    parts = collection.tables.parts.name
    assert collection.info.state is CollectionState.BULK_LOADING
    assert hnsw not in index_names(engine, parts)
    with pytest.raises(Conflict, match="bulk load"):
        db.set_blue(MODEL_A)
    collection.upsert([make_object(f"o{i}", [[1.0, i / 10, 0.0, 0.0]]) for i in range(20)])
    assert ids(collection.find_similarities([1.0, 0.0, 0.0, 0.0], limit=2)) == [
        "o0",
        "o1",
    ]  # exact scan
    collection.finish_bulk_load()
    assert hnsw in index_names(engine, parts)
    assert db.get_collection(MODEL_A).info.state is CollectionState.READY
    collection.begin_bulk_load()
    assert hnsw not in index_names(engine, parts)
    assert db.get_collection(MODEL_A).info.state is CollectionState.BULK_LOADING
    collection.finish_bulk_load()
    assert hnsw in index_names(engine, parts)
    db.set_blue(MODEL_A)
    assert ids(db.get_blue_collection().find_similarities([1.0, 0.0, 0.0, 0.0], limit=2)) == [
        "o0",
        "o1",
    ]


def test_statistics_are_refreshed_when_a_write_grows_the_collection_by_over_10pct(
    db: VectorDb, engine: Engine
) -> None:
    collection = db.get_or_create_collection(MODEL_A, "P", index_info(2))

    def planner_rows() -> float:
        with engine.connect() as connection:
            return connection.execute(
                text("SELECT reltuples FROM pg_class WHERE relname = :name"),
                {"name": collection.tables.parts.name},
            ).scalar_one()

    collection.upsert([make_object(f"o{i}", [[1.0, float(i)]]) for i in range(200)])
    assert collection.refresh_statistics(200)
    assert planner_rows() == 200
    collection.upsert([make_object(f"p{i}", [[0.0, float(i)]]) for i in range(15)])
    assert not collection.refresh_statistics(15)  # 7.5%: left to autovacuum
    assert planner_rows() == 200
    collection.upsert([make_object(f"q{i}", [[0.0, float(i)]]) for i in range(30)])
    assert collection.refresh_statistics(30)
    assert planner_rows() == 245
    assert not collection.refresh_statistics(0)


def test_upsert_replaces_objects_and_rerunning_it_writes_no_duplicates(
    db: VectorDb, engine: Engine
) -> None:
    collection = db.get_or_create_collection(MODEL_A, "P", index_info(2))
    batch = [
        make_object("a", [[1.0, 0.0], [0.0, 1.0]], {"n": 1}),
        make_object("b", [[1.0, 1.0]], {"n": 2}),
    ]
    collection.upsert(batch)
    collection.upsert(batch)
    collection.upsert([make_object("a", [[0.5, 0.5]], {"n": 3})])
    with engine.connect() as connection:
        count = select(func.count()).select_from(collection.tables.parts)
        assert connection.execute(count).scalar() == 2
    (a,) = collection.find_by_ids(["a"])
    assert a.payload == {"n": 3}
    assert [part.vector for part in a.parts] == [pytest.approx([0.5, 0.5])]
    (b,) = collection.find_by_ids(["b"], with_vectors=False)
    assert [(part.part_id, part.vector) for part in b.parts] == [("b:0", [])]
    assert [obj.object_id for obj in collection.find_by_ids(["b", "zzz", "a", "b"])] == ["b", "a"]
    assert collection.list_object_ids() == ["a", "b"]
    assert collection.list_object_ids(after="a") == ["b"]


def test_upsert_checks_vectors_and_is_all_or_nothing(db: VectorDb) -> None:
    collection = db.get_or_create_collection(MODEL_A, "P", index_info(2))
    good = make_object("good", [[1.0, 0.0]])
    with pytest.raises(InvalidRequest, match="'bad' part 'bad:0'.*dimensions|shape"):
        collection.upsert([good, make_object("bad", [[1.0, 0.0, 0.0]])])
    with pytest.raises(InvalidRequest, match="NaN"):
        collection.upsert([good, make_object("bad", [[float("nan"), 0.0]])])
    with pytest.raises(InvalidRequest, match="at least one part"):
        collection.upsert([good, make_object("bad", [])])
    with pytest.raises(InvalidRequest, match="JSON"):
        collection.upsert([make_object("bad", [[1.0, 0.0]], {"x": float("nan")})])
    with pytest.raises(InvalidRequest, match="PostgreSQL rejected"):
        collection.upsert([good, make_object("bad", [[1.0, 0.0]], {"x": "nul\u0000"})])
    assert collection.count() == 0


def test_delete_returns_removed_rows_and_ignores_unknown_ids(db: VectorDb) -> None:
    collection = db.get_or_create_collection(MODEL_A, "P", index_info(2))
    collection.upsert([make_object("a", [[1.0, 0.0]]), make_object("b", [[0.0, 1.0]])])
    assert collection.delete(["a", "zzz"]) == 1
    assert collection.delete([]) == 0
    assert collection.list_object_ids() == ["b"]


class CountingOptimization(Optimization):
    name = "counting"

    def __init__(self) -> None:
        self.runs = 0

    def apply(self, connection: Connection, target: OptimizationTarget) -> None:
        self.runs += 1
        assert target.info.embedding_model_id == MODEL_A
        assert target.objects.name.endswith("_objects")


class FailingOptimization(Optimization):
    name = "failing"

    def apply(self, connection: Connection, target: OptimizationTarget) -> None:
        raise RuntimeError("boom")


def test_optimizations_are_applied_once_per_collection(db: VectorDb, engine: Engine) -> None:
    collection = db.get_or_create_collection(MODEL_A, "P", index_info(2))
    counting = CountingOptimization()
    optimizations = [
        CreatePayloadIndexOptimization("specs.price"),
        CreateFullTextIndexOptimization("title"),
        counting,
    ]
    collection.apply_optimizations(optimizations)
    assert counting.runs == 1
    assert collection.info.applied_optimizations == [
        "payload_index:specs.price",
        "full_text_index:title",
        "counting",
    ]
    restarted = VectorDb(engine, prefix=db.prefix).get_collection(MODEL_A)  # a new process
    assert restarted.info.applied_optimizations == collection.info.applied_optimizations
    restarted.apply_optimizations(optimizations)
    assert counting.runs == 1
    indexes = index_names(engine, collection.tables.objects.name)
    assert (
        sum(name.startswith(f"{db.prefix}_c{collection.info.number}_px_") for name in indexes) == 1
    )
    assert (
        sum(name.startswith(f"{db.prefix}_c{collection.info.number}_ft_") for name in indexes) == 1
    )

    with pytest.raises(PluginError, match="'failing'.*boom"):
        restarted.apply_optimizations([FailingOptimization()])
    assert "failing" not in db.get_collection(MODEL_A).info.applied_optimizations

    collection.upsert(
        [make_object("t", [[1.0, 0.0]], {"title": "Fast USB charger", "specs": {"price": 3}})]
    )
    assert ids(collection.find_by_payload_filter({"match": {"title": "usb"}}, limit=5)) == ["t"]


def test_an_unreachable_server_is_storage_unavailable(tmp_path: Path) -> None:
    engine = create_postgres_engine(f"postgresql://postgres@/nowhere?host={tmp_path}")
    try:
        with pytest.raises(StorageUnavailable, match="PostgreSQL"):
            VectorDb(engine, prefix="unreachable").list_collections()
    finally:
        engine.dispose()
