"""The FastAPI application: `uvicorn embedding_studio.main:app`.

The app is created at import (uvicorn needs the object) but connects to nothing until
its lifespan starts, which builds the context, discovers plugins and bootstraps the
initial model and blue collection on a first start."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from embedding_studio.api import system
from embedding_studio.api.deps import require_admin_key
from embedding_studio.context.app_context import AppContext, current_context, set_context
from embedding_studio.core.config import Settings, settings
from embedding_studio.core.errors import (
    Conflict,
    EmbeddingStudioError,
    InvalidRequest,
    NotFound,
    StorageUnavailable,
    TaskRefused,
)

logger = logging.getLogger(__name__)

HTTP_STATUS: dict[type[EmbeddingStudioError], int] = {
    NotFound: 404,
    Conflict: 409,
    InvalidRequest: 422,
    TaskRefused: 409,
    StorageUnavailable: 503,
}


async def on_domain_error(request: Request, exc: Exception) -> JSONResponse:
    status = next((code for kind, code in HTTP_STATUS.items() if isinstance(exc, kind)), 500)
    if status >= 500:
        logger.error("%s %s failed: %s", request.method, request.url.path, exc)
    headers = {"Retry-After": "5"} if status == 503 else None
    return JSONResponse(status_code=status, content={"detail": str(exc)}, headers=headers)


def _public_router() -> APIRouter:
    from embedding_studio.api import (
        categories,
        clickstream,
        experiments,
        fine_tuning,
        search,
        suggesting,
        upsertion,
    )

    router = APIRouter(prefix="/api/v1")
    router.include_router(clickstream.router)
    router.include_router(system.router)
    router.include_router(upsertion.upsertion_router)
    router.include_router(upsertion.deletion_router)
    router.include_router(search.router)
    router.include_router(suggesting.router)
    router.include_router(fine_tuning.router)
    router.include_router(categories.parse_router)
    router.include_router(categories.upsertion_router)
    router.include_router(categories.deletion_router)
    router.include_router(experiments.router)  # admin key: see the router
    return router


def _internal_router() -> APIRouter:
    from embedding_studio.api import clickstream, inference_deployment, reindex

    router = APIRouter(prefix="/api/v1/internal", dependencies=[Depends(require_admin_key)])
    router.include_router(clickstream.internal_router)
    router.include_router(inference_deployment.router)
    router.include_router(reindex.reindex_router)
    router.include_router(reindex.collections_router)
    return router


def create_app(config: Settings = settings, ctx: AppContext | None = None) -> FastAPI:
    """Build the app. Tests pass their own context; otherwise the lifespan builds it."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from embedding_studio.services.bootstrap import bootstrap

        context = ctx
        if context is None:
            context = await run_in_threadpool(current_context)
        else:
            set_context(context)
        app.state.context = context
        await run_in_threadpool(bootstrap, context)
        # Everything loaded so far (torch, the models, the plugins) lives as long as the
        # process: keep it out of the garbage collector's full passes, which otherwise
        # walk it all and stall requests for 100-350 ms each.
        gc.collect()
        gc.freeze()
        yield

    app = FastAPI(
        title="Embedding Studio",
        version="0.1.0",
        description="Search that improves itself from user behaviour.",
        lifespan=lifespan,
    )
    app.add_exception_handler(EmbeddingStudioError, on_domain_error)
    app.include_router(_public_router())
    if config.INTERNAL_API_ENABLED:
        app.include_router(_internal_router())
    return app


app = create_app()
