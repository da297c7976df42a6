"""Items stored as files under a loader's root folder."""

from __future__ import annotations

from pydantic import Field

from embedding_studio.data_storage.loaders.item_meta import ItemMeta


class LocalFileMeta(ItemMeta):
    """The file at `path`, relative to the loader's root; its id is `object_id`, else `path`."""

    path: str = Field(..., min_length=1)

    @property
    def derived_id(self) -> str:
        return self.path
