"""Sessions for improvement on both document stores."""

from __future__ import annotations

import threading

import pytest

from embedding_studio.core.errors import InvalidRequest
from embedding_studio.data_access.sessions_for_improvement import SessionsForImprovementRepository
from embedding_studio.models.improvement import SessionForImprovementCreateSchema
from embedding_studio.models.tasks import TaskStatus


def test_seed_call_queues_a_session_once_while_pending(store):
    queue = SessionsForImprovementRepository(store)
    first = queue.create(schema=SessionForImprovementCreateSchema(session_id="s1"))
    again = queue.create(schema=SessionForImprovementCreateSchema(session_id="s1"))
    assert first.id == again.id and first.status is TaskStatus.pending
    assert queue.get(first.id).session_id == "s1"
    assert queue.count(TaskStatus.pending) == 1


def test_a_claimed_session_can_be_queued_again(store):
    queue = SessionsForImprovementRepository(store)
    first = queue.create(SessionForImprovementCreateSchema(session_id="s1"))
    [claimed] = queue.claim_pending(limit=10)
    assert (claimed.id, claimed.status) == (first.id, TaskStatus.processing)
    assert claimed.started_at is not None
    second = queue.create(SessionForImprovementCreateSchema(session_id="s1"))
    assert second.id != first.id
    assert [r.id for r in queue.list(session_id="s1")] == [first.id, second.id]


def test_finish_moves_only_processing_records_to_a_final_status(store):
    queue = SessionsForImprovementRepository(store)
    record = queue.create(SessionForImprovementCreateSchema(session_id="s1"))
    assert queue.finish(record.id, TaskStatus.done) is None  # still pending
    queue.claim_pending(limit=1)
    with pytest.raises(InvalidRequest):
        queue.finish(record.id, TaskStatus.processing)
    failed = queue.finish(record.id, TaskStatus.failed, detail="no query vector")
    assert (failed.status, failed.detail) == (TaskStatus.failed, "no query vector")
    assert queue.finish(record.id, TaskStatus.done) is None  # already final


def test_concurrent_workers_never_claim_the_same_record(store):
    queue = SessionsForImprovementRepository(store)
    for i in range(30):
        queue.create(SessionForImprovementCreateSchema(session_id=f"s{i:02d}"))
    claimed: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        while batch := queue.claim_pending(limit=4):
            with lock:
                claimed.extend(r.session_id for r in batch)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == [f"s{i:02d}" for i in range(30)]
    assert queue.count(TaskStatus.processing) == 30
