"""Preprocessor of text items."""

from __future__ import annotations

from typing import Any

from embedding_studio.embeddings.data.preprocessors.preprocessor import (
    ItemsDatasetDictPreprocessor,
)


class TextItemsDatasetDictPreprocessor(ItemsDatasetDictPreprocessor):
    """Preprocessor for text items: the item is the text (bytes are decoded as UTF-8).

    Made by `TextItemSetManager`; see `ItemsDatasetDictPreprocessor` for the contract.
    A dict item is refused with a `TypeError` pointing to `DictItemSetManager`.
    """

    def convert(self, item: Any) -> str:
        """The item's text, unchanged.

        :raises TypeError: if the item is neither `str` nor `bytes`.
        :raises UnicodeDecodeError: if bytes are not UTF-8.
        """
        if isinstance(item, str):
            return item
        if isinstance(item, bytes):
            return item.decode("utf-8")
        raise TypeError(
            f"text items must be str, got {type(item).__name__}; "
            "use DictItemSetManager for dict items"
        )
