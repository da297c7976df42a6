"""Requests that add, replace or delete items in a collection."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

OBJECT_ID_PATTERN = r"^[^\x00-\x1f]{1,256}$"


class UpsertionItem(BaseModel):
    """One item. Either `data` carries its content inline (text or a JSON object), or
    `item_info` describes where the plugin's data loader finds it (e.g. a row id, an
    S3 bucket and file)."""

    object_id: str = Field(..., pattern=OBJECT_ID_PATTERN, description="Your id of the item")
    payload: dict[str, Any] | None = Field(None, description="Stored with the item; filterable")
    item_info: dict[str, Any] = Field(default_factory=dict, description="Loader metadata")
    data: str | dict[str, Any] | None = Field(None, description="Inline content (skips the loader)")


class UpsertionRequest(BaseModel):
    items: list[UpsertionItem] = Field(..., min_length=1)
    embedding_model_id: str | None = Field(
        None, description="Target collection; the blue collection when omitted"
    )
    task_id: str | None = Field(None, min_length=1, max_length=128)
    idempotency_key: str | None = Field(None, min_length=1, max_length=256)


class DeletionRequest(BaseModel):
    object_ids: list[str] = Field(..., min_length=1)
    embedding_model_id: str | None = None
    task_id: str | None = Field(None, min_length=1, max_length=128)
    idempotency_key: str | None = Field(None, min_length=1, max_length=256)
