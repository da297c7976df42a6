"""Rename a loader's item and id fields to the names the training code expects."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from datasets import Dataset, DatasetDict

DatasetT = TypeVar("DatasetT", "Dataset", "DatasetDict")


class DatasetFieldsNormalizer:
    """Unifies column names of items data: the loader's item column becomes `"item"` and
    its id column becomes `"item_id"` (as strings, matching clickstream ids).

    :param item_field_name: the loader's column holding the item (text or dict).
    :param id_field_name: the loader's column holding the item id.
    :raises ValueError: if a name is empty.

    Example::

        normalizer = DatasetFieldsNormalizer("item", "item_id")   # the seed plugins' names
        DatasetFieldsNormalizer("content", "doc_id")(dataset)       # columns renamed
    """

    ITEM_FIELD_NAME = "item"
    ID_FIELD_NAME = "item_id"

    def __init__(self, item_field_name: str, id_field_name: str) -> None:
        if not item_field_name:
            raise ValueError("item_field_name should be a non-empty string")
        if not id_field_name:
            raise ValueError("id_field_name should be a non-empty string")
        self.item_field_name = item_field_name
        self.id_field_name = id_field_name

    def normalize_record(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """`{"item": ..., "item_id": "<str>"}` from one loader record (other keys dropped).

        :raises KeyError: if the record lacks the item or id field.
        """
        for name in (self.item_field_name, self.id_field_name):
            if name not in record:
                raise KeyError(f"record has no field {name!r}; fields: {sorted(record)}")
        return {
            self.ITEM_FIELD_NAME: record[self.item_field_name],
            self.ID_FIELD_NAME: _id_text(record[self.id_field_name]),
        }

    def __call__(self, dataset: DatasetT) -> DatasetT:
        """Rename the columns of a `Dataset`, or of every split of a `DatasetDict`, and
        cast ids to strings. Other columns are kept.

        :raises ValueError: if a source column is missing, or a target name is already
            taken by another column.
        """
        from datasets import DatasetDict

        if isinstance(dataset, DatasetDict):
            return DatasetDict({name: self._normalize(split) for name, split in dataset.items()})
        return self._normalize(dataset)

    def _normalize(self, dataset: Dataset) -> Dataset:
        from datasets import Value

        renames = {
            self.item_field_name: self.ITEM_FIELD_NAME,
            self.id_field_name: self.ID_FIELD_NAME,
        }
        columns = list(dataset.column_names)
        for source, target in renames.items():
            if source not in columns:
                raise ValueError(f"items dataset has no column {source!r}; columns: {columns}")
            if source != target and target in columns:
                raise ValueError(
                    f"cannot rename {source!r} to {target!r}: the dataset already has a "
                    f"{target!r} column"
                )
        dataset = dataset.rename_columns({s: t for s, t in renames.items() if s != t})
        if dataset.features[self.ID_FIELD_NAME] != Value("string"):
            dataset = dataset.cast_column(self.ID_FIELD_NAME, Value("string"))
        return dataset


def _id_text(value: Any) -> str:
    """Ids as strings; 0-d tensors and numpy scalars by their Python value."""
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, str | bytes):
        try:
            value = item()
        except (TypeError, ValueError):
            pass
    return str(value)
