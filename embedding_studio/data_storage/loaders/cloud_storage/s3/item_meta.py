"""Items stored as objects in an S3 bucket."""

from __future__ import annotations

from pydantic import Field

from embedding_studio.data_storage.loaders.item_meta import ItemMeta


class S3FileMeta(ItemMeta):
    """The object `file` (its key) in `bucket`; its id is `object_id`, else `"bucket/file"`."""

    bucket: str = Field(..., min_length=1)
    file: str = Field(..., min_length=1)

    @property
    def derived_id(self) -> str:
        return f"{self.bucket}/{self.file}"
