"""Item set manager for dict (JSON) items."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from embedding_studio.embeddings.data.items.manager import ItemSetManager
from embedding_studio.embeddings.data.preprocessors.dict_items_preprocessor import (
    DictItemsDatasetDictPreprocessor,
)
from embedding_studio.embeddings.data.transforms.dict.line_from_dict import (
    get_json_line_from_dict,
)

if TYPE_CHECKING:
    from embedding_studio.embeddings.augmentations.items_set_augmentation_applier import (
        ItemsSetAugmentationApplier,
    )
    from embedding_studio.embeddings.data.utils.fields_normalizer import (
        DatasetFieldsNormalizer,
    )
    from embedding_studio.embeddings.splitters.dataset_splitter import ItemsSetSplitter


class DictItemSetManager(ItemSetManager):
    """Prepares dict items (several fields per item) for a text-to-text model.

    `transform` turns each dict into one text (`get_json_line_from_dict` by default:
    a one-line JSON object); the splitter then cuts that text into parts, typically by
    field with `JSONSplitter` inside a `TokenGroupTextSplitter`. Per item use
    `.preprocessor` (`convert`, `split`); for training `.preprocess(dataset)` (see
    `ItemSetManager`). Augmentations apply to the transformed text.

    :param field_normalizer: a `DatasetFieldsNormalizer` naming the loader's item (the
        dict) and id fields.
    :param items_set_splitter: e.g. `ItemsSetSplitter(TokenGroupTextSplitter(tokenizer,
        JSONSplitter(field_names=["title", "description"]), max_tokens=...))`.
    :param augmenter: an `ItemsSetAugmentationApplier`; used for training only.
    :param do_augment_test: also augment the test split.
    :param transform: dict -> text (None means `get_json_line_from_dict`).

    Example (seed 000)::

        DictItemSetManager(
            DatasetFieldsNormalizer("item", "item_id"),
            items_set_splitter=ItemsSetSplitter(
                TokenGroupTextSplitter(
                    tokenizer=AutoTokenizer.from_pretrained(model_name),
                    blocks_splitter=JSONSplitter(field_names=["title", "description", "tags"]),
                    max_tokens=512,
                )
            ),
            transform=get_json_line_from_dict,
        )
    """

    def __init__(
        self,
        field_normalizer: DatasetFieldsNormalizer,
        items_set_splitter: ItemsSetSplitter | None = None,
        augmenter: ItemsSetAugmentationApplier | Callable[[Any], list[Any]] | None = None,
        do_augment_test: bool = False,
        transform: Callable[[dict], str] | None = get_json_line_from_dict,
    ) -> None:
        transform = transform or get_json_line_from_dict
        self.transform = transform
        super().__init__(
            DictItemsDatasetDictPreprocessor(field_normalizer, transform),
            items_set_splitter=items_set_splitter,
            augmenter=augmenter,
            do_augment_test=do_augment_test,
        )
