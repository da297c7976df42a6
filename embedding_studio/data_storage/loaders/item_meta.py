"""What identifies an item in its source: the base of every loader's item metadata."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator, model_validator


class ItemMeta(BaseModel):
    """Where an item lives and how it is known to Embedding Studio.

    `id` is the item's identity everywhere (vector collections, clickstream, failures):
    `object_id` when given, otherwise `derived_id`, which a source builds from its own key
    (an S3 meta derives `"bucket/file"`, a local file meta its path). `payload` is stored
    with the item's vectors and can be filtered on in search. `source_name` picks the
    loader inside an `AggregatedDataLoader`.

    A subclass whose items can be named without an `object_id` overrides `derived_id`.
    A meta from which no id can be made is refused at construction (`ValueError`).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    object_id: str | None = None
    payload: dict[str, Any] | None = None
    source_name: str | None = None

    @field_validator("object_id", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        # Integer primary keys are common; they are compared as text everywhere.
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value

    @model_validator(mode="after")
    def _has_an_id(self) -> ItemMeta:
        if not self.id:
            raise ValueError(f"{type(self).__name__} needs an object_id (or a source key)")
        return self

    @property
    def derived_id(self) -> str | None:
        """The id made from the source key when `object_id` is not given; None if none."""
        return None

    @property
    def id(self) -> str:
        """`object_id` if set, else `derived_id`."""
        return self.object_id or self.derived_id or ""

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.id))
