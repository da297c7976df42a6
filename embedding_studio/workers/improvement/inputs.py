"""From a session marked for improvement to an `ImprovementInput`: which results were
clicked, and the vectors each result starts from (the user's personalised copy when
there is one, else the original)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import torch

from embedding_studio.embeddings.data.clickstream.improvement_input import (
    ImprovementElement,
    ImprovementInput,
)
from embedding_studio.models.clickstream.sessions import SessionWithEvents
from embedding_studio.models.embeddings.objects import Object, ObjectPart


class ObjectSource(Protocol):
    """The parts of a vector collection the worker reads (the blue `Collection`)."""

    def find_by_ids(self, object_ids: list[str], with_vectors: bool = ...) -> list[Object]: ...

    def get_user_copies(self, user_id: str, original_ids: list[str]) -> list[Object]: ...


@dataclass(frozen=True)
class Feedback:
    """A session's shown results split by the user's actions (original object ids)."""

    clicked: list[str]
    non_clicked: list[str]

    @property
    def object_ids(self) -> list[str]:
        return [*self.clicked, *self.non_clicked]


@dataclass(frozen=True)
class StartingVectors:
    """Where one result's adjustment starts.

    :param original: the original object (its payload and meta go to the copy)
    :param parts: the parts to adjust: the user's copy's when it has the original's
        part ids, else the original's
    """

    original: Object
    parts: list[ObjectPart]
    from_copy: bool


def feedback_of(session: SessionWithEvents) -> Feedback:
    """Clicked: the shown results the user acted on (none when the session is marked
    irrelevant); non-clicked: every other shown result, in display order."""
    clicked = [] if session.is_irrelevant else session.clicked_object_ids
    chosen = set(clicked)
    shown = dict.fromkeys(session.result_ids)
    return Feedback(clicked=clicked, non_clicked=[i for i in shown if i not in chosen])


def starting_vectors(
    source: ObjectSource, user_id: str, object_ids: Sequence[str]
) -> dict[str, StartingVectors]:
    """The starting vectors of the objects that still exist, by original id."""
    wanted = list(dict.fromkeys(object_ids))
    originals = {o.object_id: o for o in source.find_by_ids(wanted, with_vectors=True) if o.parts}
    copies = {
        c.original_id: c
        for c in source.get_user_copies(user_id, list(originals))
        if c.original_id is not None
    }
    result = {}
    for object_id, original in originals.items():
        copy = copies.get(object_id)
        usable = copy is not None and _part_ids(copy) == _part_ids(original)
        parts = copy.parts if usable and copy is not None else original.parts
        result[object_id] = StartingVectors(original=original, parts=parts, from_copy=usable)
    return result


def improvement_input(
    session_id: str,
    query_vector: Sequence[float] | torch.Tensor,
    feedback: Feedback,
    vectors: dict[str, StartingVectors],
) -> ImprovementInput:
    """The adjuster's input; results missing from `vectors` (deleted) are left out.
    Element ids are the original object ids."""
    return ImprovementInput(
        session_id=session_id,
        query=ImprovementElement(
            id=session_id, vector=torch.as_tensor(query_vector, dtype=torch.float32).reshape(1, -1)
        ),
        clicked_elements=_elements(feedback.clicked, vectors),
        non_clicked_elements=_elements(feedback.non_clicked, vectors),
    )


def _elements(
    object_ids: list[str], vectors: dict[str, StartingVectors]
) -> list[ImprovementElement]:
    return [
        ImprovementElement(
            id=object_id,
            vector=torch.tensor([part.vector for part in vectors[object_id].parts]),
        )
        for object_id in object_ids
        if object_id in vectors
    ]


def _part_ids(obj: Object) -> list[str]:
    return [part.part_id for part in obj.parts]
