"""What the registry knows about a collection."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from embedding_studio.models.embeddings.models import SearchIndexInfo


class CollectionState(StrEnum):
    """READY: the HNSW index exists. BULK_LOADING: the index is dropped while a bulk load
    runs (searches still work, by exact scan); `finish_bulk_load` rebuilds it."""

    READY = "ready"
    BULK_LOADING = "bulk_loading"


class CollectionInfo(BaseModel):
    """A registry row: one collection per embedding model id within a (prefix, kind).

    :param number: the registry row number; the collection's tables are named after it
    :param applied_optimizations: names of the optimizations already applied, in order
    """

    embedding_model_id: str
    plugin_name: str
    search_index_info: SearchIndexInfo
    state: CollectionState
    is_blue: bool
    created_at: datetime
    applied_optimizations: list[str] = Field(default_factory=list)
    prefix: str
    kind: str
    number: int
