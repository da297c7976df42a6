from __future__ import annotations

import threading

import pytest

from embedding_studio.core.errors import DuplicateKey
from embedding_studio.data_access.documents import CollectionSpec

SPEC = CollectionSpec(name="things", unique=("key",), indexed=("status",))


def test_insert_rejects_taken_id_and_taken_unique_key(store):
    things = store.collection(SPEC)
    things.insert({"_id": "a", "key": "k1", "status": "new"})
    with pytest.raises(DuplicateKey):
        things.insert({"_id": "a", "key": "k2"})
    with pytest.raises(DuplicateKey):
        things.insert({"_id": "b", "key": "k1"})
    assert things.count() == 1


def test_documents_without_a_unique_key_do_not_collide(store):
    things = store.collection(SPEC)
    things.insert({"_id": "a", "key": None})
    things.insert({"_id": "b"})
    assert things.count() == 2


def test_insert_many_new_skips_existing_and_counts_new(store):
    things = store.collection(SPEC)
    things.insert({"_id": "a", "n": 1})
    stored = things.insert_many_new(
        [{"_id": "a", "n": 9}, {"_id": "b", "n": 2}, {"_id": "c", "n": 3}]
    )
    assert stored == 2
    assert things.get("a")["n"] == 1


def test_insert_many_new_over_several_statements(store):
    # Past 1,000 rows the PostgreSQL adapter sends several INSERTs, in one transaction.
    things = store.collection(SPEC)
    things.insert_many_new([{"_id": f"d{i:04}", "n": i} for i in range(0, 2500, 2)])
    stored = things.insert_many_new([{"_id": f"d{i:04}", "n": i} for i in range(2500)])
    assert stored == 1250
    assert things.count() == 2500


def test_find_filters_sorts_and_pages(store):
    things = store.collection(SPEC)
    for i in range(10):
        things.insert(
            {"_id": f"d{i}", "status": "odd" if i % 2 else "even", "n": i, "meta": {"g": i % 3}}
        )
    odd = things.find({"status": "odd"}, sort=[("n", -1)])
    assert [d["n"] for d in odd] == [9, 7, 5, 3, 1]
    page = things.find({"status": ["odd", "even"]}, sort=[("n", 1)], skip=3, limit=3)
    assert [d["n"] for d in page] == [3, 4, 5]
    assert things.count({"meta.g": 0}) == 4
    assert things.find_one({"n": 4})["_id"] == "d4"


def test_update_is_compare_and_set(store):
    things = store.collection(SPEC)
    things.insert({"_id": "a", "status": "pending", "progress": {"done": 0}})
    assert things.update("a", {"status": "done"}, where={"status": "processing"}) is None
    updated = things.update(
        "a", {"status": "processing", "progress.done": 5}, where={"status": "pending"}
    )
    assert updated["status"] == "processing"
    assert updated["progress"] == {"done": 5}
    assert things.update("missing", {"status": "x"}) is None


def test_update_to_a_taken_unique_key_is_refused(store):
    things = store.collection(SPEC)
    things.insert({"_id": "a", "key": "k1"})
    things.insert({"_id": "b", "key": "k2"})
    with pytest.raises(DuplicateKey):
        things.update("b", {"key": "k1"})


def test_concurrent_claims_never_return_the_same_document(store):
    things = store.collection(SPEC)
    for i in range(20):
        things.insert({"_id": f"t{i:02d}", "status": "pending", "n": i})
    claimed: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        while (
            doc := things.claim({"status": "pending"}, {"status": "taken"}, sort=[("n", 1)])
        ) is not None:
            with lock:
                claimed.append(doc["_id"])

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == [f"t{i:02d}" for i in range(20)]


def test_counters_are_gap_free_under_concurrency(store):
    values: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(10):
            v = store.next_value("sessions")
            with lock:
                values.append(v)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(values) == list(range(1, 41))


def test_delete_and_update_many(store):
    things = store.collection(SPEC)
    for i in range(5):
        things.insert({"_id": f"d{i}", "status": "a" if i < 3 else "b"})
    assert things.update_many({"status": "a"}, {"status": "c"}) == 3
    assert things.count({"status": "c"}) == 3
    assert things.delete("d0") is True
    assert things.delete("d0") is False
    assert things.delete_many({"status": "c"}) == 2
    assert things.count() == 2


