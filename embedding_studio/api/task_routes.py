"""The routes every task resource shares: info, list, restart, cancel."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from embedding_studio.api.deps import ContextDep
from embedding_studio.api.schemas.tasks import TaskIdRequest, TaskListResponse, TaskResponse
from embedding_studio.models.tasks import TaskKind, TaskStatus
from embedding_studio.services import tasks as task_service


def add_task_routes(router: APIRouter, kind: TaskKind) -> None:
    @router.get("/info", response_model=TaskResponse, summary=f"One {kind.value} task")
    def info(
        ctx: ContextDep, task_id: Annotated[str, Query(min_length=1, max_length=128)]
    ) -> TaskResponse:
        return TaskResponse.from_domain(ctx.tasks.require(task_id, kind))

    @router.get(
        "/list", response_model=TaskListResponse, summary=f"{kind.value} tasks, newest first"
    )
    def list_tasks(
        ctx: ContextDep,
        status: TaskStatus | None = None,
        skip: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(gt=0, le=500)] = 50,
    ) -> TaskListResponse:
        tasks, total = ctx.tasks.list_by_kind(kind, status=status, skip=skip, limit=limit)
        items = [TaskResponse.from_domain(t, with_parameters=False) for t in tasks]
        return TaskListResponse(items=items, total=total, skip=skip, limit=limit)

    @router.post(
        "/restart", response_model=TaskResponse, summary=f"Run a finished {kind.value} task again"
    )
    def restart(ctx: ContextDep, body: TaskIdRequest) -> TaskResponse:
        return TaskResponse.from_domain(task_service.restart(ctx, body.task_id, kind))

    @router.post(
        "/cancel",
        response_model=TaskResponse,
        summary=f"Cancel a pending or running {kind.value} task",
    )
    def cancel(ctx: ContextDep, body: TaskIdRequest) -> TaskResponse:
        return TaskResponse.from_domain(task_service.cancel(ctx, body.task_id, kind))
