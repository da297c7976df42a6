"""Health of each dependency, with the reason when one is down."""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
import redis
from pydantic import BaseModel
from sqlalchemy import text

from embedding_studio.context.app_context import AppContext

logger = logging.getLogger(__name__)


class DependencyHealth(BaseModel):
    status: str  # "ok" or "error"
    detail: str | None = None


class HealthReport(BaseModel):
    status: str
    dependencies: dict[str, DependencyHealth]

    @property
    def healthy(self) -> bool:
        return self.status == "ok"


def _postgres(ctx: AppContext) -> str | None:
    with ctx.postgres.connect() as conn:
        conn.execute(text("SELECT 1"))
    return None


def _documents(ctx: AppContext) -> str | None:
    ctx.documents.ping()
    return "mongodb" if ctx.settings.uses_mongo else "postgresql"


def _redis(ctx: AppContext) -> str | None:
    client = redis.Redis.from_url(
        ctx.settings.REDIS_URL, socket_timeout=3, socket_connect_timeout=3
    )
    try:
        client.ping()
    finally:
        client.close()
    return None


def _mlflow(ctx: AppContext) -> str | None:
    uri = ctx.settings.MLFLOW_TRACKING_URI
    if uri.startswith("http"):
        httpx.get(f"{uri.rstrip('/')}/health", timeout=3.0).raise_for_status()
    return None


def _plugins(ctx: AppContext) -> str | None:
    failures = ctx.plugin_manager.failures
    if failures:
        reasons = "; ".join(f"{f.name or '?'} ({f.file}): {f.reason}" for f in failures)
        raise RuntimeError(f"failed plugins: {reasons}")
    return f"registered: {', '.join(ctx.plugin_manager.plugin_names) or 'none'}"


def _blue_collection(ctx: AppContext) -> str | None:
    collection = ctx.vectordb.get_blue_collection()
    return f"{collection.info.plugin_name} / {collection.info.embedding_model_id}"


CHECKS: dict[str, Callable[[AppContext], str | None]] = {
    "postgres": _postgres,
    "document_store": _documents,
    "redis": _redis,
    "mlflow": _mlflow,
    "plugins": _plugins,
    "blue_collection": _blue_collection,
}


def check(ctx: AppContext) -> HealthReport:
    dependencies: dict[str, DependencyHealth] = {}
    for name, probe in CHECKS.items():
        try:
            dependencies[name] = DependencyHealth(status="ok", detail=probe(ctx))
        except Exception as exc:  # health reports every failure instead of raising
            dependencies[name] = DependencyHealth(
                status="error", detail=f"{type(exc).__name__}: {exc}"
            )
    healthy = all(d.status == "ok" for d in dependencies.values())
    return HealthReport(status="ok" if healthy else "error", dependencies=dependencies)
