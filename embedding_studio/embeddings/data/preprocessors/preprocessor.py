"""The items preprocessor: item data (text or dict) to model-ready text and parts."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from embedding_studio.embeddings.data.utils.fields_normalizer import (
        DatasetFieldsNormalizer,
    )
    from embedding_studio.embeddings.splitters.dataset_splitter import ItemsSetSplitter


class EmptyItemError(ValueError):
    """An item has no text to embed (empty, whitespace only, or no listed field)."""


class ItemsDatasetDictPreprocessor(ABC):
    """Turns one item's data into the text the model embeds, and into parts.

    A plugin returns it from `get_items_preprocessor()` (usually
    `self.items_set_manager.preprocessor`); the upsertion worker and inference clients
    call it per item, without `datasets`:

    - `convert(item) -> str` and `preprocessor(item) -> str`: item data to text;
    - `split(item) -> list[str]`: `convert`, then the manager's splitter: one or more
      non-empty parts, each within the splitter's token limit (for
      `TokenGroupTextSplitter`, the model's maximum sequence length). Without a splitter
      the whole text is one part (the model truncates it).

    An item without text makes `split` raise `EmptyItemError` (a `ValueError`), so the
    worker records that item as failed with a clear reason instead of storing an empty
    vector.

    Subclasses implement `convert`; `TextItemsDatasetDictPreprocessor` and
    `DictItemsDatasetDictPreprocessor` are the built-in ones.

    :param field_normalizer: names of the item and id fields.
    :param splitter: the manager's items splitter, or None.
    """

    def __init__(
        self,
        field_normalizer: DatasetFieldsNormalizer,
        splitter: ItemsSetSplitter | None = None,
    ) -> None:
        self.field_normalizer = field_normalizer
        self.splitter = splitter

    @abstractmethod
    def convert(self, item: Any) -> str:
        """The text the model embeds for `item`.

        :raises TypeError: if the item's type is not one this preprocessor handles.
        """

    def __call__(self, item: Any) -> str:
        """Same as `convert`: preprocessors are passed around as `Callable[[str|dict], str]`."""
        return self.convert(item)

    def split(self, item: Any) -> list[str]:
        """`convert` the item, then split it into >= 1 non-empty parts.

        :raises EmptyItemError: if the item has no text, so there is no part.
        """
        text = self.convert(item)
        parts = self.split_text(text)
        if not parts:
            raise EmptyItemError(f"item has no text to embed: {_preview(item)}")
        return parts

    def split_text(self, text: str) -> list[str]:
        """Split already converted text; `[]` when it has no content."""
        if self.splitter is None:
            return [text] if text.strip() else []
        return self.splitter.split_item(text)

    def get_id_field_name(self) -> str:
        """The normalized id column name (`"item_id"`)."""
        return self.field_normalizer.ID_FIELD_NAME

    def get_item_field_name(self) -> str:
        """The normalized item column name (`"item"`)."""
        return self.field_normalizer.ITEM_FIELD_NAME


def _preview(item: Any) -> str:
    text = repr(item)
    return text if len(text) <= 80 else f"{text[:77]}..."
