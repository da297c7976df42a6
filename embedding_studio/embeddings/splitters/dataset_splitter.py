"""Apply an item splitter to single items or to a whole items dataset."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datasets import Dataset

PART_ID_FIELD_NAME = "part_id"


def make_part_id(item_id: str, index: int) -> str:
    """The id of the `index`-th part (0-based) of item `item_id`: `"<item_id>:<index>"`."""
    return f"{item_id}:{index}"


class ItemsSetSplitter:
    """Splits items into parts with an item splitter, for embedding and for training.

    Long items lose information when the model truncates them; splitting them into parts
    (each embedded separately, then aggregated per item by the vector collection) keeps
    it all. Usually wraps a `TokenGroupTextSplitter`.

    :param splitter: callable `item -> list[str]` (an `ItemSplitter`).

    Example::

        ItemsSetSplitter(TokenGroupTextSplitter(tokenizer, DummySentenceSplitter(), 256))
    """

    def __init__(self, splitter: Callable[[Any], list[str]]) -> None:
        self.splitter = splitter

    @property
    def item_splitter(self) -> Callable[[Any], list[str]]:
        """The wrapped item splitter (the reference API's name for `splitter`)."""
        return self.splitter

    def split_item(self, item: Any) -> list[str]:
        """The non-empty parts of one item, in order (`[]` if it has no content)."""
        return [part for part in self.splitter(item) if part.strip()]

    def split_dataset(
        self,
        dataset: Dataset,
        item_field_name: str = "item",
        id_field_name: str = "item_id",
    ) -> Dataset:
        """One row per part: `{id_field_name, "part_id", item_field_name}`.

        `part_id` is `make_part_id(item_id, index)`. Other columns are dropped; items
        without content give no rows.
        """
        from datasets import Dataset

        rows = list(self._part_rows(dataset, item_field_name, id_field_name))
        if not rows:
            return Dataset.from_dict(
                {id_field_name: [], PART_ID_FIELD_NAME: [], item_field_name: []}
            )
        return Dataset.from_list(rows)

    def _part_rows(
        self, dataset: Dataset, item_field_name: str, id_field_name: str
    ) -> Iterator[dict[str, str]]:
        for row in dataset:
            item_id = str(row[id_field_name])
            for index, part in enumerate(self.split_item(row[item_field_name])):
                yield {
                    id_field_name: item_id,
                    PART_ID_FIELD_NAME: make_part_id(item_id, index),
                    item_field_name: part,
                }
