"""Preprocessor of dict items."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from embedding_studio.embeddings.data.preprocessors.preprocessor import (
    ItemsDatasetDictPreprocessor,
)
from embedding_studio.embeddings.data.transforms.dict.line_from_dict import (
    get_json_line_from_dict,
)

if TYPE_CHECKING:
    from embedding_studio.embeddings.data.utils.fields_normalizer import (
        DatasetFieldsNormalizer,
    )
    from embedding_studio.embeddings.splitters.dataset_splitter import ItemsSetSplitter


class DictItemsDatasetDictPreprocessor(ItemsDatasetDictPreprocessor):
    """Preprocessor for dict items: `transform(item)` makes the text.

    Made by `DictItemSetManager`; see `ItemsDatasetDictPreprocessor` for the contract.
    A string item is taken as a JSON object and parsed first; text that is not a JSON
    object is refused.

    :param field_normalizer: names of the item and id fields.
    :param transform: dict -> text; `get_json_line_from_dict` by default (pair it with
        `JSONSplitter` to split by field).
    :param splitter: the manager's items splitter, or None.
    """

    def __init__(
        self,
        field_normalizer: DatasetFieldsNormalizer,
        transform: Callable[[dict], str] = get_json_line_from_dict,
        splitter: ItemsSetSplitter | None = None,
    ) -> None:
        super().__init__(field_normalizer, splitter)
        self.transform = transform

    def convert(self, item: Any) -> str:
        """`transform(item)`.

        :raises TypeError: if the item is not a dict (or a JSON object string), or if
            `transform` does not return a string.
        """
        data = _as_dict(item)
        text = self.transform(data)
        if not isinstance(text, str):
            raise TypeError(f"transform must return str, got {type(text).__name__}")
        return text


def _as_dict(item: Any) -> dict:
    if isinstance(item, Mapping):
        return dict(item)
    if isinstance(item, str | bytes):
        try:
            data = json.loads(item)
        except json.JSONDecodeError:
            data = None
        if isinstance(data, dict):
            return data
    raise TypeError(
        f"dict items must be dicts or JSON object strings, got {type(item).__name__}; "
        "use TextItemSetManager for text items"
    )
