"""An item's content as a loader fetched it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from embedding_studio.data_storage.loaders.item_meta import ItemMeta


@dataclass
class DownloadedItem:
    """One loaded item.

    `id` equals `meta.id`. `data` is what the source holds, in the loader's form: `str`
    for text loaders, `dict` for JSON and row loaders, `bytes` for raw ones (a custom
    loader may return anything its plugin's preprocessor accepts, an image for example).
    """

    id: str
    data: Any
    meta: ItemMeta
