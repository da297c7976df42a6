"""Clickstream batches on both document stores: one open batch, gap-free numbers, releases."""

from __future__ import annotations

import random
import threading
from collections import defaultdict

import pytest

from embedding_studio.core.errors import Conflict, DuplicateKey, InvalidRequest
from embedding_studio.data_access.clickstream import SESSIONS
from embedding_studio.data_access.clickstream_batches import BATCHES, OPEN_KEY
from embedding_studio.models.clickstream.session_batches import SessionBatchStatus
from tests.contract.clickstream_helpers import make_dao, make_event, make_session


def test_the_store_refuses_a_second_open_batch(store):
    dao = make_dao(store)
    dao.register_session(make_session("s1"))
    with pytest.raises(DuplicateKey):
        store.collection(BATCHES).insert(
            {"_id": "second", "status": "collecting", "open_key": OPEN_KEY}
        )


def test_release_closes_the_open_batch_once_per_release_id(store):
    dao = make_dao(store)
    assert dao.release_batch("r0") is None  # nothing registered yet
    for i in range(3):
        dao.register_session(make_session(f"s{i}"))
    released = dao.release_batch("r1")
    assert (released.status, released.session_counter, released.release_id) == (
        SessionBatchStatus.released,
        3,
        "r1",
    )
    assert dao.release_batch("r1").batch_id == released.batch_id  # a retried release
    assert dao.release_batch("r2") is None  # the new open batch is empty
    opened = dao.get_open_batch()
    assert opened.batch_id != released.batch_id and opened.session_counter == 0
    after = dao.register_session(make_session("s9"))
    assert (after.batch_id, after.session_number) == (opened.batch_id, 1)
    assert dao.get_session("s0").batch_id == released.batch_id


def test_batch_sessions_are_paged_by_number_with_their_events(store):
    dao = make_dao(store)
    for i in range(5):
        dao.register_session(make_session(f"s{i}"))
        dao.push_events([make_event(f"s{i}", f"e{k}", seconds_ago=10 - k) for k in range(3)])
    batch = dao.release_batch("r1")
    first = dao.get_batch_sessions(batch.batch_id, limit=2, events_limit=2)
    assert [s.session_number for s in first] == [1, 2]
    assert [len(s.events) for s in first] == [2, 2]
    assert [e.event_id for e in first[0].events] == ["e0", "e1"]
    rest = dao.get_batch_sessions(batch.batch_id, after_number=first[-1].session_number)
    assert [s.session_id for s in rest] == ["s2", "s3", "s4"]
    assert all(len(s.events) == 3 for s in rest)
    assert dao.get_batch_sessions(batch.batch_id, after_number=5) == []
    assert dao.count_batch_sessions(batch.batch_id) == 5


def test_batch_status_moves_on_but_never_back_to_collecting(store):
    dao = make_dao(store)
    dao.register_session(make_session("s1"))
    open_id = dao.get_open_batch().batch_id
    with pytest.raises(Conflict):
        dao.update_batch_status(open_id, SessionBatchStatus.fine_tuning)
    dao.release_batch("r1")
    assert dao.update_batch_status(open_id, SessionBatchStatus.fine_tuning).status is (
        SessionBatchStatus.fine_tuning
    )
    with pytest.raises(InvalidRequest):
        dao.update_batch_status(open_id, SessionBatchStatus.collecting)
    assert dao.update_batch_status("missing", SessionBatchStatus.archived) is None


def test_concurrent_registrations_and_releases_number_every_session_exactly_once(store):
    dao = make_dao(store)
    ids = [f"s{i:03d}" for i in range(120)]
    errors: list[BaseException] = []
    stop = threading.Event()

    def client(seed: int) -> None:
        order = ids[:]
        random.Random(seed).shuffle(order)  # every client registers every id: heavy duplication
        try:
            for session_id in order[:40]:
                dao.register_session(make_session(session_id))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    def releaser() -> None:
        n = 0
        while not stop.is_set():
            dao.release_batch(f"r{n}")
            n += 1

    clients = [threading.Thread(target=client, args=(seed,)) for seed in range(8)]
    release_thread = threading.Thread(target=releaser)
    release_thread.start()
    for t in clients:
        t.start()
    for t in clients:
        t.join()
    stop.set()
    release_thread.join()
    assert errors == []

    sessions = store.collection(SESSIONS).find()
    registered = {s["_id"] for s in sessions}
    numbers: dict[str, list[int]] = defaultdict(list)
    for s in sessions:
        numbers[s["batch_id"]].append(s["session_number"])
    batches = store.collection(BATCHES).find()
    assert sum(1 for b in batches if b["status"] == "collecting") == 1
    assert len(batches) > 2  # releases really ran during the registrations
    for batch in batches:
        assert sorted(numbers.get(batch["_id"], [])) == list(range(1, batch["session_counter"] + 1))
    assert sum(len(v) for v in numbers.values()) == len(registered)
