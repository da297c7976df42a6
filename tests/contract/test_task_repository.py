from __future__ import annotations

import pytest

from embedding_studio.core.errors import Conflict, NotFound
from embedding_studio.data_access.locks import LockRepository
from embedding_studio.data_access.tasks import TaskRepository
from embedding_studio.models.tasks import Task, TaskKind, TaskProgress, TaskStatus


def _task(**kw) -> Task:
    return Task(kind=TaskKind.upsertion, parameters={"items": [1, 2]}, **kw)


def test_create_once_returns_stored_task_for_reused_key(store):
    tasks = TaskRepository(store)
    first, created = tasks.create_once(_task(idempotency_key="k"))
    again, created_again = tasks.create_once(_task(idempotency_key="k"))
    assert created and not created_again
    assert again.task_id == first.task_id
    assert again.idempotency_key == "k"


def test_same_key_for_another_kind_is_another_task(store):
    tasks = TaskRepository(store)
    a, _ = tasks.create_once(_task(idempotency_key="k"))
    b, created = tasks.create_once(Task(kind=TaskKind.deletion, idempotency_key="k"))
    assert created and a.task_id != b.task_id


def test_create_once_with_reused_id_returns_the_stored_task(store):
    tasks = TaskRepository(store)
    first, _ = tasks.create_once(_task(task_id="fixed"))
    again, created = tasks.create_once(
        Task(kind=TaskKind.upsertion, task_id="fixed", parameters={"other": 1})
    )
    assert not created and again.parameters == first.parameters


def test_lifecycle_pending_processing_done(store):
    tasks = TaskRepository(store)
    task, _ = tasks.create_once(_task())
    started = tasks.start(task.task_id)
    assert started.status is TaskStatus.processing and started.attempts == 1
    tasks.report_progress(task.task_id, TaskProgress(done=1, total=2))
    done = tasks.finish(task.task_id, TaskStatus.done, result={"written": 2})
    assert done.status is TaskStatus.done and done.result == {"written": 2}
    assert done.progress.done == 1 and done.finished_at is not None
    assert tasks.start(task.task_id) is None


def test_interrupted_task_can_be_started_again(store):
    tasks = TaskRepository(store)
    task, _ = tasks.create_once(_task())
    tasks.start(task.task_id)
    again = tasks.start(task.task_id)  # the redelivered message after a worker died
    assert again.status is TaskStatus.processing and again.attempts == 2


def test_canceled_task_is_never_marked_done(store):
    tasks = TaskRepository(store)
    task, _ = tasks.create_once(_task())
    tasks.start(task.task_id)
    tasks.cancel(task.task_id)
    assert tasks.report_progress(task.task_id, TaskProgress(done=2)) is None
    assert tasks.finish(task.task_id, TaskStatus.done) is None
    assert tasks.get(task.task_id).status is TaskStatus.canceled
    assert tasks.is_canceled(task.task_id)


def test_cancel_of_finished_task_is_a_conflict(store):
    tasks = TaskRepository(store)
    task, _ = tasks.create_once(_task())
    tasks.start(task.task_id)
    tasks.finish(task.task_id, TaskStatus.done)
    with pytest.raises(Conflict):
        tasks.cancel(task.task_id)


def test_restart_only_when_not_running(store):
    tasks = TaskRepository(store)
    task, _ = tasks.create_once(_task())
    tasks.start(task.task_id)
    with pytest.raises(Conflict):
        tasks.reset_for_restart(task.task_id)
    tasks.finish(task.task_id, TaskStatus.failed, detail="boom")
    restarted = tasks.reset_for_restart(task.task_id)
    assert restarted.status is TaskStatus.pending and restarted.detail is None


def test_list_pages_by_status_newest_first(store):
    tasks = TaskRepository(store)
    ids = [tasks.create_once(_task())[0].task_id for _ in range(5)]
    tasks.start(ids[0])
    page, total = tasks.list_by_kind(TaskKind.upsertion, status=TaskStatus.pending, skip=1, limit=2)
    assert total == 4
    assert [t.task_id for t in page] == [ids[3], ids[2]]
    with pytest.raises(NotFound):
        tasks.require("nope")


def test_locks_exclude_other_owners_until_expiry(store):
    locks = LockRepository(store)
    assert locks.acquire("reindex", "a", ttl_s=60)
    assert not locks.acquire("reindex", "b", ttl_s=60)
    assert locks.acquire("reindex", "a", ttl_s=60)
    assert locks.holder("reindex") == "a"
    assert not locks.release("reindex", "b")
    assert locks.release("reindex", "a")
    assert locks.acquire("reindex", "b", ttl_s=-1)  # an already expired lock
    assert locks.acquire("reindex", "c", ttl_s=60)
