"""From adjusted improvement inputs to a user's personalised copies of the objects."""

from __future__ import annotations

from embedding_studio.embeddings.data.clickstream.improvement_input import (
    ImprovementElement,
    ImprovementInput,
)
from embedding_studio.models.embeddings.objects import Object, ObjectPart, personalised_object_id
from embedding_studio.workers.improvement.inputs import StartingVectors


def personalised_copies(
    adjusted: ImprovementInput, user_id: str, vectors: dict[str, StartingVectors]
) -> list[Object]:
    """One copy per adjusted element, with id `{original_id}_{user_id}`, the original's
    payload and storage meta, and the adjusted vectors on the starting parts' ids.

    :raises ValueError: when an element is unknown or its number of parts changed
    """
    elements = [*adjusted.clicked_elements, *adjusted.non_clicked_elements]
    return [_copy(element, user_id, vectors) for element in elements]


def _copy(element: ImprovementElement, user_id: str, vectors: dict[str, StartingVectors]) -> Object:
    start = vectors.get(element.id)
    if start is None:
        raise ValueError(f"the adjuster returned an unknown object {element.id!r}")
    rows = element.parts.tolist()
    if len(rows) != len(start.parts):
        raise ValueError(
            f"the adjuster returned {len(rows)} parts for {element.id!r}; "
            f"expected {len(start.parts)}"
        )
    original = start.original
    return Object(
        object_id=personalised_object_id(original.object_id, user_id),
        parts=[
            ObjectPart(part_id=part.part_id, vector=row, is_average=part.is_average)
            for part, row in zip(start.parts, rows, strict=True)
        ],
        payload=original.payload,
        storage_meta=original.storage_meta,
        user_id=user_id,
        original_id=original.object_id,
    )
