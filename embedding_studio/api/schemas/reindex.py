"""Reindex task requests and the collections' blue/green view."""

from __future__ import annotations

from pydantic import BaseModel, Field

from embedding_studio.models.common import UtcDatetime
from embedding_studio.services.reindex import CollectionSummary
from embedding_studio.vectordb.collection_info import CollectionState

MODEL_ID_PATTERN = r"^[A-Za-z0-9_\-]{1,64}$"


class ReindexRequest(BaseModel):
    source_model_id: str = Field(
        ..., pattern=MODEL_ID_PATTERN, description="Embedding model whose collection is copied"
    )
    dest_model_id: str = Field(
        ...,
        pattern=MODEL_ID_PATTERN,
        description="Embedding model (MLflow run id) whose collection receives the copy",
    )
    deploy_as_blue: bool = Field(
        False, description="Make the destination blue once every object is copied"
    )
    wait_on_conflict: bool = Field(
        False,
        description="When another reindex uses these collections: wait for it (true) "
        "or refuse with 409 (false)",
    )
    task_id: str | None = Field(None, min_length=1, max_length=128)
    idempotency_key: str | None = Field(None, min_length=1, max_length=256)


class SetBlueRequest(BaseModel):
    embedding_model_id: str = Field(..., pattern=MODEL_ID_PATTERN)


class CollectionResponse(BaseModel):
    embedding_model_id: str
    plugin_name: str
    state: CollectionState
    is_blue: bool
    created_at: UtcDatetime
    objects: int = Field(..., description="Original objects")
    personalised_copies: int
    synced_with: list[str] = Field(
        ..., description="Collections that receive this one's upsertions and deletions too"
    )
    delete_after: UtcDatetime | None = Field(
        None, description="When a later reindex may delete it (a blue replaced by a switch)"
    )

    @classmethod
    def from_summary(cls, summary: CollectionSummary) -> CollectionResponse:
        info = summary.info
        return cls(
            embedding_model_id=info.embedding_model_id,
            plugin_name=info.plugin_name,
            state=info.state,
            is_blue=info.is_blue,
            created_at=info.created_at,
            objects=summary.objects,
            personalised_copies=summary.personalised_copies,
            synced_with=summary.synced_with,
            delete_after=summary.delete_after,
        )


class CollectionListResponse(BaseModel):
    items: list[CollectionResponse]
    blue_model_id: str | None
