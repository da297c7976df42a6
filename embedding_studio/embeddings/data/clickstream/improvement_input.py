"""What the improvement worker hands a `VectorsAdjuster`: one search session's query
vector and the vectors of the results the user clicked and did not click."""

from __future__ import annotations

import torch
from pydantic import BaseModel, ConfigDict, field_validator


class ImprovementElement(BaseModel):
    """One vectorised thing taking part in an adjustment: a query or a result object.

    :param id: the object id (for a result: the id of the object whose vectors these
        are, a personalised copy's id where the user already has one; for the query:
        the session's query id)
    :param vector: float tensor `[M, D]`, one row per part (chunk) of the object, or
        `[D]` for a single vector; `D` is the collection's dimensions
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    id: str
    vector: torch.Tensor

    @field_validator("vector")
    @classmethod
    def _check_vector(cls, value: torch.Tensor) -> torch.Tensor:
        if value.ndim not in (1, 2):
            raise ValueError(f"vector must have shape [D] or [M, D]; got {tuple(value.shape)}")
        if value.shape[-1] == 0 or (value.ndim == 2 and value.shape[0] == 0):
            raise ValueError(f"vector must not be empty; got {tuple(value.shape)}")
        if not value.is_floating_point():
            raise ValueError(f"vector must be a float tensor; got {value.dtype}")
        return value

    @property
    def parts(self) -> torch.Tensor:
        """The vector as `[M, D]` (a `[D]` vector is one part)."""
        return self.vector if self.vector.ndim == 2 else self.vector.unsqueeze(0)


class ImprovementInput(BaseModel):
    """One session's feedback: its query, and its shown results split by whether the
    user clicked them.

    Adjusters read `query.vector` (`[N1, D]` or `[D]`) and `vector` (`[M, D]`) of each
    element of `clicked_elements` and `non_clicked_elements`; the number of parts `M`
    may differ from one element to the next. Adjusters return new inputs with the
    adjusted element vectors; the worker stores those as the user's personalised copies.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    session_id: str
    query: ImprovementElement
    clicked_elements: list[ImprovementElement]
    non_clicked_elements: list[ImprovementElement]
