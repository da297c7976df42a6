"""FastAPI dependencies: the process context and the admin key check."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyHeader

from embedding_studio.context.app_context import AppContext


# Both are `async def` although they do no I/O: FastAPI runs a sync dependency on its
# thread pool, one more hand-off per request for a dictionary lookup.
async def get_context(request: Request) -> AppContext:
    return request.app.state.context  # type: ignore[no-any-return]


ContextDep = Annotated[AppContext, Depends(get_context)]

_admin_key_header = APIKeyHeader(name="X-Admin-Key", auto_error=False)


async def require_admin_key(
    ctx: ContextDep, key: Annotated[str | None, Depends(_admin_key_header)]
) -> None:
    expected = ctx.settings.ADMIN_API_KEY
    if expected is None:
        return
    if key is None or not secrets.compare_digest(key, expected):
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="internal routes need the X-Admin-Key header set to ADMIN_API_KEY",
        )
