"""The interface every data source implements: fetch items' content by their metadata."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from embedding_studio.core.errors import InvalidRequest, StorageUnavailable
from embedding_studio.data_storage.loaders.downloaded_item import DownloadedItem
from embedding_studio.data_storage.loaders.item_meta import ItemMeta
from embedding_studio.data_storage.loaders.load_outcome import (
    ItemLoadFailure,
    LoadOutcome,
    outcome_in_request_order,
)

if TYPE_CHECKING:
    from datasets import Dataset, Features

logger = logging.getLogger(__name__)

NOT_RETURNED = "the loader returned nothing for this item"


class DataLoader(ABC):
    """Loads items' content from a source, by the items' metadata.

    A plugin returns one from `get_data_loader()`. The upsertion worker calls
    `load_items_with_failures`; training calls `load`; full loads (reindex from the
    source) call `total_count` and `load_all`.

    To write one, implement `load_items` (and set `item_meta_cls` to the meta class your
    items use). `load_items` may return fewer items than asked: the missing ones are
    reported as failures by `load_items_with_failures`. If it raises, the batch is retried
    item by item so that only the bad item fails. Raise `StorageUnavailable` when the
    source itself cannot be reached: that one is not retried per item but propagates,
    so the task is retried later. To support full loads, override `total_count` and
    `_load_batch_with_offset` (or `load_all`).
    """

    item_meta_cls: type[ItemMeta] = ItemMeta
    features: Features | None = None  # the `datasets` schema of `load`, when it is fixed

    @abstractmethod
    def load_items(self, items_data: list[ItemMeta]) -> list[DownloadedItem]:
        """Load the items; one `DownloadedItem` per item found, with `id == meta.id`."""

    def load_items_with_failures(self, items_data: list[ItemMeta]) -> LoadOutcome:
        """Load the items; every item that could not be loaded becomes a failure.

        Raises `StorageUnavailable` only when the source is unreachable as a whole.
        """
        if not items_data:
            return LoadOutcome()
        try:
            loaded = self.load_items(items_data)
        except StorageUnavailable:
            raise
        except Exception as exc:  # plugin code: any error is the items' failure, not ours
            if len(items_data) == 1:
                return LoadOutcome(failures=[ItemLoadFailure.of(items_data[0], _describe(exc))])
            logger.warning(
                "%s failed on a batch of %d items (%s); retrying item by item",
                type(self).__name__,
                len(items_data),
                _describe(exc),
            )
            return LoadOutcome.merge(self.load_items_with_failures([m]) for m in items_data)
        return outcome_in_request_order(items_data, loaded, NOT_RETURNED)

    def load(self, items_data: list[ItemMeta]) -> Dataset:
        """Load the items as a `datasets.Dataset` with columns `item` and `item_id`.

        Items that fail to load are logged and left out.
        """
        from datasets import Dataset

        outcome = self.load_items_with_failures(items_data)
        _log_failures(self, outcome)
        columns: dict[str, list[Any]] = {
            "item": [item.data for item in outcome.items],
            "item_id": [item.id for item in outcome.items],
        }
        return Dataset.from_dict(columns, features=self.features)

    def total_count(self) -> int | None:
        """How many items a full load would yield, or None when the source cannot say."""
        return None

    def load_all(self, batch_size: int) -> Iterator[list[DownloadedItem]]:
        """Every item of the source, in batches of at most `batch_size` items.

        Raises `InvalidRequest` when the source cannot be listed.
        """
        if batch_size <= 0:
            raise InvalidRequest(f"batch_size must be positive, got {batch_size}")
        offset = 0
        while True:
            batch = self._load_batch_with_offset(offset, batch_size)
            if not batch:
                return
            yield batch
            offset += batch_size

    def close(self) -> None:
        """Release connections and clients; the loader reconnects if used again."""
        return None

    def _load_batch_with_offset(self, offset: int, batch_size: int) -> list[DownloadedItem]:  # noqa: ARG002
        """Items `offset` .. `offset + batch_size - 1` of the source in a stable order."""
        raise InvalidRequest(
            f"{type(self).__name__} cannot list its source: load its items by metadata instead"
        )


class OutcomeDataLoader(DataLoader):
    """Base of the built-in loaders: they report failures themselves, per item.

    Subclasses implement `load_items_with_failures`; `load_items` returns the items that
    loaded and logs the failures (the seed tutorial's API).
    """

    @abstractmethod
    def load_items_with_failures(self, items_data: list[ItemMeta]) -> LoadOutcome:
        """Load the items; see `DataLoader.load_items_with_failures`."""

    def load_items(self, items_data: list[ItemMeta]) -> list[DownloadedItem]:
        """Load the items; those that could not be loaded are logged and left out."""
        outcome = self.load_items_with_failures(items_data)
        _log_failures(self, outcome)
        return outcome.items


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _log_failures(loader: DataLoader, outcome: LoadOutcome) -> None:
    for failure in outcome.failures:
        logger.warning(
            "%s could not load %s: %s", type(loader).__name__, failure.object_id, failure.detail
        )
