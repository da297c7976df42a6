"""The base of item set managers: preprocessing, splitting and augmentation of items."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from embedding_studio.embeddings.augmentations.items_set_augmentation_applier import (
    ItemsSetAugmentationApplier,
)
from embedding_studio.embeddings.splitters.dataset_splitter import (
    PART_ID_FIELD_NAME,
    make_part_id,
)

if TYPE_CHECKING:
    from datasets import Dataset, DatasetDict

    from embedding_studio.embeddings.data.preprocessors.preprocessor import (
        ItemsDatasetDictPreprocessor,
    )
    from embedding_studio.embeddings.splitters.dataset_splitter import ItemsSetSplitter

logger = logging.getLogger(__name__)

AUGMENTED_FIELD_NAME = "augmented"
TRAIN_SPLIT = "train"


class ItemSetManager:
    """Prepares a plugin's items for embedding (per item) and for training (datasets).

    Per item, use `manager.preprocessor` (see `ItemsDatasetDictPreprocessor`).
    For training, `manager.preprocess(dataset)` turns a loader's `DatasetDict` into
    parts, in this order:

    1. normalize fields: the loader's item/id columns become `item`/`item_id`;
    2. convert each item to text (`preprocessor.convert`);
    3. augment: the `train` split always (when an augmenter is set), other splits only
       if `do_augment_test`; the original text is kept beside its variants;
    4. split every text into parts with the splitter (or keep it whole).

    Each output split has one row per part: `item_id` (the original item's id),
    `part_id` (`"<item_id>:<n>"`, numbered over the item's parts, original text first),
    `item` (the part's text) and `augmented` (whether the part comes from a variant).
    Items without text are skipped with a warning.

    :param preprocessor: the per-item preprocessor; it receives `items_set_splitter`.
    :param items_set_splitter: splits texts into parts, or None to keep them whole.
    :param augmenter: an `ItemsSetAugmentationApplier`, or an augmentation / callable
        `text -> list of variants` (wrapped in one).
    :param do_augment_test: also augment splits other than `train`.
    """

    def __init__(
        self,
        preprocessor: ItemsDatasetDictPreprocessor,
        items_set_splitter: ItemsSetSplitter | None = None,
        augmenter: ItemsSetAugmentationApplier | Callable[[Any], list[Any]] | None = None,
        do_augment_test: bool = False,
    ) -> None:
        self.preprocessor = preprocessor
        self.preprocessor.splitter = items_set_splitter
        self.splitter = items_set_splitter
        if augmenter is not None and not isinstance(augmenter, ItemsSetAugmentationApplier):
            augmenter = ItemsSetAugmentationApplier(augmenter)
        self.augmenter = augmenter
        self.do_augment_test = do_augment_test

    @property
    def field_normalizer(self) -> Any:
        """The `DatasetFieldsNormalizer` the preprocessor uses."""
        return self.preprocessor.field_normalizer

    @property
    def id_field_name(self) -> str:
        """The normalized id column (`item_id`)."""
        return self.preprocessor.get_id_field_name()

    @property
    def item_field_name(self) -> str:
        """The normalized item column (`item`)."""
        return self.preprocessor.get_item_field_name()

    def preprocess(self, dataset: DatasetDict) -> DatasetDict:
        """Normalize, convert, augment (train only unless `do_augment_test`) and split
        every split of `dataset`; see the class docstring for the output rows."""
        from datasets import DatasetDict

        if not isinstance(dataset, DatasetDict):
            raise TypeError(
                f"preprocess expects a DatasetDict, got {type(dataset).__name__}; "
                "use preprocess_split for a single Dataset"
            )
        return DatasetDict(
            {
                name: self.preprocess_split(
                    split, augment=name == TRAIN_SPLIT or self.do_augment_test
                )
                for name, split in dataset.items()
            }
        )

    def preprocess_split(self, dataset: Dataset, augment: bool = False) -> Dataset:
        """One split: normalize, convert, augment if `augment` (and an augmenter is
        set), split into parts."""
        from datasets import Dataset, Features, Value

        normalized = self.field_normalizer(dataset)
        rows = list(self._part_rows(normalized, augment and self.augmenter is not None))
        features = Features(
            {
                self.id_field_name: Value("string"),
                PART_ID_FIELD_NAME: Value("string"),
                self.item_field_name: Value("string"),
                AUGMENTED_FIELD_NAME: Value("bool"),
            }
        )
        if not rows:
            return Dataset.from_dict({name: [] for name in features}, features=features)
        return Dataset.from_list(rows, features=features)

    def _part_rows(self, dataset: Dataset, augment: bool) -> Iterator[dict[str, Any]]:
        skipped = 0
        for row in dataset:
            item_id = row[self.id_field_name]
            text = self.preprocessor.convert(row[self.item_field_name])
            texts = [(text, False)]
            if augment and self.augmenter is not None:
                texts += [(variant, True) for variant in self.augmenter.augment_item(text)]
            index = 0
            for variant, augmented in texts:
                for part in self.preprocessor.split_text(variant):
                    yield {
                        self.id_field_name: item_id,
                        PART_ID_FIELD_NAME: make_part_id(item_id, index),
                        self.item_field_name: part,
                        AUGMENTED_FIELD_NAME: augmented,
                    }
                    index += 1
            skipped += index == 0
        if skipped:
            logger.warning("skipped %d items without text to embed", skipped)
