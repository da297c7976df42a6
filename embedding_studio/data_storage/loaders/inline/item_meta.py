"""Items whose content travels inside the upsert request itself."""

from __future__ import annotations

from typing import Any

from embedding_studio.data_storage.loaders.item_meta import ItemMeta


class InlineItemMeta(ItemMeta):
    """An item carried in the request: `data` is its content (text, or a dict of fields)."""

    object_id: str
    data: str | dict[str, Any]
