"""The API in-process, with each task run by the worker's handler as soon as it is
submitted (same context, no broker): for tests of plugins through the API where
separate worker processes add nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient

from embedding_studio.context.app_context import AppContext, build_context, set_context
from embedding_studio.core.config import Settings
from embedding_studio.main import create_app
from embedding_studio.models.tasks import TaskKind
from embedding_studio.workers.task_runner import Handler, run_task
from embedding_studio.workers.upsertion.handler import delete_items, upsert_items

HANDLERS: dict[TaskKind, Handler] = {
    TaskKind.upsertion: upsert_items,
    TaskKind.deletion: delete_items,
}


@contextmanager
def inline_platform(config: Settings) -> Iterator[TestClient]:
    """A client of the API over a context built from `config`, whose plugins are
    discovered in `config.ES_PLUGINS_PATH` as a process start does."""
    ctx: AppContext = build_context(config)
    ctx.enqueue = lambda kind, task_id: run_task(ctx, task_id, kind, HANDLERS[kind])
    set_context(ctx)  # plugins read `context` in __init__
    try:
        ctx.plugin_manager.discover_plugins(config.ES_PLUGINS_PATH)
        with TestClient(create_app(config, ctx=ctx)) as client:
            yield client
    finally:
        set_context(None)
        ctx.close()
