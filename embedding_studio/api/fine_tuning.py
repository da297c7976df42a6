"""Fine-tuning task routes: submit, info, list, restart, cancel."""

from __future__ import annotations

from fastapi import APIRouter

from embedding_studio.api.deps import ContextDep
from embedding_studio.api.schemas.fine_tuning import FineTuningTaskRequest
from embedding_studio.api.schemas.tasks import TaskResponse
from embedding_studio.api.task_routes import add_task_routes
from embedding_studio.models.tasks import TaskKind
from embedding_studio.services import fine_tuning

router = APIRouter(prefix="/fine-tuning/task", tags=["fine-tuning"])


@router.post("", response_model=TaskResponse)
def create_fine_tuning_task(body: FineTuningTaskRequest, ctx: ContextDep) -> TaskResponse:
    """Start fine-tuning (see the request's description). Idempotent by `task_id` and
    by `idempotency_key`: a repeated request returns the stored task (`created: false`)."""
    task, created = fine_tuning.submit_fine_tuning(ctx, body)
    return TaskResponse.from_domain(task, created=created)


add_task_routes(router, TaskKind.fine_tuning)
