"""Which queue and actor handle each task kind. The API enqueues by name through this
table, so it never imports worker code (or the models the workers load)."""

from __future__ import annotations

from dataclasses import dataclass

from embedding_studio.models.tasks import TaskKind


@dataclass(frozen=True)
class Route:
    queue_name: str
    actor_name: str


ROUTES: dict[TaskKind, Route] = {
    TaskKind.upsertion: Route("upsertion_worker", "upsertion_worker"),
    TaskKind.deletion: Route("deletion_worker", "deletion_worker"),
    TaskKind.categories_upsertion: Route("upsertion_worker", "categories_upsertion_worker"),
    TaskKind.categories_deletion: Route("deletion_worker", "categories_deletion_worker"),
    TaskKind.reindex: Route("reindex_worker", "reindex_worker"),
    TaskKind.reindex_subtask: Route("reindex_subworker", "reindex_subworker"),
    TaskKind.fine_tuning: Route("fine_tuning_worker", "fine_tuning_worker"),
    TaskKind.model_deployment: Route("model_deployment_worker", "model_deployment_worker"),
    TaskKind.model_deletion: Route("model_deletion_worker", "model_deletion_worker"),
    TaskKind.improvement: Route("improvement_worker", "improvement_worker"),
}
