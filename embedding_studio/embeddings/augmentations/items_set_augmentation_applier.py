"""Add augmented copies of items to an items set."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datasets import Dataset


class ItemsSetAugmentationApplier:
    """Applies an augmentation to items and keeps the originals beside the variants.

    Used by the item set managers on the train split only (unless `do_augment_test`).
    Each augmented row keeps the original item's id, so clickstream labels still apply.

    :param augmentation: an `AugmentationWithRandomSelection` (e.g. an
        `AugmentationsComposition`) or any callable `item -> list of variants`.

    Example::

        ItemsSetAugmentationApplier(AugmentationsComposition([ChangeCases(5), Misspellings(5)]))
    """

    def __init__(self, augmentation: Callable[[Any], list[Any]]) -> None:
        self.augmentation = augmentation

    def augment_item(self, item: Any) -> list[Any]:
        """The variants of one item, without the item itself or duplicates."""
        variants: list[Any] = []
        for variant in self.augmentation(item):
            if variant != item and variant not in variants:
                variants.append(variant)
        return variants

    def apply_augmentation(
        self,
        items_set: Dataset,
        item_field_name: str = "item",
        id_field_name: str = "item_id",
    ) -> Dataset:
        """The original rows, then one row per variant: `{id_field_name, item_field_name}`.

        Columns other than the two named ones are not copied to augmented rows (they are
        None there).
        """
        from datasets import Dataset, concatenate_datasets

        rows = list(self._augmented_rows(items_set, item_field_name, id_field_name))
        if not rows:
            return items_set
        augmented = Dataset.from_list(rows)
        for column in items_set.column_names:
            if column not in augmented.column_names:
                augmented = augmented.add_column(column, [None] * len(augmented))
        augmented = augmented.cast(items_set.features)
        return concatenate_datasets([items_set, augmented])

    def _augmented_rows(
        self, items_set: Dataset, item_field_name: str, id_field_name: str
    ) -> Iterator[dict[str, Any]]:
        for row in items_set:
            for variant in self.augment_item(row[item_field_name]):
                yield {id_field_name: row[id_field_name], item_field_name: variant}
