"""What a vector collection stores and returns: objects split into parts, each part with a vector.

An object (an item of content) is split into parts (chunks); every part has its own vector.
The distance of an object to a query aggregates the distances of its parts (MIN or AVG, per
the plugin's `SearchIndexInfo`). A personalised copy of an object belongs to one user: it has
`user_id` and `original_id` set and its id is `personalised_object_id(original_id, user_id)`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_validator


def personalised_object_id(original_id: str, user_id: str) -> str:
    """The id of `user_id`'s personalised copy of the object `original_id`."""
    return f"{original_id}_{user_id}"


class ObjectPart(BaseModel):
    """One part (chunk) of an object and its vector.

    :param part_id: unique within its object
    :param vector: the part's embedding; its length must equal the collection's dimensions
        (empty when the object was read with `with_vectors=False`)
    :param is_average: marks a part whose vector is the mean of the object's other parts;
        stored and returned as given, and searched like any other part
    """

    part_id: str = Field(..., min_length=1, max_length=1024)
    vector: list[float]
    is_average: bool = False


class Object(BaseModel):
    """An object of a collection: its parts, the payload filters run on, and storage meta.

    :param object_id: unique within the collection
    :param parts: at least one part to be searchable
    :param payload: JSON object the payload filters and sort fields read
    :param storage_meta: where the item came from (data loader meta), returned as stored
    :param user_id: set (with `original_id`) only on a user's personalised copy
    :param original_id: the object this copy personalises
    """

    object_id: str = Field(..., min_length=1, max_length=1024)
    parts: list[ObjectPart]
    payload: dict[str, Any] | None = None
    storage_meta: dict[str, Any] = Field(default_factory=dict)
    user_id: str | None = Field(None, min_length=1, max_length=256)
    original_id: str | None = Field(None, min_length=1, max_length=1024)

    @model_validator(mode="after")
    def _copy_fields_together(self) -> Object:
        if (self.user_id is None) != (self.original_id is None):
            raise ValueError(
                f"object {self.object_id!r}: set both user_id and original_id "
                "(a personalised copy) or neither (an original)"
            )
        return self

    @property
    def is_personalised(self) -> bool:
        return self.user_id is not None


class SearchResultItem(BaseModel):
    """One found object. For a personalised copy, `object_id` is the ORIGINAL object's id.

    :param distance: the aggregated distance (smaller is closer): cosine distance, negative
        inner product or L2 distance per the collection's metric; 0 for payload-only search
    :param vectors: the vectors of the object's parts when asked for, else None
    :param score: with hybrid search or boosts, the fused and boosted score results are
        ordered by (larger is better; see models.embeddings.ranking); else None
    """

    object_id: str
    distance: float
    payload: dict[str, Any] | None = None
    storage_meta: dict[str, Any] = Field(default_factory=dict)
    vectors: list[list[float]] | None = None
    score: float | None = None


class SearchResults(BaseModel):
    """A page of results. `next_offset` is `offset + limit` when more results exist, else None."""

    found_objects: list[SearchResultItem]
    next_offset: int | None = None
    total_count: int | None = None


class ObjectWithDistance(Object):
    """An object found by a similarity search, with its aggregated distance to the query
    (what category selectors receive). `id` is `object_id`; `parts` carry the vectors
    when the search was asked for them, else they are empty.

    :param distance: cosine distance, negative inner product or L2 distance, per the
        collection's metric (smaller is closer)
    """

    distance: float

    @property
    def id(self) -> str:
        return self.object_id

    @classmethod
    def from_search_result(cls, item: SearchResultItem) -> ObjectWithDistance:
        parts = [
            ObjectPart(part_id=f"{item.object_id}:{index}", vector=vector)
            for index, vector in enumerate(item.vectors or [])
        ]
        return cls(
            object_id=item.object_id,
            distance=item.distance,
            payload=item.payload,
            storage_meta=item.storage_meta,
            parts=parts,
        )