def test_distinct_values_of_the_matching_documents(store):
    things = store.collection(SPEC)
    for i, (session, target) in enumerate(
        [("s1", "a"), ("s1", "b"), ("s1", "a"), ("s2", "c"), ("s1", None)]
    ):
        things.insert({"_id": f"e{i}", "session": session, "meta": {"target": target}})
    things.insert({"_id": "bare", "session": "s1"})
    assert sorted(things.distinct("meta.target", {"session": "s1"}), key=str) == [None, "a", "b"]
    assert things.distinct("meta.target", {"session": "s2"}) == ["c"]
    assert things.distinct("meta.target", {"session": "nobody"}) == []
    assert sorted(things.distinct("session")) == ["s1", "s2"]


def test_greater_than_filters_numbers_and_iso_strings(store):
    from embedding_studio.data_access.documents import GreaterThan

    things = store.collection(SPEC)
    for i in range(1, 13):
        things.insert(
            {"_id": f"d{i}", "n": i, "at": f"2024-01-{i:02d}T00:00:00.000000Z", "g": i % 2}
        )
    things.insert({"_id": "none", "g": 0})
    after = things.find({"n": GreaterThan(9)}, sort=[("n", 1)])
    assert [d["n"] for d in after] == [10, 11, 12]
    assert things.count({"g": 0, "n": GreaterThan(2)}) == 5
    assert things.count({"at": GreaterThan("2024-01-10T00:00:00.000000Z")}) == 2


def test_increment_is_atomic_and_respects_the_filter(store):
    things = store.collection(SPEC)
    things.insert({"_id": "open", "status": "open"})
    things.insert({"_id": "closed", "status": "closed", "counter": 100})
    values: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(10):
            doc = things.increment({"status": "open"}, "counter")
            with lock:
                values.append(doc["counter"])

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(values) == list(range(1, 41))
    assert things.get("open")["counter"] == 40
    assert things.get("closed")["counter"] == 100
    assert things.increment({"status": "missing"}, "counter") is None
    assert things.increment({"status": "closed"}, "counter", amount=5)["counter"] == 105


def test_postgres_gin_indexes_take_inserts_directly(fresh_database_url):
    """fastupdate off, also on an index created before: inserts never stall on merging
    a pending list into the index."""
    from sqlalchemy import text

    from embedding_studio.data_access.postgres.documents import PostgresDocumentStore
    from embedding_studio.data_access.postgres.engine import create_postgres_engine

    engine = create_postgres_engine(fresh_database_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE doc_things (id varchar PRIMARY KEY, doc jsonb)"))
            conn.execute(
                text("CREATE INDEX ix_doc_things_gin ON doc_things USING gin (doc jsonb_path_ops)")
            )
        PostgresDocumentStore(engine).collection(SPEC)
        PostgresDocumentStore(engine).collection(CollectionSpec(name="fresh"))
        with engine.connect() as conn:
            options = dict(
                conn.execute(
                    text(
                        "SELECT relname, reloptions FROM pg_class "
                        "WHERE relname IN ('ix_doc_things_gin', 'ix_doc_fresh_gin')"
                    )
                ).all()
            )
        assert options == {
            "ix_doc_things_gin": ["fastupdate=off"],
            "ix_doc_fresh_gin": ["fastupdate=off"],
        }
    finally:
        engine.dispose()


def test_postgres_inserts_may_skip_waiting_for_the_disk(fresh_database_url):
    from dataclasses import replace

    from sqlalchemy import event

    from embedding_studio.data_access.postgres.documents import PostgresDocumentStore
    from embedding_studio.data_access.postgres.engine import create_postgres_engine

    engine = create_postgres_engine(fresh_database_url)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    try:
        store = PostgresDocumentStore(engine)
        durable = store.collection(SPEC)
        eager = store.collection(replace(SPEC, durable_inserts=False))
        statements.clear()
        assert durable.insert_many_new([{"_id": "a"}, {"_id": "b"}]) == 2
        assert not any("set_config" in s for s in statements)
        statements.clear()
        assert eager.insert_many_new([{"_id": "b"}, {"_id": "c"}]) == 1
        assert "set_config" in statements[0] and "INSERT" in statements[1]
        assert sorted(d["_id"] for d in durable.find()) == ["a", "b", "c"]  # one table
    finally:
        engine.dispose()
