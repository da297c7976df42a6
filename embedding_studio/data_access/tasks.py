"""Tasks of every kind in one collection, with the lifecycle rules enforced by
compare-and-set updates in the document store (so concurrent workers and API calls
cannot move a task backwards or finish a canceled one)."""

from __future__ import annotations

from typing import Any

from embedding_studio.core.errors import Conflict, DuplicateKey, NotFound
from embedding_studio.data_access.documents import CollectionSpec, DocumentStore
from embedding_studio.models.common import to_iso
from embedding_studio.models.tasks import (
    FailedItem,
    Task,
    TaskKind,
    TaskProgress,
    TaskStatus,
    utc_now,
)

TASKS = CollectionSpec(
    name="tasks", unique=("idempotency_key",), indexed=("kind", "status", "created_at")
)

# A redelivered message may find its task `processing`: the broker redelivers only when
# the worker that held it died, so the task is resumable rather than busy.
STARTABLE = [TaskStatus.pending.value, TaskStatus.processing.value]
ACTIVE = [TaskStatus.pending.value, TaskStatus.processing.value]


def _to_document(task: Task) -> dict[str, Any]:
    document = task.model_dump(mode="json")
    document["_id"] = document.pop("task_id")
    if task.idempotency_key is not None:
        # Keys are scoped by kind: the same client key for two kinds means two tasks.
        document["idempotency_key"] = f"{task.kind.value}:{task.idempotency_key}"
    return document


def _from_document(document: dict[str, Any]) -> Task:
    data = dict(document)
    data["task_id"] = data.pop("_id")
    if key := data.get("idempotency_key"):
        data["idempotency_key"] = key.split(":", 1)[1]
    return Task.model_validate(data)


def _now() -> str:
    return to_iso(utc_now())


class TaskRepository:
    def __init__(self, store: DocumentStore) -> None:
        self._tasks = store.collection(TASKS)

    def create_once(self, task: Task) -> tuple[Task, bool]:
        """Store the task; if its id or (kind, idempotency key) is taken, return the
        stored task instead. The second value says whether this call created it."""
        try:
            self._tasks.insert(_to_document(task))
            return task, True
        except DuplicateKey:
            existing = self.get(task.task_id)
            if existing is None and task.idempotency_key is not None:
                existing = self.get_by_key(task.kind, task.idempotency_key)
            if existing is None:
                raise
            return existing, False

    def get(self, task_id: str) -> Task | None:
        document = self._tasks.get(task_id)
        return _from_document(document) if document else None

    def require(self, task_id: str, kind: TaskKind | None = None) -> Task:
        task = self.get(task_id)
        if task is None or (kind is not None and task.kind is not kind):
            label = kind.value if kind else "task"
            raise NotFound(f"{label} task {task_id!r} does not exist")
        return task

    def get_by_key(self, kind: TaskKind, idempotency_key: str) -> Task | None:
        document = self._tasks.find_one({"idempotency_key": f"{kind.value}:{idempotency_key}"})
        return _from_document(document) if document else None

    def list_by_kind(
        self,
        kind: TaskKind,
        status: TaskStatus | None = None,
        skip: int = 0,
        limit: int = 50,
        parent_id: str | None = None,
        parameters: dict[str, str] | None = None,
    ) -> tuple[list[Task], int]:
        """Tasks of `kind`, newest first; `parameters` keeps those whose parameters hold
        these values (equality on each named parameter)."""
        where: dict[str, Any] = {"kind": kind.value}
        if status is not None:
            where["status"] = status.value
        if parent_id is not None:
            where["parent_id"] = parent_id
        for name, value in (parameters or {}).items():
            where[f"parameters.{name}"] = value
        documents = self._tasks.find(where, sort=[("created_at", -1)], skip=skip, limit=limit)
        return [_from_document(d) for d in documents], self._tasks.count(where)

    def start(self, task_id: str) -> Task | None:
        """Move a pending (or interrupted) task to processing; None if it must not run."""
        current = self.get(task_id)
        if current is None:
            return None
        document = self._tasks.update(
            task_id,
            {
                "status": TaskStatus.processing.value,
                "attempts": current.attempts + 1,
                "started_at": to_iso(current.started_at) if current.started_at else _now(),
                "updated_at": _now(),
            },
            where={"status": STARTABLE},
        )
        return _from_document(document) if document else None

    def report_progress(
        self,
        task_id: str,
        progress: TaskProgress,
        failed_items: list[FailedItem] | None = None,
        result: dict[str, Any] | None = None,
    ) -> Task | None:
        """Record progress while the task is processing; None once it was canceled."""
        changes: dict[str, Any] = {
            "progress": progress.model_dump(mode="json"),
            "updated_at": _now(),
        }
        if failed_items is not None:
            changes["failed_items"] = [f.model_dump(mode="json") for f in failed_items]
        if result is not None:
            changes["result"] = result
        document = self._tasks.update(
            task_id, changes, where={"status": TaskStatus.processing.value}
        )
        return _from_document(document) if document else None

    def finish(
        self,
        task_id: str,
        status: TaskStatus,
        detail: str | None = None,
        result: dict[str, Any] | None = None,
    ) -> Task | None:
        """Move a processing (or pending, for refusals) task to a final status.
        A canceled task is never moved again: the call then returns None."""
        changes: dict[str, Any] = {
            "status": status.value,
            "detail": detail,
            "updated_at": _now(),
            "finished_at": _now() if status.is_final else None,
        }
        if result is not None:
            changes["result"] = result
        document = self._tasks.update(task_id, changes, where={"status": ACTIVE})
        return _from_document(document) if document else None

    def cancel(self, task_id: str) -> Task:
        task = self.require(task_id)
        document = self._tasks.update(
            task_id,
            {"status": TaskStatus.canceled.value, "updated_at": _now(), "finished_at": _now()},
            where={"status": ACTIVE},
        )
        if document is None:
            raise Conflict(
                f"task {task_id} is {task.status.value}; "
                "only pending or processing tasks can be canceled"
            )
        return _from_document(document)

    def reset_for_restart(self, task_id: str) -> Task:
        task = self.require(task_id)
        finals = [
            s.value
            for s in (TaskStatus.done, TaskStatus.failed, TaskStatus.refused, TaskStatus.canceled)
        ]
        document = self._tasks.update(
            task_id,
            {
                "status": TaskStatus.pending.value,
                "detail": None,
                "progress": TaskProgress().model_dump(mode="json"),
                "failed_items": [],
                "updated_at": _now(),
                "finished_at": None,
            },
            where={"status": finals},
        )
        if document is None:
            raise Conflict(
                f"task {task_id} is {task.status.value}; "
                "wait until it finishes or cancel it before restarting"
            )
        return _from_document(document)

    def delete(self, task_id: str) -> bool:
        return self._tasks.delete(task_id)

    def is_canceled(self, task_id: str) -> bool:
        task = self.get(task_id)
        return task is not None and task.status is TaskStatus.canceled
