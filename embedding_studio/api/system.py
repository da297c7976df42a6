"""Liveness and per-dependency health."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from embedding_studio.api.deps import ContextDep
from embedding_studio.services import health

router = APIRouter(tags=["system"])


@router.get("/ping")
def ping() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/health", response_model=health.HealthReport, responses={503: {"model": health.HealthReport}}
)
def get_health(ctx: ContextDep) -> JSONResponse:
    report = health.check(ctx)
    return JSONResponse(status_code=200 if report.healthy else 503, content=report.model_dump())
