"""The loader of items carried in the upsert request: nothing to fetch."""

from __future__ import annotations

from embedding_studio.data_storage.loaders.data_loader import OutcomeDataLoader
from embedding_studio.data_storage.loaders.downloaded_item import DownloadedItem
from embedding_studio.data_storage.loaders.inline.item_meta import InlineItemMeta
from embedding_studio.data_storage.loaders.item_meta import ItemMeta
from embedding_studio.data_storage.loaders.load_outcome import ItemLoadFailure, LoadOutcome


class InlineDataLoader(OutcomeDataLoader):
    """Returns each meta's own `data` (see `InlineItemMeta`) as the item's content.

    A meta without a string or dict `data` is a per-item failure.
    """

    item_meta_cls = InlineItemMeta

    def load_items_with_failures(self, items_data: list[ItemMeta]) -> LoadOutcome:
        outcome = LoadOutcome()
        for meta in items_data:
            data = getattr(meta, "data", None)
            if isinstance(data, str | dict):
                outcome.items.append(DownloadedItem(id=meta.id, data=data, meta=meta))
            else:
                outcome.failures.append(
                    ItemLoadFailure.of(meta, "an inline item needs `data`: a string or an object")
                )
        return outcome
