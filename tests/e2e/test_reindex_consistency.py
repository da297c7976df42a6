"""The reindex's consistency rules on real PostgreSQL, without models: the guarded copy
(objects changed or deleted after they were read are never written stale), the id-range
plan, the sync links, and the deletion of retired collections after the retention."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from embedding_studio.context.app_context import AppContext, build_context
from embedding_studio.core.config import Settings
from embedding_studio.data_access.reindex_links import ReindexLinkRepository, pair_id
from embedding_studio.models.tasks import utc_now
from embedding_studio.vectordb.collection import Collection
from embedding_studio.vectordb.vectordb import VectorDb
from embedding_studio.workers.reindex.guarded_write import (
    Window,
    list_range,
    read_source,
    write_if_unchanged,
)
from embedding_studio.workers.reindex.retention import remove_expired
from embedding_studio.workers.reindex.subtasks import plan_ranges
from tests.e2e.vectordb_support import index_info, make_object, unique_prefix

A, B, C, D = ("a" * 32, "b" * 32, "c" * 32, "d" * 32)


@pytest.fixture
def ctx(fresh_database_url: str) -> Iterator[AppContext]:
    settings = Settings(_env_file=None, POSTGRES_URL=fresh_database_url)  # type: ignore[call-arg]
    context = build_context(settings)
    yield context
    context.close()


def _collection(db: VectorDb, model_id: str) -> Collection:
    return db.get_or_create_collection(model_id, "TestPlugin", index_info(3))


def _fill(collection: Collection, object_ids: list[str], topic: str = "old") -> None:
    collection.upsert([make_object(i, [[1.0, 0.0, 0.0]], {"topic": topic}) for i in object_ids])


def _rebuilt(object_ids: list[str]) -> list:
    """What the destination model would make of these objects."""
    return [make_object(i, [[0.0, 1.0, 0.0]], {"topic": "old"}) for i in object_ids]


@pytest.fixture
def pair(postgres_url: str) -> Iterator[tuple[Engine, Collection, Collection]]:
    from embedding_studio.data_access.postgres.engine import create_postgres_engine

    engine = create_postgres_engine(postgres_url)
    db = VectorDb(engine, prefix=unique_prefix())
    yield engine, _collection(db, A), _collection(db, B)
    engine.dispose()


def test_copy_skips_objects_changed_after_the_read_and_drops_deleted_ones(pair) -> None:
    engine, source, dest = pair
    _fill(source, ["x1", "x2", "x3", "x4"])
    _fill(dest, ["x0", "x3", "x9"])  # x0: deleted from the source long ago
    read = read_source(engine, source, ["x1", "x2", "x3"])
    assert sorted(read.versions) == ["x1", "x2", "x3"]
    _fill(source, ["x2"], topic="new")  # upserted meanwhile (and mirrored by its worker)
    source.delete(["x3"])  # deleted meanwhile

    outcome = write_if_unchanged(
        engine, source, dest, read, _rebuilt(["x1", "x2", "x3"]), Window(None, "x3")
    )

    assert outcome.changed == ["x2"]
    assert outcome.written == 1
    kept = {o.object_id: o for o in dest.find_by_ids(["x0", "x1", "x2", "x3", "x9"])}
    assert sorted(kept) == ["x1", "x9"]  # x9 lies outside the window: not this batch's
    assert kept["x1"].parts[0].vector == pytest.approx([0.0, 1.0, 0.0])
    again = read_source(engine, source, outcome.changed)
    assert again.objects[0].payload == {"topic": "new"}


def test_object_that_fails_to_embed_again_is_not_left_stale(pair) -> None:
    engine, source, dest = pair
    _fill(source, ["y1", "y2"])
    _fill(dest, ["y1", "y2"])
    read = read_source(engine, source, ["y1", "y2"])
    outcome = write_if_unchanged(engine, source, dest, read, _rebuilt(["y1"]), None)
    assert (outcome.written, outcome.changed) == (1, [])
    assert [o.object_id for o in dest.find_by_ids(["y1", "y2"])] == ["y1"]


def test_personalised_copies_are_not_read_for_copying(pair) -> None:
    engine, source, _ = pair
    _fill(source, ["z1"])
    source.upsert([make_object("z1_u1", [[0.0, 0.0, 1.0]], user_id="u1", original_id="z1")])
    read = read_source(engine, source, ["z1", "z1_u1"])
    assert [o.object_id for o in read.objects] == ["z1"]
    assert source.list_object_ids() == ["z1"]


def test_plan_covers_every_id_with_an_open_last_range(pair) -> None:
    _, source, _ = pair
    _fill(source, [f"p{n:02d}" for n in range(25)])
    plan = plan_ranges(source, 10)
    assert plan == [(None, "p09", 10), ("p09", "p19", 10), ("p19", None, 5)]
    exact = plan_ranges(source, 5)
    assert exact[-1] == ("p24", None, 0)  # ids added later still fall in a range


def test_ranges_cover_every_id_once_in_the_database_order(pair) -> None:
    engine, source, _ = pair
    # Case and punctuation order differently under most collations than in Python.
    object_ids = ["a-1", "A_2", "b", "B", "a.3", "Z", "z", "_x", "ä", "10", "9"]
    _fill(source, object_ids)
    seen: list[str] = []
    for after, last, _planned in plan_ranges(source, 3):
        cursor = after
        while True:
            batch = list_range(engine, source, Window(cursor, last), 2)
            seen.extend(batch)
            if len(batch) < 2:
                break
            cursor = batch[-1]
    assert sorted(seen) == sorted(object_ids) and len(seen) == len(set(seen))


def test_retired_collection_is_deleted_once_retention_passed(ctx: AppContext) -> None:
    db, links = ctx.vectordb, ReindexLinkRepository(ctx.documents)
    for model_id in (A, B, C, D):
        _collection(db, model_id)
    db.set_blue(B)
    past, future = utc_now() - timedelta(seconds=1), utc_now() + timedelta(hours=1)
    links.open(A, B, "t1")
    links.close(A, B, past, retire=A)  # A was blue, B replaced it: A retires
    links.open(B, C, "t2")
    links.close(B, C, future, retire=None)  # still within retention
    links.open(C, D, "t3")
    links.close(C, D, past, retire=B)  # B is blue (rolled back to): never deleted

    deleted = remove_expired(ctx)

    assert deleted == [A]
    assert sorted(i.embedding_model_id for i in db.list_collections()) == [B, C, D]
    assert [(link.source, link.dest) for link in links.all()] == [(B, C)]


def test_link_of_the_finishing_reindex_and_copying_links_are_kept(ctx: AppContext) -> None:
    db, links = ctx.vectordb, ReindexLinkRepository(ctx.documents)
    for model_id in (A, B, C):
        _collection(db, model_id)
    db.set_blue(C)
    past = utc_now() - timedelta(seconds=1)
    links.open(A, B, "t1")
    links.close(A, B, past, retire=A)
    links.open(B, C, "t2")  # copying: never expires

    assert remove_expired(ctx, keep_link_id=pair_id(A, B)) == []
    assert len(links.all()) == 2
    assert remove_expired(ctx) == [A]
