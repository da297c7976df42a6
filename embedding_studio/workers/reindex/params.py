"""The parameters a reindex task and its subtasks carry (`Task.parameters`)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ReindexParams(BaseModel):
    """Copy every original object of `source_model_id`'s collection into
    `dest_model_id`'s, embedded with the destination model; then make it blue when
    `deploy_as_blue`. `wait_on_conflict`: queue behind a reindex of the same collections
    instead of being refused."""

    source_model_id: str
    dest_model_id: str
    deploy_as_blue: bool = False
    wait_on_conflict: bool = False


class RangeParams(BaseModel):
    """One subtask: the source's original objects with `after < object_id <= last`
    (None: unbounded). `planned` is how many there were when the reindex was planned."""

    source_model_id: str
    dest_model_id: str
    index: int = Field(..., ge=0)
    after: str | None = None
    last: str | None = None
    planned: int = Field(0, ge=0)
