"""Item set manager for text items."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from embedding_studio.embeddings.data.items.manager import ItemSetManager
from embedding_studio.embeddings.data.preprocessors.text_items_preprocessor import (
    TextItemsDatasetDictPreprocessor,
)

if TYPE_CHECKING:
    from embedding_studio.embeddings.augmentations.items_set_augmentation_applier import (
        ItemsSetAugmentationApplier,
    )
    from embedding_studio.embeddings.data.utils.fields_normalizer import (
        DatasetFieldsNormalizer,
    )
    from embedding_studio.embeddings.splitters.dataset_splitter import ItemsSetSplitter


class TextItemSetManager(ItemSetManager):
    """Prepares text items for a text-to-text model: per item through `.preprocessor`
    (`convert`, `split`), and for training through `.preprocess(dataset)` (see
    `ItemSetManager`).

    :param field_normalizer: a `DatasetFieldsNormalizer` naming the loader's item and id
        fields.
    :param items_set_splitter: e.g. `ItemsSetSplitter(TokenGroupTextSplitter(tokenizer,
        DummySentenceSplitter(), max_tokens=...))` to keep every part within the model's
        maximum sequence length; None embeds each item whole.
    :param augmenter: e.g. `ItemsSetAugmentationApplier(AugmentationsComposition(
        [ChangeCases(5), Misspellings(5)]))`; used for training only.
    :param do_augment_test: also augment the test split.

    Example (seed tutorial, step 5)::

        TextItemSetManager(
            DatasetFieldsNormalizer("item", "item_id"),
            items_set_splitter=ItemsSetSplitter(
                TokenGroupTextSplitter(
                    tokenizer=AutoTokenizer.from_pretrained(model_name),
                    blocks_splitter=DummySentenceSplitter(),
                    max_tokens=512,
                )
            ),
            augmenter=ItemsSetAugmentationApplier(
                AugmentationsComposition([ChangeCases(5), Misspellings(5)])
            ),
            do_augment_test=False,
        )
    """

    def __init__(
        self,
        field_normalizer: DatasetFieldsNormalizer,
        items_set_splitter: ItemsSetSplitter | None = None,
        augmenter: ItemsSetAugmentationApplier | Callable[[Any], list[Any]] | None = None,
        do_augment_test: bool = False,
    ) -> None:
        super().__init__(
            TextItemsDatasetDictPreprocessor(field_normalizer),
            items_set_splitter=items_set_splitter,
            augmenter=augmenter,
            do_augment_test=do_augment_test,
        )
